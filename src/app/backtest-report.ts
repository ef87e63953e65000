// The numbers a researcher looks at after a backtest, computed from the executor's own messages:
// the equity curve (portfolio after every change, carried forward to every bar time), the closed
// positions and the fills.
import { timeframeMs } from '../../actors/lib/timeframe.js'
import type { AccountConfig } from '../core/config-file/accounts.js'
import type { Message } from '../core/contracts.js'

/** What a report reads of a portfolio. */
type PortfolioPoint = Pick<Message<'trade.portfolio'>, 'account' | 'ts' | 'equity' | 'cash'>

/**
 * A run's portfolios as a report reads them, in columns: point `i` is `account[i]`, `ts[i]`, … A
 * 200k-bar backtest publishes about 100k portfolios; kept as objects they were 100k objects (and
 * 200k boxed numbers) outliving the young generation, pushed one by one.
 */
export interface PortfolioPoints {
  account: string[]
  ts: string[]
  equity: number[]
  cash: number[]
}

/** `points` as columns. */
export function portfolioPoints(points: readonly PortfolioPoint[] | PortfolioPoints): PortfolioPoints {
  if (!Array.isArray(points)) return points as PortfolioPoints
  const ps = points as readonly PortfolioPoint[]
  return { account: ps.map((p) => p.account), ts: ps.map((p) => p.ts), equity: ps.map((p) => p.equity), cash: ps.map((p) => p.cash) }
}

/**
 * What a report reads: the executor's fills, portfolios and positions, and every bar time. A
 * backtest's run is one; `paperd report` makes one from Postgres (live-report.ts).
 */
export interface ReportRun {
  times: string[]
  fills: Pick<Message<'trade.fill'>, 'account' | 'symbol' | 'side' | 'qty' | 'price' | 'commission' | 'ts' | 'intent' | 'position_id'>[]
  /** As columns (a backtest run for a report), or as messages (a run kept whole: tests). */
  portfolios: PortfolioPoints | readonly PortfolioPoint[]
  positions: Pick<
    Message<'trade.position'>,
    'account' | 'status' | 'realized_pnl' | 'position_id' | 'ts' | 'symbol' | 'side' | 'qty' | 'opened_at' | 'closed_at' | 'avg_price' | 'exit_reason'
  >[]
}
export type ReportAccount = Pick<AccountConfig, 'id' | 'starting_cash'>

/** What a sweep ranks its combinations by (`paperd backtest --grid … --rank`): numbers of this report, all but max_drawdown better higher. */
export const RANK_METRICS = ['sharpe', 'sortino', 'total_return', 'cagr', 'profit_factor', 'win_rate', 'final_equity', 'max_drawdown'] as const
export type RankMetric = (typeof RANK_METRICS)[number]

interface AccountReport {
  account: string
  starting_cash: number
  final_cash: number
  final_equity: number
  total_return: number
  cagr: number | null
  sharpe: number | null
  sortino: number | null
  max_drawdown: number
  max_drawdown_amount: number
  win_rate: number | null
  profit_factor: number | null
  exposure: number
  trades: number
  fills: { symbol: string; side: 'buy' | 'sell'; qty: number; price: number; commission: number; ts: string }[]
}

/** Bars a year for a timeframe: 252 trading days, 52 weeks, intraday over a 6.5-hour session. */
export function periodsPerYear(timeframe: string): number {
  const ms = timeframeMs(timeframe)
  const day = 86_400_000
  if (ms >= 7 * day) return 52 * ((7 * day) / ms)
  if (ms >= day) return 252 * (day / ms)
  return 252 * ((6.5 * 3_600_000) / ms)
}

/** Equity at the close of every bar time of the run: the account's last portfolio at or before it. */
export function equityCurve(run: Pick<ReportRun, 'times' | 'portfolios'>, account: ReportAccount): Float64Array {
  const { ts, equity } = pointsOf(portfolioPoints(run.portfolios), account.id)
  return carriedOver(run.times, ts, equity, account.starting_cash)
}

