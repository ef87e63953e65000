// The Gayed consensus as a strategy (SPEC §5.2): on crafted series where every signal is known to
// say Risk-On and then Risk-Off, it holds SPY, then rotates into the defensive symbol; it publishes
// its state every complete day; and exactly one process runs it however the strategy actor is split.
import { describe, expect, it } from 'vitest'
import { strategy } from '../../actors/strategy.js'
import { runBacktest } from '../../src/backtest.js'
import { parseConfig } from '../../src/config.js'
import { partitionOf } from '../../src/partition.js'
import { GAYED_CONFIG, GAYED_DAYS, GAYED_SYMBOLS, gayedSeries, SWITCH_DAY } from '../support/gayed-series.js'

const config = parseConfig(GAYED_CONFIG)
const series = gayedSeries()
const inputs = GAYED_SYMBOLS.map((symbol) => ({ symbol, timeframe: '1d', bars: series[symbol]! }))
const day = (d: number) => new Date(Date.UTC(2024, 0, 1) + d * 86_400_000).toISOString()

describe('Gayed consensus strategy on crafted series', async () => {
  const run = await runBacktest(config, inputs)

  it('publishes one state per complete day, with every signal once warmed up', () => {
    expect(run.signals).toHaveLength(GAYED_DAYS)
    expect(run.signals.map((s) => s.ts)).toEqual(series.SPY!.map((b) => b.ts))
    const warm = run.signals[SWITCH_DAY - 1]!
    expect(warm.signals.map((s) => s.name)).toEqual(['utilities_spy', 'lumber_gold', 'treasury_curve', 'vix_defensive', 'sp500_ma'])
    expect(warm.id).toBe(`signal:gayed:${day(SWITCH_DAY - 1).slice(0, 10)}`)
  })

  it('every signal says Risk-On before the switch and Risk-Off well after it; the consensus follows', () => {
    const before = run.signals[SWITCH_DAY - 1]!
    expect(before.signals.every((s) => s.signal === 'Risk-On')).toBe(true)
    expect(before.consensus).toBe('Risk-On')
    expect(before.holding).toBe('SPY')
    const after = run.signals[GAYED_DAYS - 1]!
    expect(after.signals.every((s) => s.signal === 'Risk-Off')).toBe(true)
    expect(after.consensus).toBe('Risk-Off')
    expect(after.holding).toBe('TLT')
    // With all five agreeing, weights are Σ confidence × strength ÷ 5 on one side only.
    expect(after.risk_on_weight).toBe(0)
    expect(after.risk_off_weight).toBeGreaterThan(0.1)
  })

  it('holds SPY in Risk-On and rotates into the defensive symbol in Risk-Off: sell SPY, buy TLT on the same day', () => {
    const fills = run.fills.map((f) => [f.ts.slice(0, 10), f.side, f.symbol, f.intent])
    expect(fills[0]).toEqual([day(1).slice(0, 10), 'buy', 'SPY', 'entry'])
    const rotation = fills.slice(1)
    expect(rotation).toHaveLength(2)
    expect(rotation[0]![0]).toBe(rotation[1]![0])
    expect(rotation.map((f) => f.slice(1))).toEqual([['sell', 'SPY', 'exit'], ['buy', 'TLT', 'entry']])
    expect(String(rotation[0]![0]) > day(SWITCH_DAY).slice(0, 10)).toBe(true)
    // pct_equity 0.95 of 100 000 at the first day's close of 101 → floor(940.59) = 940 shares.
    expect(run.fills[0]!.qty).toBe(940)
    expect(run.orderStatuses).toEqual([]) // TLT's bar comes first each day: its buy waited for SPY's sale
  })

  it('is deterministic: a second run publishes byte-identical states and fills', async () => {
    const again = await runBacktest(config, inputs)
    expect(JSON.stringify(again.signals)).toBe(JSON.stringify(run.signals))
    expect(JSON.stringify(again.fills)).toBe(JSON.stringify(run.fills))
  })
})

describe('who runs a Gayed strategy when the strategy actor is split over processes', () => {
  it('exactly the owner of the partition its scope key hashes to', () => {
    const owner = partitionOf('gayed-gayed', 16)
    const halves = [[...Array(8).keys()], [...Array(8).keys()].map((p) => p + 8)]
    const running = halves.map((owned) => strategy(config.strategies, owned, config.accounts, 16).scopes.filter((s) => s.key === 'gayed-gayed'))
    expect(running.map((r) => r.length)).toEqual(halves.map((h) => (h.includes(owner) ? 1 : 0)))
    expect(running.flat()[0]).toMatchObject({ inputs: [{ stream: 'MD', filter: 'md.bar.*.*', accepts: ['md.bar'] }] })
  })
})
