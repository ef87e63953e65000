import { describe, expect, it } from 'vitest'
import { compileStrategy, confidenceOf, handleIndicators, strategy, watchers, type StrategyState } from '../../actors/strategy.js'
import { createCodec } from '../../src/runtime/codec.js'
import { parseConfig } from '../../src/config/env.js'
import { rulesOf } from '../../src/core/config-file/strategies.js'
import type { Message } from '../../src/core/contracts.js'
import { inbound, ofType, playSync } from '../support/actor-spec.js'
import { message } from '../support/messages.js'
import canonical from '../../examples/canonical.json' with { type: 'json' }

const codec = createCodec(16)
type Ind = Message<'md.ind'>

const config = parseConfig(canonical)
const index = watchers(config.strategies)
const fresh = (): StrategyState => ({ books: {} })
const handle = (s: StrategyState, i: Parameters<typeof handleIndicators>[1]) => handleIndicators(s, i, index)

let seq = 0
/** md.ind for ORCL on day `day` with the given fast/slow values (absent = warming up). */
function ind(day: number, values: Record<string, number>, opts: { symbol?: string; timeframe?: string; close?: number } = {}): Ind {
  const symbol = opts.symbol ?? 'ORCL'
  const timeframe = opts.timeframe ?? '1d'
  const ts = new Date(Date.UTC(2024, 0, day)).toISOString()
  const barId = `bar:${symbol}:${timeframe}:${ts}`
  const close = opts.close ?? 100 + day
  return message('md.ind', {
    id: `ind:${symbol}:${timeframe}:${ts}`,
    ts,
    causation_id: barId,
    correlation_id: barId,
    symbol,
    timeframe,
    bar_id: barId,
    bar_seq: 1000 + day,
    bar: { open: close, high: close + 1, low: close - 1, close, volume: 500 },
    values,
  })
}
const inputs = (inds: Ind[]) => inds.map((i) => inbound('md.ind', i, { seq: ++seq }))
const fs = (fast: number, slow: number) => ({ fast, slow })

