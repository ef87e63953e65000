-- Issue 5: decisions about the account itself (a halt, a resume) have no idea, symbol or status;
-- the risk config and halt state as the risk gate applies them, changed at runtime over ctl.risk.*.
alter table decision_history alter column symbol drop not null;
alter table decision_history alter column status drop not null;

create table risk_config (
  account          text primary key,
  risk             jsonb not null,
  halted           boolean not null,
  last_halt_reason text,
  updated_by       text not null,
  version          integer not null,               -- only moves forward
  ts               timestamptz not null,           -- bar time of the change
  updated_at       timestamptz not null default now()
);

-- Every change of an account's risk config or halt state, who made it, append-only.
create table risk_config_history (
  id               text primary key,               -- the trade.risk_state message id
  account          text not null,
  version          integer not null,
  risk             jsonb not null,
  halted           boolean not null,
  last_halt_reason text,
  updated_by       text not null,
  ts               timestamptz not null,
  recorded_at      timestamptz not null default now()
);
create index risk_config_history_account on risk_config_history (account, version);
