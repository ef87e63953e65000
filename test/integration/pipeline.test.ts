// End to end: the canonical config of SPEC §5.2, a daily CSV replayed with `paperd replay --wait`
// through all six actors over JetStream, and the rows the persister wrote compared with an
// independent reference broker.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/core/csv.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const reference = smaCrossReference(bars, { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 })

describe('canonical config, replayed CSV', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
    await stack.start()
  })
  afterAll(async () => stack?.close())

  it('given the canonical strategy, when a daily CSV is replayed with --wait, then every fill and the final cash equal the reference broker', async () => {
    expect(reference.fills.length).toBeGreaterThan(10)
    const run = await stack.cli(['replay', CSV, '--symbol', 'ORCL', '--wait', '--timeout', '90'])
    expect(run.stderr).toContain('every actor has processed everything')
    expect(run.code).toBe(0)

    const trades =
      await stack.sql`select ts, side, qty::float8 as qty, price::float8 as price, commission::float8 as commission, is_simulation, strategy_id from trades order by ts`
    expect(trades.map((t) => ({ ts: t.ts.toISOString(), side: t.side, qty: t.qty, price: t.price, commission: t.commission }))).toEqual(reference.fills)
    expect(trades.every((t) => t.is_simulation === true && t.strategy_id === 'sma-cross')).toBe(true)

    const [book] = await stack.sql`select cash::float8 as cash, equity::float8 as equity, trade_count from portfolio_state where account = 'main'`
    expect(book!.cash).toBeCloseTo(reference.cash, 6)
    if (reference.held === 0) expect(book!.equity).toBeCloseTo(reference.cash, 6)

    // performance_metrics: a row per bar-time day with equity; to date, the books' return and the closed positions' record.
    const perf = await stack.sql`select day, equity::float8 as equity, total_return::float8 as total_return, sharpe::float8 as sharpe,
      max_drawdown::float8 as max_drawdown, win_rate::float8 as win_rate, trades::int as trades from performance_metrics where account = 'main' order by day`
    const last = perf.at(-1)!
    const closed = await stack.sql`select realized_pnl::float8 as pnl from positions where account = 'main' and status = 'closed'`
    expect(last.trades).toBe(closed.length)
    expect(last.win_rate).toBeCloseTo(closed.filter((p) => p.pnl > 0).length / closed.length, 12)
    expect(last.total_return).toBeCloseTo(last.equity / 10_000 - 1, 12)
    if (reference.held === 0) expect(last.equity).toBeCloseTo(reference.cash, 6)
    expect(last.max_drawdown).toBeGreaterThan(0)
    expect(last.sharpe).not.toBeNull()
    expect(perf.every((p, i) => i === 0 || p.day > perf[i - 1]!.day)).toBe(true)
  })

  it('stores every bar, the indicator values, each idea with its status and an audit entry per idea', async () => {
    const [market] = await stack.sql<{ bars: number }[]>`select count(*)::int as bars from snapshot_market where symbol = 'ORCL'`
    expect(market!.bars).toBe(bars.length)
    const [ind] = await stack.sql<
      { n: number; warm: number }[]
    >`select count(*)::int as n, count(*) filter (where "values" ? 'slow')::int as warm from snapshot_indicators`
    expect(ind!.n).toBe(bars.length)
    expect(ind!.warm).toBe(bars.length - 29)
    const ideas =
      await stack.sql`select i.id, i.status, i.entry_price::float8 as entry_price, i.rationale, i.timeframe, i.bar_id, i.ts, m.close::float8 as bar_close
      from trade_ideas i join snapshot_market m on m.symbol = i.symbol and m.timeframe = i.timeframe and m.ts = i.ts`
    expect(ideas.length).toBeGreaterThanOrEqual(reference.fills.length)
    expect(ideas.every((i) => i.status === 'auto_executed')).toBe(true)
    // Each idea keeps what it proposed, whatever status reason came after: its price (the signal
    // close), its rationale, the bar it came from.
    expect(ideas.every((i) => i.entry_price === i.bar_close && i.rationale && i.timeframe === '1d' && String(i.bar_id).includes('ORCL'))).toBe(true)
    const [audit] = await stack.sql<
      { decisions: number; with_confidence: number }[]
    >`select count(*)::int as decisions, count(confidence)::int as with_confidence from decision_history`
    expect(audit!.decisions).toBe(ideas.length)
    expect(audit!.with_confidence).toBe(ideas.length)
    const [dlq] = await stack.sql<{ dead: number }[]>`select count(*)::int as dead from dead_letters`
    expect(dlq!.dead).toBe(0)
  })

  it('paperd report --account gives the live account the backtest’s numbers, and its page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paperd-report-'))
    const live = await stack.cli(['report', '--account', 'main', '--json', '--html', join(dir, 'live.html')])
    expect(live.code, live.stderr).toBe(0)
    const bt = await stack.cli(['backtest', '--config', 'examples/canonical.json', '--data', `${CSV}:ORCL`, '--out', join(dir, 'bt.json')])
    expect(bt.code, bt.stderr).toBe(0)
    const a = JSON.parse(live.stdout) as Record<string, unknown>
    const b = JSON.parse(readFileSync(join(dir, 'bt.json'), 'utf8')) as Record<string, unknown>
    for (const k of ['final_cash', 'final_equity', 'total_return', 'win_rate', 'profit_factor', 'trades', 'fills']) expect(a[k], k).toEqual(b[k])
    const page = readFileSync(join(dir, 'live.html'), 'utf8')
    expect(page).toContain('paperd report: account main, ORCL 1d')
    expect(page).not.toMatch(/<(script|link|img)\b[^>]*\b(src|href)\s*=/i)
    const unknown = await stack.cli(['report', '--account', 'nobody'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no account nobody in the database (accounts: main)')
  }, 120_000)

  it('paperd backtest on the same data and config fills exactly like the daemon, and writes its report', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'paperd-bt-')), 'report.json')
    const run = await stack.cli(['backtest', '--config', 'examples/canonical.json', '--data', `${CSV}:ORCL`, '--out', out])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/total return/)
    const report = JSON.parse(readFileSync(out, 'utf8'))
    const trades =
      await stack.sql`select symbol, side, qty::float8 as qty, price::float8 as price, commission::float8 as commission, ts from trades order by ts, trade_id`
    expect(report.fills).toEqual(
      trades.map((t) => ({ symbol: t.symbol, side: t.side, qty: t.qty, price: t.price, commission: t.commission, ts: t.ts.toISOString() })),
    )
    const [book] = await stack.sql<
      { cash: number; equity: number }[]
    >`select cash::float8 as cash, equity::float8 as equity from portfolio_state where account = 'main'`
    expect(report.final_cash).toBe(book!.cash)
    expect(report.final_equity).toBe(book!.equity)
  })

  it('replaying the same file again changes nothing', async () => {
    const before = await stack.sql`select trade_id from trades order by trade_id`
    const run = await stack.cli(['replay', CSV, '--symbol', 'ORCL', '--wait', '--timeout', '90'])
    expect(run.code).toBe(0)
    expect(run.stderr).toContain(`(${bars.length} already stored)`)
    const after = await stack.sql`select trade_id from trades order by trade_id`
    expect(after).toEqual(before)
  })
})