describe('strategy: the canonical sma-cross', () => {
  it('given fast crossing above slow while flat, it proposes a long entry for fixed_qty 100', () => {
    const { emit } = playSync(handle, fresh(), inputs([ind(2, fs(9, 10)), ind(3, fs(11, 10))]))
    const ideas = ofType(emit, 'trade.idea')
    expect(ideas).toEqual<Message<'trade.idea'>[]>([
      {
        id: 'idea:sma-cross:ORCL:2024-01-03T00:00:00.000Z:entry:long',
        type: 'trade.idea',
        ts: '2024-01-03T00:00:00.000Z',
        causation_id: 'ind:ORCL:1d:2024-01-03T00:00:00.000Z',
        correlation_id: 'bar:ORCL:1d:2024-01-03T00:00:00.000Z',
        account: 'main',
        strategy_id: 'sma-cross',
        symbol: 'ORCL',
        side: 'buy',
        intent: 'entry',
        qty: 100,
        timeframe: '1d',
        position_side: 'long',
        close_position: false,
        price: 103,
        bar_seq: 1003,
        confidence: 100,
        reason: 'entry.long',
        order_type: 'market',
        limit_price: null,
        stop_price: null,
        valid_bars: null,
        exit_reason: null,
        sizing: { method: 'fixed_qty', value: 100, phase5: false },
        bracket: null,
        stop_distance: null,
        max_qty: null,
        max_positions: null,
        ng_score: 0,
        dpi: null,
        dpi_regime: null,
      },
    ])
    for (const out of emit) codec.check(out.type, out.data)
  })

  it('given fast crossing below slow while long, it proposes an exit of the whole position', () => {
    const { emit } = playSync(handle, fresh(), inputs([ind(2, fs(9, 10)), ind(3, fs(11, 10)), ind(4, fs(12, 10)), ind(5, fs(9, 10))]))
    const ideas = ofType(emit, 'trade.idea')
    expect(ideas.map((i) => [i.ts.slice(0, 10), i.intent, i.side, i.qty, i.close_position])).toEqual([
      ['2024-01-03', 'entry', 'buy', 100, false],
      ['2024-01-05', 'exit', 'sell', null, true], // the whole position, whatever it is at the fill
    ])
    expect(ideas[1]!.id).toBe('idea:sma-cross:ORCL:2024-01-05T00:00:00.000Z:exit:long')
    expect(ideas[1]!.reason).toBe('exit.long')
  })

  it('given a cross below while flat, it proposes nothing (no exit while flat)', () => {
    const { emit } = playSync(handle, fresh(), inputs([ind(2, fs(11, 10)), ind(3, fs(9, 10)), ind(4, fs(8, 10))]))
    expect(emit).toEqual([])
  })

  it('given a touch and a bounce while long, it neither exits nor enters again', () => {
    const { emit } = playSync(handle, fresh(), inputs([ind(2, fs(9, 10)), ind(3, fs(11, 10)), ind(4, fs(10, 10)), ind(5, fs(11, 10))]))
    expect(ofType(emit, 'trade.idea').map((i) => i.intent)).toEqual(['entry'])
  })

  it('given below, then equal, then above, it enters on the bar above (the crossing looks past the equality)', () => {
    const { emit } = playSync(handle, fresh(), inputs([ind(2, fs(9, 10)), ind(3, fs(10, 10)), ind(4, fs(10.5, 10))]))
    const ideas = ofType(emit, 'trade.idea')
    expect(ideas.map((i) => [i.ts.slice(0, 10), i.intent])).toEqual([['2024-01-04', 'entry']])
  })

  it('a crossing reads the side of its own pair, whatever the config held before (an edit between two runs)', () => {
    // Run 1: the canonical fast/slow crossing learns that fast was below slow. Run 2, on the same
    // state, trades on close crossing above slow: equal on the bar before, above now — its pair was
    // never seen, so no side is known and it does not enter, where reading "the first crossing's
    // side" would have.
    const first = playSync(handle, fresh(), inputs([ind(2, fs(9, 10)), ind(3, fs(8, 10))])).state
    expect(Object.values(first.books)[0]!.sides).toEqual({ '["fast","slow"]': -1 })
    const edited = parseConfig({
      ...canonical,
      strategies: [{ ...canonical.strategies[0]!, entry: { long: { crossesAbove: ['close', 'slow'] } }, exit: { long: { crossesBelow: ['close', 'slow'] } } }],
    })
    const index2 = watchers(edited.strategies)
    const then = (s: StrategyState, i: Parameters<typeof handleIndicators>[1]) => handleIndicators(s, i, index2)
    const { emit } = playSync(then, first, inputs([ind(4, fs(12, 104), { close: 104 }), ind(5, fs(12, 104), { close: 105 })]))
    expect(emit).toEqual([])
    // The same bars from a fresh state after close was below slow: the touch crosses.
    const below = playSync(
      then,
      fresh(),
      inputs([ind(3, fs(12, 104), { close: 103 }), ind(4, fs(12, 104), { close: 104 }), ind(5, fs(12, 104), { close: 105 })]),
    )
    expect(ofType(below.emit, 'trade.idea').map((i) => i.intent)).toEqual(['entry'])
  })

  it('given equal from the first bar, then above, it does not enter (no side was known before)', () => {
    const { emit } = playSync(handle, fresh(), inputs([ind(2, fs(10, 10)), ind(3, fs(10.5, 10))]))
    expect(emit).toEqual([])
  })

  it('while warming up (slow absent on the previous bar), it does not enter', () => {
    const { emit } = playSync(handle, fresh(), inputs([ind(2, {}), ind(3, { fast: 9 }), ind(4, fs(11, 10))]))
    expect(emit).toEqual([])
  })

  it('ignores symbols and timeframes it does not watch', () => {
    const { emit, steps } = playSync(
      handle,
      fresh(),
      inputs([
        ind(2, fs(9, 10), { symbol: 'AAPL' }),
        ind(3, fs(11, 10), { symbol: 'AAPL' }),
        ind(2, fs(9, 10), { timeframe: '1h' }),
        ind(3, fs(11, 10), { timeframe: '1h' }),
      ]),
    )
    expect(emit).toEqual([])
    expect(steps.every((s) => s.outcome === 'unwatched')).toBe(true)
  })

  it('a full cycle enter → exit → enter gives deterministic, distinct ids', () => {
    const history = inputs([ind(2, fs(9, 10)), ind(3, fs(11, 10)), ind(4, fs(9, 10)), ind(5, fs(11, 10)), ind(6, fs(9, 10))])
    const a = playSync(handle, fresh(), history)
    const b = playSync(handle, fresh(), history)
    expect(JSON.stringify(a.emit)).toBe(JSON.stringify(b.emit))
    const ids = ofType(a.emit, 'trade.idea').map((i) => i.id)
    expect(ids).toEqual([
      'idea:sma-cross:ORCL:2024-01-03T00:00:00.000Z:entry:long',
      'idea:sma-cross:ORCL:2024-01-04T00:00:00.000Z:exit:long',
      'idea:sma-cross:ORCL:2024-01-05T00:00:00.000Z:entry:long',
      'idea:sma-cross:ORCL:2024-01-06T00:00:00.000Z:exit:long',
    ])
  })

  it('state survives a JSON round-trip between bars', () => {
    const history = inputs([ind(2, fs(9, 10)), ind(3, fs(11, 10)), ind(4, fs(12, 10)), ind(5, fs(9, 10))])
    const straight = playSync(handle, fresh(), history)
    const first = playSync(handle, fresh(), history.slice(0, 2))
    const rest = playSync(handle, JSON.parse(JSON.stringify(first.state)) as StrategyState, history.slice(2))
    expect(JSON.stringify([...first.emit, ...rest.emit])).toBe(JSON.stringify(straight.emit))
  })

  it('the actor has one scope per partition on md.ind', () => {
    const scopes = strategy(config.strategies).scopes
    expect(scopes).toHaveLength(16)
    expect(scopes[3]).toEqual({ key: 'p3', partition: 3, inputs: [{ stream: 'MD', filter: 'md.ind.3.*', accepts: ['md.ind'] }] })
  })
})

