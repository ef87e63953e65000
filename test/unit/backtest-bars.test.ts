// A backtest answers lookups from bars it made again from their inputs (BacktestBars), not from
// the bars it kept: the answers must be the ones the kept bars give (lookupInMemory, what the
// backtest did before and what the daemon's tape does), whatever the lookup.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { BarLookup, FoundBar } from '../../src/core/actor.js'
import type { Bar } from '../../src/core/contracts.js'
import { BacktestBars } from '../../src/app/backtest-bars.js'
import { lookupInMemory } from '../../src/runtime/bar-tape.js'

const SYMBOLS = ['AAA', 'BBB']
const TIMEFRAMES = ['1m', '1d']

/** Input bar k: a symbol, a timeframe, a time, values, and now and then a context. */
function barOf(k: number, context: boolean): Bar {
  const ts = new Date(Date.UTC(2024, 0, 1) + k * 60_000).toISOString()
  const symbol = SYMBOLS[k % 2]!
  const timeframe = TIMEFRAMES[(k >> 1) % 2]!
  const bar: Bar = {
    id: `bar:${symbol}:${timeframe}:${ts}`,
    type: 'md.bar',
    ts,
    causation_id: `in:${symbol}:${timeframe}:${ts}`,
    correlation_id: `bar:${symbol}:${timeframe}:${ts}`,
    symbol,
    timeframe,
    open: k,
    high: k + 1,
    low: k - 1,
    close: k + 0.5,
    volume: 100 + k,
  }
  if (context) bar.context = { ts, consensus_forecast: k / 10, distribution_estimate: k / 20 }
  return bar
}

describe('BacktestBars', () => {
  const scenario = fc.record({
    // Per input bar: its stream position's gap from the previous one (other messages in between), a context, kept whole.
    bars: fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 9 })), { maxLength: 60 }),
    // How many of the newest bars are kept as published (the rest are made again).
    keep: fc.integer({ min: 1, max: 64 }),
    lookups: fc.array(
      fc.record({
        symbol: fc.constantFrom(...SYMBOLS, 'CCC'),
        timeframe: fc.option(fc.constantFrom(...TIMEFRAMES), { nil: undefined }),
        after: fc.integer({ min: -1, max: 200 }),
        span: fc.integer({ min: -5, max: 200 }),
        limit: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
      }),
      { maxLength: 8 },
    ),
  })

  it('answers every lookup as the bars themselves do, contexts and all', () => {
    fc.assert(
      fc.property(scenario, ({ bars, keep, lookups }) => {
        let remade = 0
        const store = new BacktestBars((k, context) => {
          remade++
          const bar = barOf(k, false)
          if (context) bar.context = context
          return bar
        }, keep)
        const whole = new Map<string, FoundBar[]>()
        let seq = 0
        bars.forEach(([gap, context, keptWhole], k) => {
          seq += gap
          const bar = barOf(k, context)
          // One bar in ten was not made from an input: it is kept as it is.
          store.add(seq, bar, keptWhole === 0 ? undefined : k)
          if (!whole.has(bar.symbol)) whole.set(bar.symbol, [])
          whole.get(bar.symbol)!.push({ seq, bar })
        })
        const asked: BarLookup[] = lookups.map(({ span, limit, ...l }) => ({ ...l, through: l.after + span, ...(limit !== undefined ? { limit } : {}) }))
        const want = lookupInMemory((symbol) => whole.get(symbol), asked)
        expect(store.found(asked)).toEqual(want)
        // Only what a lookup returns is made again.
        expect(remade).toBeLessThanOrEqual(want.reduce((n, f) => n + f.bars.length, 0))
      }),
      { numRuns: 500 },
    )
  })

  it('keeps every bar as its columns grow (thousands of bars, one symbol and two)', () => {
    const store = new BacktestBars((k, context) => Object.assign(barOf(k, false), context ? { context } : {}))
    const whole = new Map<string, FoundBar[]>()
    for (let k = 0; k < 5000; k++) {
      const bar = barOf(k, k % 7 === 0)
      store.add(2 * k + 1, bar, k)
      if (!whole.has(bar.symbol)) whole.set(bar.symbol, [])
      whole.get(bar.symbol)!.push({ seq: 2 * k + 1, bar })
    }
    const asked: BarLookup[] = [
      { symbol: 'AAA', after: 0, through: 10_000 },
      { symbol: 'BBB', timeframe: '1d', after: 2040, through: 4100 },
      { symbol: 'AAA', timeframe: '1m', after: 9000, through: 9999, limit: 3 },
    ]
    const found = store.found(asked)
    expect(found.map((f) => f.bars.length)).toEqual([2500, 257, 3])
    expect(found).toEqual(lookupInMemory((symbol) => whole.get(symbol), asked))
  })

  it('answers the newest bars with the very messages published, older ones made again', () => {
    let remade = 0
    const store = new BacktestBars((k) => {
      remade++
      return barOf(k, false)
    }, 8)
    const published = Array.from({ length: 20 }, (_, k) => barOf(k, false))
    published.forEach((bar, k) => store.add(k + 1, bar, k))
    const [found] = store.found([{ symbol: 'AAA', after: 0, through: 20 }])
    expect(found!.bars.map((b) => b.seq)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19])
    // Seqs 13-20 are the eight newest: AAA's 13, 15, 17, 19 are the objects published.
    expect(found!.bars.map((b) => b.bar === published[b.seq - 1])).toEqual([false, false, false, false, false, false, true, true, true, true])
    expect(remade).toBe(6)
  })
})
