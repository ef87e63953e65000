import fc from 'fast-check'
// The backtest report's numbers, computed by hand on a tiny crafted run.
import { describe, expect, it } from 'vitest'
import type { BacktestRun } from '../../src/app/backtest.js'
import { accountReport, equityCurve, periodsPerYear } from '../../src/app/backtest-report.js'
import { parseConfig } from '../../src/config/env.js'

const account = parseConfig({ accounts: [{ id: 'main', starting_cash: 1000 }] }).accounts[0]!
const day = (d: number) => `2024-01-0${d}T00:00:00.000Z`
const pf = (d: number, equity: number, cash = equity) => ({ account: 'main', ts: day(d), equity, cash }) as BacktestRun['portfolios'][number]
const pos = (d: number, id: string, status: 'open' | 'closed', realized: number) =>
  ({ account: 'main', ts: day(d), position_id: id, status, realized_pnl: realized }) as BacktestRun['positions'][number]

describe('backtest report', () => {
  // Equity by bar: 1000 → 1100 → 990 (no portfolio on day 3: carried) → 990 → 1045.
  const run: BacktestRun = {
    times: [day(1), day(2), day(3), day(4), day(5)],
    portfolios: [pf(1, 1000), pf(2, 1100), pf(2, 990), pf(4, 990), pf(5, 1045, 1045)],
    positions: [pos(1, 'a', 'open', 0), pos(2, 'a', 'closed', 60), pos(2, 'b', 'open', 0), pos(4, 'b', 'closed', -20)],
    fills: [],
    statuses: [],
    orderStatuses: [],
    signals: [],
    metrics: [],
    handled: {},
    bars: 5,
    refused: [],
  }
  const r = accountReport(run, account, '1d')

  it('takes the last portfolio of each bar time and carries it over bars without one', () => {
    expect(r.final_equity).toBe(1045)
    expect(r.final_cash).toBe(1045)
    expect(r.total_return).toBeCloseTo(0.045, 12)
  })

  it('max drawdown is the deepest fall from a peak of that curve', () => {
    // curve 1000, 990, 990, 990, 1045: the peak 1000 (starting cash) falls to 990.
    expect(r.max_drawdown).toBeCloseTo(0.01, 12)
    expect(r.max_drawdown_amount).toBeCloseTo(10, 12)
  })

  it('win rate, profit factor and round trips come from closed positions', () => {
    expect(r.trades).toBe(2)
    expect(r.win_rate).toBe(0.5)
    expect(r.profit_factor).toBe(3)
  })

  it('exposure is the share of bar times that end with an open position', () => {
    // open after day 1, day 2 (b), day 3 (carried), closed day 4, none day 5 → 3 of 5.
    expect(r.exposure).toBe(0.6)
  })

  it('Sharpe and Sortino annualise per-bar returns', () => {
    const curve = [1000, 990, 990, 990, 1045]
    const rets = curve.map((e, i) => (i === 0 ? e / 1000 - 1 : e / curve[i - 1]! - 1))
    const mean = rets.reduce((a, b) => a + b) / rets.length
    const sd = Math.sqrt(rets.reduce((a, x) => a + (x - mean) ** 2, 0) / (rets.length - 1))
    const down = Math.sqrt(rets.reduce((a, x) => a + Math.min(0, x) ** 2, 0) / rets.length)
    expect(r.sharpe).toBeCloseTo((mean / sd) * Math.sqrt(252), 10)
    expect(r.sortino).toBeCloseTo((mean / down) * Math.sqrt(252), 10)
    expect(r.cagr).toBeCloseTo(1.045 ** (365.25 / 4) - 1, 8)
  })

  it('the equity curve is the same whether the portfolios come in time order (one walk) or not (by lookup)', () => {
    // A portfolio of another account, one at a time no bar has (day 6: passed over), two at one time (the last counts).
    const times = [day(1), day(2), day(3), day(5), day(7)]
    const ps = [pf(1, 1000), { ...pf(2, 5), account: 'other' }, pf(2, 1100), pf(2, 990), pf(5, 1045), pf(6, 2000), pf(7, 1050)]
    const expected = [1000, 990, 990, 1045, 1050]
    expect(Array.from(equityCurve({ times, portfolios: ps }, account))).toEqual(expected)
    // Out of order, with the two of day 2 still in their order: the lookup gives the same curve.
    const shuffled = [ps[5]!, ps[0]!, ps[6]!, ps[1]!, ps[2]!, ps[4]!, ps[3]!]
    expect(Array.from(equityCurve({ times, portfolios: shuffled }, account))).toEqual(expected)
    expect(Array.from(equityCurve({ times: [], portfolios: ps }, account))).toEqual([])
    expect(Array.from(equityCurve({ times, portfolios: [] }, account))).toEqual([1000, 1000, 1000, 1000, 1000])
  })

  it('the equity curve is each time’s last portfolio carried forward, for any times and portfolios, in time order or not (against a naive walk)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 61 }), fc.integer({ min: 1, max: 5000 })), { maxLength: 60 }),
        fc.boolean(),
        (days, points, sorted) => {
          const at = (d: number) => `2024-01-01T00:${String(d).padStart(2, '0')}:00.000Z`
          const times = [...days].sort((a, b) => a - b).map(at)
          // In time order (a run's), or as drawn: the last of a time, in the order given, counts.
          const ps = (sorted ? [...points].sort((a, b) => a[0] - b[0]) : points).map(([d, equity]) => ({ ...pf(1, equity), ts: at(d) }))
          const naive: number[] = []
          let value = account.starting_cash
          for (const t of times) {
            for (const p of ps) if (p.ts === t) value = p.equity
            naive.push(value)
          }
          return JSON.stringify(Array.from(equityCurve({ times, portfolios: ps }, account))) === JSON.stringify(naive)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('an account that never traded reports its starting cash and no ratios', () => {
    const idle = accountReport({ ...run, portfolios: [], positions: [] }, account, '1d')
    expect(idle).toMatchObject({
      final_equity: 1000,
      final_cash: 1000,
      total_return: 0,
      win_rate: null,
      profit_factor: null,
      exposure: 0,
      trades: 0,
      sharpe: null,
    })
  })

  it('annualises by timeframe', () => {
    expect(periodsPerYear('1d')).toBe(252)
    expect(periodsPerYear('1w')).toBe(52)
    expect(periodsPerYear('1h')).toBeCloseTo(252 * 6.5, 10)
    expect(periodsPerYear('1m')).toBeCloseTo(252 * 390, 10)
  })
})
