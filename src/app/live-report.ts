// `paperd report --account A`: the backtest's report for a live account, read from Postgres — the
// fills (`trades`), the books over time (`equity_points`, the points of `portfolio_history` that stand), the positions and the bars of the
// symbols it traded (`snapshot_market`) — so the same numbers and the same page come out of both.
import type { Sql } from 'postgres'
import type { BacktestInput } from './backtest.js'
import type { ReportAccount, ReportRun } from './backtest-report.js'

interface LiveRun {
  run: ReportRun
  account: ReportAccount
  inputs: BacktestInput[]
  /** The timeframe most of its symbols' bars have (returns are annualised by it). */
  timeframe: string
}

/**
 * One point per time: of the points that stand (`equity_points`, in the executor's fold order), a
 * point is left out when a later one is dated no later (another symbol's bar at the same time, say).
 */
function currentPoints<P extends { ts: Date; seq: string }>(written: P[]): P[] {
  let earliestLater = Number.POSITIVE_INFINITY
  const kept: P[] = []
  for (let i = written.length - 1; i >= 0; i--) {
    const p = written[i]!
    if (p.ts.getTime() < earliestLater) kept.push(p)
    earliestLater = Math.min(earliestLater, p.ts.getTime())
  }
  return kept.reverse()
}

const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString())

export async function readLiveRun(sql: Sql, accountId: string): Promise<LiveRun> {
  const [acct] = await sql<{ starting_cash: number }[]>`select starting_cash::float8 as starting_cash from accounts where id = ${accountId}`
  if (!acct) {
    const known = (await sql<{ id: string }[]>`select id from accounts order by id`).map((a) => a.id)
    throw new Error(`no account ${accountId} in the database${known.length ? ` (accounts: ${known.join(', ')})` : ''}`)
  }
  const fills = await sql<
    { symbol: string; side: 'buy' | 'sell'; qty: number; price: number; commission: number; ts: Date; intent: 'entry' | 'exit'; position_id: string }[]
  >`select symbol, side, qty::float8 as qty, price::float8 as price, commission::float8 as commission, ts, intent, position_id
    from trades where account = ${accountId} order by ts, trade_id`
  const written = await sql<{ ts: Date; equity: number; cash: number; seq: string }[]>`select ts, equity::float8 as equity, cash::float8 as cash, seq
    from equity_points where account = ${accountId} order by fold_seq nulls first, seq`
  const books = currentPoints(written)
  const positions = await sql<
    {
      position_id: string
      symbol: string
      side: 'long' | 'short'
      qty: number
      avg_price: number
      realized_pnl: number
      status: 'open' | 'closed'
      exit_reason: ReportRun['positions'][number]['exit_reason']
      opened_at: Date
      closed_at: Date | null
    }[]
  >`select position_id, symbol, side, qty::float8 as qty, avg_price::float8 as avg_price, realized_pnl::float8 as realized_pnl, status, exit_reason, opened_at, closed_at
    from positions where account = ${accountId}`
  // The bars of each symbol it traded, in the timeframe it has most of, over the account's life.
  const symbols = [...new Set(fills.map((f) => f.symbol))]
  const first = books[0]?.ts ?? fills[0]?.ts
  const last = books.at(-1)?.ts ?? fills.at(-1)?.ts
  const inputs: BacktestInput[] = []
  for (const symbol of symbols) {
    const [tf] = await sql<
      { timeframe: string }[]
    >`select timeframe from snapshot_market where symbol = ${symbol} group by timeframe order by count(*) desc limit 1`
    if (!tf || !first || !last) continue
    const bars = await sql<
      { ts: Date; open: number; high: number; low: number; close: number; volume: number }[]
    >`select ts, open::float8 as open, high::float8 as high,
      low::float8 as low, close::float8 as close, volume::float8 as volume from snapshot_market
      where symbol = ${symbol} and timeframe = ${tf.timeframe} and ts between ${first} and ${last} order by ts`
    inputs.push({ symbol, timeframe: tf.timeframe, bars: bars.map((b) => ({ ...b, ts: iso(b.ts) })) })
  }
  const counts = new Map<string, number>()
  for (const i of inputs) counts.set(i.timeframe, (counts.get(i.timeframe) ?? 0) + i.bars.length)
  const timeframe = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '1d'
  const times = [...new Set([...inputs.flatMap((i) => i.bars.map((b) => b.ts)), ...books.map((b) => iso(b.ts))])].sort()
  // A position row is its latest state: it opened at opened_at and, if closed, closed at closed_at.
  const events = positions.flatMap((p) => {
    const base = { account: accountId, position_id: p.position_id, symbol: p.symbol, side: p.side, avg_price: p.avg_price, opened_at: iso(p.opened_at) }
    const opened = { ...base, status: 'open' as const, ts: iso(p.opened_at), qty: p.qty, realized_pnl: 0, closed_at: null, exit_reason: null }
    if (p.status === 'open' || !p.closed_at) return [opened]
    return [
      opened,
      {
        ...base,
        status: 'closed' as const,
        ts: iso(p.closed_at),
        qty: p.qty,
        realized_pnl: p.realized_pnl,
        closed_at: iso(p.closed_at),
        exit_reason: p.exit_reason,
      },
    ]
  })
  events.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0))
  return {
    account: { id: accountId, starting_cash: acct.starting_cash },
    inputs,
    timeframe,
    run: {
      times,
      fills: fills.map((f) => ({ ...f, account: accountId, ts: iso(f.ts) })),
      portfolios: books.map((b) => ({ account: accountId, ts: iso(b.ts), equity: b.equity, cash: b.cash })),
      positions: events,
    },
  }
}
