-- Issue 3: the whole strategy language, Phase-5 metrics, the Gayed consensus, snapshot retention.

-- An idea sized by the risk gate (pct_equity, risk_pct, Phase-5) or an exit of the whole position
-- has no quantity until the gate decides; its status carries the quantity it was sized to.
alter table trade_ideas alter column qty drop not null;
alter table trade_ideas add column order_type text;
alter table trade_ideas add column exit_reason text;

alter table trades add column exit_reason text;

alter table positions add column stop_price numeric;
alter table positions add column target_price numeric;

alter table orders add column exit_reason text;

-- Phase-5 health per account (SPEC 5.5): at each position close and on the first portfolio of a day.
create table phase5_metrics (
  id                  text primary key,
  account             text not null,
  ts                  timestamptz not null,      -- bar time of the message that triggered it
  trigger             text not null check (trigger in ('position_closed', 'daily')),
  brier_score         numeric not null,
  prediction_count    integer not null,
  recent_accuracy     numeric not null,
  ng_signal_count     integer not null,
  avg_ng_score        numeric not null,
  high_ng_trades      integer not null,
  dpi_regime          text,
  avg_dpi_enhancement numeric not null,
  health_status       text not null check (health_status in ('healthy', 'warning', 'critical')),
  recorded_at         timestamptz not null default now()
);
create index phase5_metrics_account_ts on phase5_metrics (account, ts);

-- The state of a multi-symbol strategy (Gayed consensus) after each complete day.
create table strategy_signals (
  id              text primary key,
  account         text not null,
  strategy_id     text not null,
  ts              timestamptz not null,
  consensus       text not null check (consensus in ('Risk-On', 'Risk-Off', 'Mixed')),
  confidence      numeric not null,
  risk_on_weight  numeric not null,
  risk_off_weight numeric not null,
  holding         text,
  signals         jsonb not null,               -- [{name, signal, value, strength, confidence}]
  recorded_at     timestamptz not null default now()
);
create index strategy_signals_strategy_ts on strategy_signals (strategy_id, ts);
