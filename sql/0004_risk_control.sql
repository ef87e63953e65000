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
