-- Issue 16: daily performance per account, from the books the persister keeps: the equity at the
-- end of each bar-time (UTC) day, and to date its return, Sharpe and Sortino (daily returns,
-- annualised by √252), max drawdown, and the win rate and profit factor of the positions closed.
-- A view: it is always what portfolio_history and positions say, and nothing writes it.
-- The books' versions (seq) follow the executor's processing: a point written before a later one
-- that is dated no later (an order that reached the executor after bars it had marked: its fill
-- lands at its own bar) is superseded — its marks lacked that fill — and left out.
create view performance_metrics as
with versions as (
  select account, ts, seq, equity,
    min(ts) over (partition by account order by seq desc rows between unbounded preceding and 1 preceding) as rewritten_from
  from portfolio_history
), days as (
  select account, (ts at time zone 'UTC')::date as day, (array_agg(equity order by ts desc, seq desc))[1] as equity
  from versions where rewritten_from is null or ts < rewritten_from
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
