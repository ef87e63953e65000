-- paperd schema, version 1. Only the persister writes here. Money and quantities are numeric;
-- event times (ts, opened_at, …) come from messages; *_at columns named recorded_at/updated_at are
-- the database's own clock. Every table has a natural unique key so redeliveries are harmless.

create table accounts (
  id            text primary key,
  starting_cash numeric not null,
  recorded_at   timestamptz not null default now()
);

create table portfolio_state (
  account        text primary key,
  cash           numeric not null,
  equity         numeric not null,
  realized_pnl   numeric not null,
  unrealized_pnl numeric not null,
  peak_equity    numeric not null,
  drawdown       numeric not null,
  trade_count    integer not null,
  winning_trades integer not null,
  open_positions integer not null,
  seq            bigint not null,            -- version of the books it reflects (sequence guard)
  ts             timestamptz not null,       -- event time of that version
  message_id     text not null,
  updated_at     timestamptz not null default now()
);

create table portfolio_history (
  id             text primary key,           -- message id
  account        text not null,
  ts             timestamptz not null,
  seq            bigint not null,
  cash           numeric not null,
  equity         numeric not null,
  realized_pnl   numeric not null,
  unrealized_pnl numeric not null,
  drawdown       numeric not null
);
create index portfolio_history_account_ts on portfolio_history (account, ts);

create table positions (
  position_id    text primary key,
  account        text not null,
  symbol         text not null,
  side           text not null check (side in ('long', 'short')),
  qty            numeric not null,
  avg_price      numeric not null,
  realized_pnl   numeric not null,
  status         text not null check (status in ('open', 'closed')),
  exit_reason    text,
  opened_at      timestamptz not null,
  closed_at      timestamptz,
  seq            bigint not null,
  updated_at     timestamptz not null default now()
);
create index positions_account_status on positions (account, status);

create table trades (
  trade_id         text primary key,         -- the fill's message id
  account          text not null,
  strategy_id      text not null,
  symbol           text not null,
  side             text not null check (side in ('buy', 'sell')),
  qty              numeric not null,
  price            numeric not null,
  commission       numeric not null,
  ts               timestamptz not null,     -- time of the bar it filled on
  intent           text not null,
  position_id      text not null,
  order_id         text not null,
  idea_id          text not null,
  fill_model       jsonb not null,
  ng_score         numeric,
  ng_multiplier    numeric,
  brier_adjustment numeric,
  dpi_enhancement  numeric,
  is_simulation    boolean not null default true,
  recorded_at      timestamptz not null default now()
);
create index trades_account_ts on trades (account, ts);

create table orders (
  -- Filled from trade.order, trade.order_status and trade.fill, whichever arrives first: columns a
  -- later message lacks are kept (coalesce), and the status only moves forward (status_rank).
  order_id     text primary key,
  account      text not null,
  idea_id      text,
  strategy_id  text,
  symbol       text,
  side         text,
  intent       text,
  qty          numeric,
  order_type   text,
  ref_price    numeric,
  status       text not null check (status in ('working', 'filled', 'rejected', 'cancelled')),
  status_rank  smallint not null,            -- working 0 < final 1: a late "working" never undoes a fill
  reason       text,
  ts           timestamptz,                  -- bar time of the signal
  updated_at   timestamptz not null default now()
);

create table trade_ideas (
  id           text primary key,
  account      text not null,
  strategy_id  text not null,
  symbol       text not null,
  side         text not null,
  intent       text not null,
  qty          numeric not null,
  confidence   numeric not null,
  status       text not null check (status in ('waiting', 'needs_approval', 'auto_executed', 'rejected', 'halted_by_risk')),
  status_rank  smallint not null,            -- waiting 0 < needs_approval 1 < final 2
  reason       text,
  ts           timestamptz not null,         -- bar time of the signal
  updated_at   timestamptz not null default now()
);
create index trade_ideas_account_status on trade_ideas (account, status);

create table decision_history (
  id                text primary key,        -- append-only audit trail
  occurred_at       timestamptz not null,    -- event time (bar time of the idea)
  account           text not null,
  symbol            text not null,
  action            text not null check (action in ('ai_proposed', 'ai_auto_executed', 'human_approved', 'human_rejected', 'risk_rejected', 'ai_halted', 'ai_resumed')),
  status            text not null,
  risk_check_result text not null,
  rationale         text not null,
  idea_id           text,
  strategy_id       text,
  causation_id      text not null,
  correlation_id    text not null,
  human_override    boolean not null,
  requested_by      text,
  recorded_at       timestamptz not null default now()
);
create index decision_history_account_time on decision_history (account, occurred_at);

create table snapshot_market (
  symbol    text not null,
  timeframe text not null,
  ts        timestamptz not null,
  open      numeric not null,
  high      numeric not null,
  low       numeric not null,
  close     numeric not null,
  volume    numeric not null,
  primary key (symbol, timeframe, ts)
);

create table snapshot_indicators (
  symbol    text not null,
  timeframe text not null,
  ts        timestamptz not null,
  values    jsonb not null,
  primary key (symbol, timeframe, ts)
);

create table dead_letters (
  id            text primary key,
  actor         text not null,
  reason        text not null,
  subject       text not null,
  stream        text not null,
  stream_seq    bigint not null,
  deliveries    integer not null,
  msg_id        text,
  payload       text not null,
  payload_bytes integer not null,
  ts            timestamptz not null,         -- when the refused message was stored
  recorded_at   timestamptz not null default now()
);
create index dead_letters_actor_time on dead_letters (actor, ts);

-- The persister's position in each stream, committed in the same transaction as the rows.
create table consumer_offsets (
  consumer   text not null,
  stream     text not null,
  stream_seq bigint not null,
  updated_at timestamptz not null default now(),
  primary key (consumer, stream)
);
