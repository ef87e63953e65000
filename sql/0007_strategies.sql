-- Issue 16: strategies defined at runtime (ctl.strategies.put/delete), every version kept: the
-- definition as put (config-file syntax; null once deleted), who changed it and the bar time the
-- account's books had reached. Written by the persister from trade.strategy; append-only.
create table strategies (
  strategy_id  text not null,
  version      integer not null,
  account      text not null,
  action       text not null,                  -- put | delete
  definition   jsonb,
  updated_by   text not null,
  ts           timestamptz not null,
  message_id   text not null,
  recorded_at  timestamptz not null default now(),
  primary key (strategy_id, version)
);

-- The runtime strategies in force: each one's latest version, unless that deleted it.
create view strategies_current as
select strategy_id, version, account, definition, updated_by, ts
from (
  select distinct on (strategy_id) strategy_id, version, account, action, definition, updated_by, ts
  from strategies
  order by strategy_id, version desc
) latest
where action = 'put';
