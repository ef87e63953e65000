import { describe, expect, it } from 'vitest'
import { declarationsOf, handleBar, indicators, type IndicatorsState } from '../../actors/indicators.js'
import { createCodec } from '../../src/runtime/codec.js'
import { parseConfig } from '../../src/config/env.js'
import type { Bar, Message } from '../../src/core/contracts.js'
import { inbound, ofType, playSync } from '../support/actor-spec.js'
import { message } from '../support/messages.js'

const codec = createCodec(16)

const config = parseConfig({
  accounts: [{ id: 'main', starting_cash: 10000 }],
  strategies: [
    {
      id: 'cross',
      account: 'main',
      symbols: ['ORCL', 'AAPL'],
      timeframe: '1d',
      indicators: { fast: { type: 'sma', period: 2 }, slow: { type: 'sma', period: 3 } },
      entry: { long: { crossesAbove: ['fast', 'slow'] } },
      sizing: { fixed_qty: 1 },
    },
    {
      id: 'trend',
      account: 'main',
      symbols: ['ORCL'],
      timeframe: '1d',
      indicators: { trend: { type: 'ema', period: 3, source: 'high' } },
      entry: { long: { gt: ['close', 'trend'] } },
      sizing: { fixed_qty: 1 },
    },
    {
      id: 'intraday',
      account: 'main',
      symbols: ['ORCL'],
      timeframe: '1h',
      indicators: { quick: { type: 'sma', period: 1 } },
      entry: { long: { gt: ['close', 'quick'] } },
      sizing: { fixed_qty: 1 },
    },
  ],
})
const declarations = declarationsOf(config.strategies)
const fresh = (): IndicatorsState => ({ series: {} })
const handle = (s: IndicatorsState, i: Parameters<typeof handleBar>[1]) => handleBar(s, i, declarations)

function mdBar(symbol: string, day: number, close: number, opts: { timeframe?: string; high?: number } = {}): Bar {
  const timeframe = opts.timeframe ?? '1d'
  const ts = new Date(Date.UTC(2024, 0, day)).toISOString()
  const id = `bar:${symbol}:${timeframe}:${ts}`
  return message('md.bar', {
    id,
    ts,
    causation_id: `md.in:${day}`,
    correlation_id: id,
    symbol,
    timeframe,
    open: close,
    high: opts.high ?? close + 1,
    low: close - 1,
    close,
    volume: 1000 + day,
  })
}
const barsOf = (bars: Bar[], seq0 = 1) => bars.map((b, i) => inbound('md.bar', b, { seq: seq0 + i }))

describe('indicators', () => {
  it('declarations merge strategies per symbol and timeframe', () => {
    expect([...declarations.keys()].sort()).toEqual(['AAPL|1d', 'ORCL|1d', 'ORCL|1h'])
    expect(Object.keys(declarations.get('ORCL|1d')!).sort()).toEqual(['fast', 'slow', 'trend'])
    expect(Object.keys(declarations.get('AAPL|1d')!).sort()).toEqual(['fast', 'slow'])
  })

  it('given bars of a symbol no strategy watches, or an undeclared timeframe, it emits nothing', () => {
    const { steps, emit } = playSync(
      handle,
      fresh(),
      barsOf([mdBar('MSFT', 2, 10), mdBar('AAPL', 2, 10, { timeframe: '1h' }), mdBar('ORCL', 2, 10, { timeframe: '5m' })]),
    )
    expect(emit).toEqual([])
    expect(steps.map((s) => s.outcome)).toEqual(['unwatched', 'unwatched', 'unwatched'])
  })

  it('values appear only after warm-up, each at its own period', () => {
    const closes = [10, 11, 12, 13, 14]
    const { emit } = playSync(handle, fresh(), barsOf(closes.map((c, i) => mdBar('ORCL', i + 2, c))))
    const values = ofType(emit, 'md.ind').map((m) => m.values)
    expect(values).toEqual([
      {},
      { fast: 10.5 },
      { fast: 11.5, slow: 11, trend: 12 }, // trend: EMA(3) of highs 11, 12, 13 seeded with their mean
      { fast: 12.5, slow: 12, trend: 13 }, // 12 + (14 − 12)·0.5
      { fast: 13.5, slow: 13, trend: 14 },
    ])
  })

  it('carries the bar, bar_seq and the bar ids, with a deterministic id', () => {
    const b = mdBar('ORCL', 2, 10)
    const step = handleBar(fresh(), inbound('md.bar', b, { seq: 4242 }), declarations)
    const [ind] = ofType(step.emit!, 'md.ind')
    expect(ind).toEqual<Message<'md.ind'>>({
      id: 'ind:ORCL:1d:2024-01-02T00:00:00.000Z',
      type: 'md.ind',
      ts: b.ts,
      causation_id: b.id,
      correlation_id: b.correlation_id,
      symbol: 'ORCL',
      timeframe: '1d',
      bar_id: b.id,
      bar_seq: 4242,
      bar: { open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume },
      values: {},
    })
    codec.check('md.ind', ind)
  })

  it('symbols and timeframes keep separate windows', () => {
    const { emit } = playSync(
      handle,
      fresh(),
      barsOf([mdBar('ORCL', 2, 10), mdBar('AAPL', 2, 100), mdBar('ORCL', 2, 50, { timeframe: '1h' }), mdBar('ORCL', 3, 20), mdBar('AAPL', 3, 200)]),
    )
    const inds = ofType(emit, 'md.ind')
    expect(inds.map((m) => [m.symbol, m.timeframe, m.values])).toEqual([
      ['ORCL', '1d', {}],
      ['AAPL', '1d', {}],
      ['ORCL', '1h', { quick: 50 }],
      ['ORCL', '1d', { fast: 15 }],
      ['AAPL', '1d', { fast: 150 }],
    ])
  })

  it('only the declared names appear, never another symbol’s', () => {
    const { emit } = playSync(handle, fresh(), barsOf(Array.from({ length: 10 }, (_, i) => mdBar('AAPL', i + 2, 100 + i))))
    for (const m of ofType(emit, 'md.ind')) for (const name of Object.keys(m.values)) expect(['fast', 'slow']).toContain(name)
  })

  it('every emitted message is a valid md.ind', () => {
    const { emit } = playSync(handle, fresh(), barsOf(Array.from({ length: 30 }, (_, i) => mdBar('ORCL', i + 1, 50 + Math.sin(i) * 5))))
    expect(emit).toHaveLength(30)
    for (const out of emit) codec.check('md.ind', out.data)
  })

  it('state survives a JSON round-trip mid-stream with identical outputs', () => {
    const bars = barsOf(Array.from({ length: 12 }, (_, i) => mdBar('ORCL', i + 1, 50 + ((i * 7) % 5))))
    const straight = playSync(handle, fresh(), bars)
    const first = playSync(handle, fresh(), bars.slice(0, 5))
    const restored = JSON.parse(JSON.stringify(first.state)) as IndicatorsState
    const rest = playSync(handle, restored, bars.slice(5))
    expect(JSON.stringify([...first.emit, ...rest.emit])).toBe(JSON.stringify(straight.emit))
  })

  it('the actor has one scope per partition, consuming md.bar of that partition', () => {
    const def = indicators(config.strategies)
    expect(def.scopes.map((s) => s.key)).toEqual([...Array(16).keys()].map((p) => `p${p}`))
    expect(def.scopes[11]).toEqual({ key: 'p11', partition: 11, inputs: [{ stream: 'MD', filter: 'md.bar.11.*', accepts: ['md.bar'] }] })
  })
})