describe('strategy: confidence', () => {
  const withConfidence = (confidence: unknown) => {
    const c = structuredClone(canonical) as Record<string, unknown> & { strategies: Record<string, unknown>[] }
    c.strategies[0]!.confidence = confidence
    return parseConfig(c).strategies[0]!
  }
  const now = { bar: { open: 104, high: 106, low: 103, close: 105, volume: 1 }, values: { fast: 11, slow: 10 } }

  it.each<[string, unknown, number]>([
    ['absent → 100', undefined, 100],
    ['base only', { base: 60 }, 60],
    ['base + a matching adjustment', { base: 60, adjust: [{ when: { gt: ['close', 100] }, add: 25 }] }, 85],
    ['a non-matching adjustment is ignored', { base: 60, adjust: [{ when: { lt: ['close', 100] }, add: 25 }] }, 60],
    [
      'several adjustments add up',
      {
        base: 50,
        adjust: [
          { when: { gt: ['fast', 'slow'] }, add: 10 },
          { when: { gt: ['close', 1] }, add: -5 },
        ],
      },
      55,
    ],
    ['clamped at 100', { base: 90, adjust: [{ when: { gt: ['close', 100] }, add: 25 }] }, 100],
    ['clamped at 0', { base: 10, adjust: [{ when: { gt: ['close', 100] }, add: -25 }] }, 0],
  ])('%s', (_, confidence, want) => {
    const s = rulesOf(confidence === undefined ? config.strategies : [withConfidence(confidence)])[0]!
    expect(confidenceOf(compileStrategy(s), now, undefined, {})).toBe(want)
  })

  it('the idea carries the clamped confidence of its bar', () => {
    const s = withConfidence({ base: 70, adjust: [{ when: { gt: ['close', 104] }, add: 40 }] })
    const idx = watchers([s])
    const { emit } = playSync(
      (st: StrategyState, i) => handleIndicators(st, i as never, idx),
      fresh(),
      inputs([ind(2, fs(9, 10)), ind(3, fs(11, 10), { close: 105 })]),
    )
    expect(ofType(emit, 'trade.idea')[0]!.confidence).toBe(100)
  })
})
