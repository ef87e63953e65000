-- Issue 16: the records the Blueprint asks for. An idea keeps what its message said — the price it
-- would enter at, its stop and target at the signal close, its rationale (`reason` becomes the
-- status's reason as the idea is decided) and the bar it came from; a decision keeps the idea's
-- confidence.
alter table trade_ideas add column entry_price numeric;
alter table trade_ideas add column stop_price numeric;
alter table trade_ideas add column take_profit_price numeric;
alter table trade_ideas add column rationale text;
alter table trade_ideas add column timeframe text;
alter table trade_ideas add column bar_id text;
alter table trade_ideas add column bar_seq bigint;
alter table decision_history add column confidence numeric;