/** The times and equities of one account's points: the columns themselves when they are all its. */
function pointsOf(points: PortfolioPoints, account: string): { ts: readonly string[]; equity: readonly number[] } {
  if (points.account.every((a) => a === account)) return points
  const ts: string[] = []
  const equity: number[] = []
  for (let i = 0; i < points.account.length; i++)
    if (points.account[i] === account) {
      ts.push(points.ts[i]!)
      equity.push(points.equity[i]!)
    }
  return { ts, equity }
}

/**
 * At each of `times` (in time order: a backtest's and a report's from Postgres are), the value of
 * the last of `items` at that time, else the one before (at first `initial`); items at a time not
 * among `times` are passed over. A typed array: 200k numbers pushed one by one into an array cost
 * as much as the walk.
 */
function carriedOver(times: readonly string[], items: readonly string[], values: readonly number[], initial: number): Float64Array {
  const n = times.length
  const out = new Float64Array(n)
  let value = initial
  // Item by item: the times before an item's keep the value so far (filled as a run). An item is
  // nearly always at the time of the one before or at the next one — a backtest's points carry the
  // very strings of its bar times, found equal at once — else it is found by galloping from there:
  // a few comparisons per item, not one per time (a position's messages are a few thousand among
  // 200k bar times). Comparing strings cut out of a file is slow (~50 ns), so none is compared
  // where a match settles it: there the item follows the one before.
  let i = 0
  for (let j = 0; j < items.length; j++) {
    const ts = items[j]!
    let k: number
    if (i < n && times[i] === ts) k = i
    else if (i + 1 < n && times[i + 1] === ts) k = i + 1
    else {
      if (j > 0 && items[j - 1]! > ts) return carriedOverByTime(times, items, values, initial)
      k = firstAtOrAfter(times, ts, i)
    }
    out.fill(value, i, k)
    i = k
    // An item at a time not among `times` is passed over.
    if (k < n && times[k] === ts) value = values[j]!
  }
  out.fill(value, i)
  return out
}

/** carriedOver for items not in time order: the last item at each time, by time. */
function carriedOverByTime(times: readonly string[], items: readonly string[], values: readonly number[], initial: number): Float64Array {
  const out = new Float64Array(times.length)
  let value = initial
  const lastAt = new Map<string, number>()
  for (let j = 0; j < items.length; j++) lastAt.set(items[j]!, values[j]!)
  for (let i = 0; i < times.length; i++) out[i] = value = lastAt.get(times[i]!) ?? value
  return out
}

/** The first index from `from` whose time is at or after `ts` (times ascending): galloping, then halving. */
function firstAtOrAfter(times: readonly string[], ts: string, from: number): number {
  const n = times.length
  if (from >= n || times[from]! >= ts) return from
  let lo = from // times[lo] < ts
  let step = 1
  let hi = from + 1
  while (hi < n && times[hi]! < ts) {
    lo = hi
    step *= 2
    hi = from + step
  }
  if (hi > n) hi = n
  // times[lo] < ts, and times[hi] >= ts or hi = n
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1
    if (times[mid]! < ts) lo = mid
    else hi = mid
  }
  return hi
}

