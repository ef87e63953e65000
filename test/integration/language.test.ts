// The whole strategy language end to end: five strategies (long/short, reversals, stops of every
// kind, targets, max_bars, forbidden, rr_expectation, pct_equity and risk_pct sizing), one account
// each, replayed together through all six actors over JetStream with `paperd replay --wait`. Every
// account's trades rows and final cash must equal the independent reference broker, and the
// in-process backtest must fill exactly like the daemon.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBacktest } from '../../src/app/backtest.js'
import { parseConfig } from '../../src/config/env.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { configOf, LANGUAGE_CASES } from '../support/language-cases.js'
import { referenceBroker, type RefBar } from '../support/reference-strategy-broker.js'
import { startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars as RefBar[]
const config = configOf(LANGUAGE_CASES, 'ORCL')

describe('the strategy language through the daemon', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack(config)
    await stack.start()
    const run = await stack.cli(['replay', CSV, '--symbol', 'ORCL', '--wait', '--timeout', '120'], 150_000)
    expect(run.code, run.stderr).toBe(0)
  }, 180_000)
  afterAll(async () => stack?.close())

  const tradesOf = async (account: string) =>
    (
      await stack.sql`select ts, side, qty::float8 as qty, price::float8 as price, commission::float8 as commission, intent, exit_reason
      from trades where account = ${account} order by ts, recorded_at, trade_id`
    ).map((t) => ({
      ts: (t.ts as Date).toISOString(),
      side: t.side,
      qty: t.qty,
      price: t.price,
      commission: t.commission,
      reason: t.intent === 'entry' ? 'entry' : t.exit_reason,
    }))

  it.each(LANGUAGE_CASES.map((c) => [c.name, c] as const))('%s: trades and cash equal the reference broker', async (_, c) => {
    const ref = referenceBroker(bars, c.ref)
    const trades = await tradesOf(c.account)
    // Two fills on one bar (a reversal) share ts: order them as the reference does, exit first.
    const order = (f: { ts: string; reason: string }) => `${f.ts}|${f.reason === 'entry' ? 1 : 0}`
    expect(trades.sort((a, b) => order(a).localeCompare(order(b)))).toEqual(ref.fills)
    const [book] = await stack.sql<{ cash: number }[]>`select cash::float8 as cash from portfolio_state where account = ${c.account}`
    expect(book!.cash).toBe(ref.cash)
  })

  it('paperd backtest fills every account exactly like the daemon', async () => {
    const run = await runBacktest(parseConfig(config), [{ symbol: 'ORCL', timeframe: '1d', bars }])
    for (const c of LANGUAGE_CASES) {
      const daemon = (
        await stack.sql`select trade_id, side, qty::float8 as qty, price::float8 as price, commission::float8 as commission, ts
        from trades where account = ${c.account} order by trade_id`
      ).map((t) => ({ id: t.trade_id, side: t.side, qty: t.qty, price: t.price, commission: t.commission, ts: (t.ts as Date).toISOString() }))
      const backtest = run.fills
        .filter((f) => f.account === c.account)
        .map((f) => ({ id: f.id, side: f.side, qty: f.qty, price: f.price, commission: f.commission, ts: f.ts }))
      expect(backtest.sort((a, b) => a.id.localeCompare(b.id))).toEqual(daemon)
    }
  })

  it('positions are closed with their exit reason, and open ones carry their stop and target', async () => {
    const reasons = await stack.sql<{ exit_reason: string }[]>`select distinct exit_reason from positions where status = 'closed' order by 1`
    expect(reasons.map((r) => r.exit_reason)).toEqual(expect.arrayContaining(['max_bars', 'reversal', 'signal', 'stop_loss', 'take_profit']))
    const [dlq] = await stack.sql<{ n: number }[]>`select count(*)::int as n from dead_letters`
    expect(dlq!.n).toBe(0)
  })
})
