-- Issue 13: the executor's equity points are exact whatever the interleaving. A point may be
-- published in several versions (a fill that reached the executor after bars it had marked makes it
-- value the account again from there on): per point id, the version with the highest
-- (orders_seq, seq) is kept; and a point is withdrawn when a later fold of the account covers its
-- position with more orders known (`portfolio_supersessions`) without publishing it again — a
-- position a late exit closed holds nothing on the bars after it. `equity_points` is the curve that
-- stands; what reads the curve reads it.
alter table portfolio_history add column fold_seq bigint;                        -- 4 × MD sequence + phase
alter table portfolio_history add column orders_seq bigint not null default 0;   -- orders known
alter table portfolio_history add column supersedes_from bigint;
-- The account's latest point: of the newest knowledge, the last in the fold (a fold publishing part
-- of the curve again, after a restart, may come with a smaller books version than a point before).
alter table portfolio_state add column orders_seq bigint not null default 0;
alter table portfolio_state add column fold_seq bigint;

create table portfolio_supersessions (
  account        text not null,
  from_fold_seq  bigint not null,
  orders_seq     bigint not null,
  recorded_at    timestamptz not null default now(),
  primary key (account, from_fold_seq, orders_seq)
);

create view equity_points as
select h.* from portfolio_history h
where h.fold_seq is null or not exists (
  select 1 from portfolio_supersessions s
  where s.account = h.account and s.from_fold_seq <= h.fold_seq and s.orders_seq > h.orders_seq
);

-- The daily view over the points that stand, the end of a day being the last point in the fold.
drop view performance_metrics;
create view performance_metrics as
with days as (
  select account, (ts at time zone 'UTC')::date as day,
    (array_agg(equity order by ts desc, fold_seq desc nulls last, seq desc))[1] as equity
  from equity_points
  group by account, (ts at time zone 'UTC')::date
), returns as (
  select d.account, d.day, d.equity, a.starting_cash,
    d.equity / nullif(coalesce(lag(d.equity) over w, a.starting_cash), 0) - 1 as daily_return,
    max(d.equity) over (w rows unbounded preceding) as peak
  from days d join accounts a on a.id = d.account
  window w as (partition by d.account order by d.day)
), running as (
  select r.*,
    avg(daily_return) over c as mean_return,
    stddev_samp(daily_return) over c as sd_return,
    sqrt(avg(power(least(daily_return, 0), 2)) over c) as downside,
    max(1 - equity / nullif(peak, 0)) over c as max_drawdown
  from returns r
  window c as (partition by account order by day rows unbounded preceding)
), closes as (
  select account, (closed_at at time zone 'UTC')::date as day, count(*) as n,
    count(*) filter (where realized_pnl > 0) as won,
    coalesce(sum(realized_pnl) filter (where realized_pnl > 0), 0) as gains,
    coalesce(-sum(realized_pnl) filter (where realized_pnl < 0), 0) as losses
  from positions where status = 'closed' group by account, (closed_at at time zone 'UTC')::date
)
select r.account, r.day, r.equity, r.daily_return,
  r.equity / r.starting_cash - 1 as total_return,
  case when r.sd_return > 0 then r.mean_return / r.sd_return * sqrt(252) end as sharpe,
  case when r.downside > 0 then r.mean_return / r.downside * sqrt(252) end as sortino,
  r.max_drawdown,
  c.won::numeric / nullif(c.n, 0) as win_rate,
  c.gains / nullif(c.losses, 0) as profit_factor,
  coalesce(c.n, 0) as trades
from running r
left join lateral (
  select sum(n) as n, sum(won) as won, sum(gains) as gains, sum(losses) as losses
  from closes where closes.account = r.account and closes.day <= r.day
) c on true;