export function accountReport(run: ReportRun, account: ReportAccount, timeframe: string): AccountReport {
  const points = portfolioPoints(run.portfolios)
  let last = -1
  for (let i = points.account.length - 1; i >= 0 && last < 0; i--) if (points.account[i] === account.id) last = i
  const positions = run.positions.filter((p) => p.account === account.id)
  const fills = run.fills.filter((f) => f.account === account.id)
  const start = account.starting_cash

  const curve = equityCurve(run, account)
  const finalEquity = last >= 0 ? points.equity[last]! : start

  // Indexed loops over the 200k points, each sum in index order as reduce() made it: for-of and
  // reduce() ran here before they were optimised (the report runs once), an object per element.
  const n = curve.length
  const returns = new Float64Array(n)
  let sum = 0
  for (let i = 0; i < n; i++) {
    returns[i] = i === 0 ? curve[0]! / start - 1 : curve[i]! / curve[i - 1]! - 1
    sum += returns[i]!
  }
  const perYear = periodsPerYear(timeframe)
  const mean = sum / (n || 1)
  let squares = 0
  let downSquares = 0
  for (let i = 0; i < n; i++) {
    squares += (returns[i]! - mean) ** 2
    downSquares += Math.min(0, returns[i]!) ** 2
  }
  const sd = Math.sqrt(squares / Math.max(1, n - 1))
  const downside = Math.sqrt(downSquares / (n || 1))

  let peak = start
  let maxDd = 0
  let maxDdAmount = 0
  for (let i = 0; i < n; i++) {
    const e = curve[i]!
    peak = Math.max(peak, e)
    maxDd = Math.max(maxDd, (peak - e) / peak)
    maxDdAmount = Math.max(maxDdAmount, peak - e)
  }

  const closed = positions.filter((p) => p.status === 'closed')
  const wins = closed.filter((p) => p.realized_pnl > 0)
  const grossWin = wins.reduce((a, p) => a + p.realized_pnl, 0)
  const grossLoss = -closed.filter((p) => p.realized_pnl < 0).reduce((a, p) => a + p.realized_pnl, 0)

  // Exposure: the share of bar times that end with at least one open position.
  const open = new Set<string>()
  const openAfter = positions.map((p) => {
    if (p.status === 'open') open.add(p.position_id)
    else open.delete(p.position_id)
    return open.size
  })
  const holding = carriedOver(
    run.times,
    positions.map((p) => p.ts),
    openAfter,
    0,
  )
  let exposed = 0
  for (let i = 0; i < holding.length; i++) if (holding[i]! > 0) exposed++

  const years = run.times.length > 1 ? (Date.parse(run.times.at(-1)!) - Date.parse(run.times[0]!)) / (365.25 * 86_400_000) : 0
  return {
    account: account.id,
    starting_cash: start,
    final_cash: last >= 0 ? points.cash[last]! : start,
    final_equity: finalEquity,
    total_return: finalEquity / start - 1,
    cagr: years > 0 ? (finalEquity / start) ** (1 / years) - 1 : null,
    sharpe: sd > 0 ? (mean / sd) * Math.sqrt(perYear) : null,
    sortino: downside > 0 ? (mean / downside) * Math.sqrt(perYear) : null,
    max_drawdown: maxDd,
    max_drawdown_amount: maxDdAmount,
    win_rate: closed.length ? wins.length / closed.length : null,
    profit_factor: grossLoss > 0 ? grossWin / grossLoss : null,
    exposure: run.times.length ? exposed / run.times.length : 0,
    trades: closed.length,
    fills: fills.map((f) => ({ symbol: f.symbol, side: f.side, qty: f.qty, price: f.price, commission: f.commission, ts: f.ts })),
  }
}

/** 130023 → "130,023" (toLocaleString would load ICU's number formats: 50 ms of a short backtest). */
const grouped = (n: number) => String(n).replace(/\B(?=(\d{3})+$)/g, ',')
const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)} %`)
const num = (x: number | null, d = 2) => (x === null ? '—' : x.toFixed(d))

export function formatReport(r: AccountReport, bars: number, seconds: number): string {
  const rows: [string, string][] = [
    ['account', r.account],
    ['bars', seconds > 0 ? `${bars} (${grouped(Math.round(bars / seconds))} bars/s)` : String(bars)],
    ['starting cash', num(r.starting_cash)],
    ['final cash', num(r.final_cash)],
    ['final equity', num(r.final_equity)],
    ['total return', pct(r.total_return)],
    ['CAGR', pct(r.cagr)],
    ['Sharpe', num(r.sharpe)],
    ['Sortino', num(r.sortino)],
    ['max drawdown', `${pct(r.max_drawdown)} (${num(r.max_drawdown_amount)})`],
    ['win rate', pct(r.win_rate)],
    ['profit factor', num(r.profit_factor)],
    ['exposure', pct(r.exposure)],
    ['trades (round trips)', String(r.trades)],
    ['fills', String(r.fills.length)],
  ]
  return rows.map(([k, v]) => `${k.padEnd(22)} ${v}`).join('\n')
}
