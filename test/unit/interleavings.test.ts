import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runBacktest } from '../../src/app/backtest.js'
import { parseConfig } from '../../src/config/env.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { configOf, LANGUAGE_CASES } from '../support/language-cases.js'
import { runUpstream, simulate, standingPoints } from '../support/interleavings.js'
import type { Message } from '../../src/core/contracts.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const config = parseConfig(configOf(LANGUAGE_CASES, 'ORCL'))
const inputs = [{ symbol: 'ORCL', timeframe: '1d', bars }]
const up = runUpstream(config, inputs)
const key = (f: { id: string; ts: string; side: string; qty: number; price: number; commission: number }) => ({
  id: f.id,
  ts: f.ts,
  side: f.side,
  qty: f.qty,
  price: f.price,
  commission: f.commission,
})

/** A point of the equity curve, less its versions (which follow the processing). */
const pointKey = ({ seq: _s, orders_seq: _o, fold_seq: _m, supersedes_from: _r, ...rest }: Message<'trade.portfolio'>) => rest
const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id)

describe('gate and executor under every interleaving', async () => {
  const reference = await runBacktest(config, inputs)
  for (const c of LANGUAGE_CASES) {
    const expected = reference.fills
      .filter((f) => f.account === c.account)
      .map(key)
      .sort((a, b) => a.id.localeCompare(b.id))
    it(`${c.account}: random schedules and kills give the backtest's fills`, () => {
      for (let seed = 1; seed <= 40; seed++) {
        const run = simulate(config, up, c.account, { seed, killRate: seed % 2 ? 0.05 : 0 })
        expect(
          run.fills.map(key).sort((a, b) => a.id.localeCompare(b.id)),
          `seed ${seed}`,
        ).toEqual(expected)
      }
    })
    // The executor's bars run ahead of its orders in most of these schedules: fills land behind
    // points already published, and the points from there on are published again.
    it(`${c.account}: random schedules and kills give the backtest's equity points, every one`, () => {
      // The backtest hands every order to the executor before the next bar: it publishes each point once.
      const points = reference.portfolios
        .filter((p) => p.account === c.account)
        .map(pointKey)
        .sort(byId)
      expect(standingPoints(reference.portfolios.filter((p) => p.account === c.account))).toHaveLength(points.length)
      expect(points.length).toBeGreaterThan(20)
      let refolded = 0
      for (let seed = 1; seed <= 40; seed++) {
        const run = simulate(config, up, c.account, { seed, killRate: seed % 2 ? 0.05 : 0 })
        refolded += run.trade.filter((m) => m.type === 'trade.portfolio' && ((m.data as Message<'trade.portfolio'>).orders_seq ?? 0) > 0).length
        expect(run.points.map(pointKey).sort(byId), `seed ${seed}`).toEqual(points)
      }
      expect(refolded).toBeGreaterThan(0)
    })
    // A process holding the gate frozen past its lease (or killed, its lease lapsing) while the
    // feed and the executor go on: its orders then come hundreds of bars late, in a burst.
    it(`${c.account}: a gate stalled for hundreds of bars gives the backtest's fills and equity points`, () => {
      const points = reference.portfolios
        .filter((p) => p.account === c.account)
        .map(pointKey)
        .sort(byId)
      for (let seed = 1; seed <= 6; seed++) {
        const run = simulate(config, up, c.account, { seed, killRate: seed % 2 ? 0.05 : 0, stallRate: 0.03, stallMessages: seed % 3 ? 300 : 1200 })
        expect(
          run.fills.map(key).sort((a, b) => a.id.localeCompare(b.id)),
          `seed ${seed}`,
        ).toEqual(expected)
        expect(run.points.map(pointKey).sort(byId), `seed ${seed}`).toEqual(points)
      }
    })
  }
})

// One account trading symbols of three partitions: its ideas come from three strategy scopes, each
// at its own pace, so they reach the gate out of bar order across symbols. Which ideas pass may then
// differ from the backtest (README, Known limits), but nothing may stall: every idea is judged and
// every order the gate let through settles. It stalled when a close, sized on books that lacked a
// late order's fill, filled less than its qty (the executor closes what the account holds) and the
// gate waited for the rest for ever; each fill now says what of its order still works.
describe('gate and executor with ideas of several strategy scopes', () => {
  const scaled = (symbol: string, k: number) => ({
    symbol,
    timeframe: '1d',
    bars: bars.map((b) => ({ ...b, open: b.open * k, high: b.high * k, low: b.low * k, close: b.close * k })),
  })
  const multi = [scaled('ORCL', 1), scaled('ORCB', 0.37), scaled('ORCC', 2.9)]
  const multiConfig = parseConfig({
    accounts: [{ id: 'multi', starting_cash: 100_000, costs: { commission_pct: 0.001 }, risk: { max_lot_size: null } }],
    strategies: [
      {
        id: 'cross',
        account: 'multi',
        symbols: multi.map((s) => s.symbol),
        timeframe: '1d',
        indicators: { fast: { type: 'sma', period: 2 }, slow: { type: 'sma', period: 5 } },
        entry: { long: { crossesAbove: ['fast', 'slow'] } },
        exit: { long: { crossesBelow: ['fast', 'slow'] } },
        sizing: { fixed_qty: 10 },
      },
    ],
  })
  const upMulti = runUpstream(multiConfig, multi)

  it('every idea is judged and every order settles, whatever order the ideas arrive in', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const run = simulate(multiConfig, upMulti, 'multi', { seed, strategyScopes: 'symbol', killRate: seed % 3 ? 0 : 0.05 })
      const ideas = run.trade.filter((m) => m.type === 'trade.idea').length
      expect(run.held, `seed ${seed}`).toBe(0)
      expect(run.statuses, `seed ${seed}`).toHaveLength(ideas)
      // Settled: rejected, expired or cancelled (an order status), or a fill that left nothing working.
      const done = new Set(run.fills.filter((f) => f.leaves_qty === 0).map((f) => f.order_id))
      for (const m of run.trade) if (m.type === 'trade.order_status') done.add((m.data as { order_id: string }).order_id)
      const unsettled = run.trade.flatMap((m) => (m.type === 'trade.order' && !done.has((m.data as { id: string }).id) ? [(m.data as { id: string }).id] : []))
      expect(unsettled, `seed ${seed}`).toEqual([])
    }
  })

  // The end of a replay: no input comes after the last ideas. An idea that reached the gate after
  // one of a later bar waited for ever when an order's bars had been looked up only to its own bar
  // (five of these fifty runs did, before the gate looked them up to the books’ position).
  it('nothing is left waiting, whichever bar the data ends on', () => {
    for (let cut = 690; cut <= 726; cut += 9) {
      const ending = multi.map((m) => ({ ...m, bars: m.bars.slice(0, cut) }))
      const upEnding = runUpstream(multiConfig, ending)
      for (let seed = 1; seed <= 10; seed++) {
        const run = simulate(multiConfig, upEnding, 'multi', { seed, strategyScopes: 'symbol', killRate: 0 })
        expect(run.held, `cut ${cut}, seed ${seed}`).toBe(0)
      }
    }
  })
})
