import { describe, expect, it } from 'vitest'
import {
  adoptShare,
  DEFAULT_TIMEFRAME,
  handleContext,
  handleInjectedBar,
  marketSnapshots,
  partitionOfRaw,
  partSubject,
  rawSubject,
  snapshotScopes,
  WHOLE,
  type SnapshotsState,
} from '../../actors/market-snapshots.js'
import { subjectOf } from '../../src/core/subjects.js'
import { takes } from '../../src/core/actor.js'
import { partitionOf } from '../../src/core/partition.js'
import { createCodec } from '../../src/runtime/codec.js'
import type { Bar, InjectedBar } from '../../src/core/contracts.js'
import { inbound, injected, ofType, playSync } from '../support/actor-spec.js'
import { message } from '../support/messages.js'

const codec = createCodec(16)
const fresh = (): SnapshotsState => ({ last: {} })
const handle = (s: SnapshotsState, i: Parameters<typeof handleInjectedBar>[1]) => handleInjectedBar(s, i)

const ohlcv = { open: 10, high: 11, low: 9, close: 10.5, volume: 100 }
const bar = (ts: string, over: Partial<InjectedBar> = {}): InjectedBar => message('md.in.bar', { ts, ...ohlcv, ...over })

describe('market-snapshots', () => {
  it('given a bar typed by an operator, it emits md.bar with a deterministic id, canonical ts and default timeframe', () => {
    const step = handleInjectedBar(fresh(), injected('ORCL', bar('2024-01-02'), 1, 'op-1'))
    expect(step.outcome).toBeUndefined()
    expect(step.emit).toEqual([
      {
        type: 'md.bar',
        data: {
          id: 'bar:ORCL:1d:2024-01-02T00:00:00.000Z',
          type: 'md.bar',
          ts: '2024-01-02T00:00:00.000Z',
          causation_id: 'op-1',
          correlation_id: 'bar:ORCL:1d:2024-01-02T00:00:00.000Z',
          symbol: 'ORCL',
          timeframe: DEFAULT_TIMEFRAME,
          ...ohlcv,
        },
      },
    ])
    expect(DEFAULT_TIMEFRAME).toBe('1d')
    codec.check('md.bar', step.emit![0]!.data)
  })

  it.each([
    ['2024-01-02', '2024-01-02T00:00:00.000Z'],
    ['2024-01-02T00:00:00Z', '2024-01-02T00:00:00.000Z'],
    ['2024-01-02T14:30:00.5Z', '2024-01-02T14:30:00.500Z'],
    ['2024-01-02T09:30:00-05:00', '2024-01-02T14:30:00.000Z'],
    ['2024-01-02T01:00:00+02:00', '2024-01-01T23:00:00.000Z'],
  ])('given ts %s, the bar time is the canonical UTC %s', (ts, canonical) => {
    const step = handleInjectedBar(fresh(), injected('ORCL', bar(ts), 1))
    const [b] = ofType(step.emit!, 'md.bar')
    expect(b!.ts).toBe(canonical)
    expect(b!.id).toBe(`bar:ORCL:1d:${canonical}`)
  })

  it('takes causation_id from the Nats-Msg-Id, or md.in:<seq> without one', () => {
    const a = handleInjectedBar(fresh(), injected('ORCL', bar('2024-01-02'), 17, 'feed:orcl:1'))
    const b = handleInjectedBar(fresh(), injected('ORCL', bar('2024-01-02'), 17))
    expect(ofType(a.emit!, 'md.bar')[0]!.causation_id).toBe('feed:orcl:1')
    expect(ofType(b.emit!, 'md.bar')[0]!.causation_id).toBe('md.in:17')
  })

  it('takes the symbol from the subject', () => {
    const step = handleInjectedBar(fresh(), injected('BRK-B', bar('2024-01-02', { symbol: 'BRK-B' }), 1))
    expect(ofType(step.emit!, 'md.bar')[0]).toMatchObject({ symbol: 'BRK-B', id: 'bar:BRK-B:1d:2024-01-02T00:00:00.000Z' })
  })

  it.each<[string, string, string, string | undefined]>([
    // first ts, second ts, the second's outcome
    ['the same bar again', '2024-01-02', '2024-01-02', 'duplicate'],
    ['the same instant written differently', '2024-01-02T00:00:00Z', '2024-01-01T19:00:00-05:00', 'duplicate'],
    ['an older bar', '2024-01-03', '2024-01-02', 'out_of_order'],
    ['a newer bar', '2024-01-02', '2024-01-03', undefined],
  ])('given %s, the second bar has outcome %s', (_, first, second, outcome) => {
    const { steps } = playSync(handle, fresh(), [injected('ORCL', bar(first), 1), injected('ORCL', bar(second), 2)])
    expect(steps[1]!.outcome).toBe(outcome)
    expect(steps[1]!.emit?.length ?? 0).toBe(outcome ? 0 : 1)
  })

  it('a refused (duplicate, out-of-order) bar does not move the last accepted time', () => {
    const { steps, state } = playSync(handle, fresh(), [
      injected('ORCL', bar('2024-01-05'), 1),
      injected('ORCL', bar('2024-01-03'), 2),
      injected('ORCL', bar('2024-01-04'), 3),
      injected('ORCL', bar('2024-01-06'), 4),
    ])
    expect(steps.map((s) => s.outcome)).toEqual([undefined, 'out_of_order', 'out_of_order', undefined])
    expect(state.last).toEqual({ 'ORCL|1d': { ts: '2024-01-06T00:00:00.000Z', ...ohlcv } })
  })

  it.each<[string, Partial<InjectedBar>]>([
    ['another open', { open: 10.25 }],
    ['another high', { high: 11.5 }],
    ['another low', { low: 8.5 }],
    ['another close', { close: 10 }],
    ['another volume', { volume: 101 }],
  ])('given a bar at the time of the last accepted one with %s, it is refused with both values and changes nothing', (_, change) => {
    const { steps, state, emit } = playSync(handle, fresh(), [injected('ORCL', bar('2024-01-02'), 1), injected('ORCL', bar('2024-01-02T00:00:00Z', change), 2)])
    expect(emit).toHaveLength(1)
    expect(steps[1]!.outcome).toBe('conflict')
    expect(steps[1]!.emit).toBeUndefined()
    const sent = { ...ohlcv, ...change }
    expect(steps[1]!.refused).toBe(
      'the ORCL 1d bar of 2024-01-02T00:00:00.000Z contradicts the one already accepted: open 10 high 11 low 9 close 10.5 volume 100 accepted, ' +
        `open ${sent.open} high ${sent.high} low ${sent.low} close ${sent.close} volume ${sent.volume} received (corrections are not applied: indicators and trades already used the accepted bar)`,
    )
    expect(state.last).toEqual({ 'ORCL|1d': { ts: '2024-01-02T00:00:00.000Z', ...ohlcv } })
  })

  it('an older bar with other values is out of order, not refused: only the last bar is remembered, and replays re-send old bars', () => {
    const { steps } = playSync(handle, fresh(), [
      injected('ORCL', bar('2024-01-02'), 1),
      injected('ORCL', bar('2024-01-03'), 2),
      injected('ORCL', bar('2024-01-02', { close: 9.5 }), 3),
    ])
    expect(steps[2]).toMatchObject({ outcome: 'out_of_order' })
    expect(steps[2]!.refused).toBeUndefined()
  })

  it('a context at the time of the latest one: the same forecasts are a duplicate, others are refused with both', () => {
    const ctx = (consensus_forecast: number, distribution_estimate: number, seq: number) =>
      inbound('md.in.context', { ts: '2024-01-02', consensus_forecast, distribution_estimate }, { seq, tokens: { symbol: 'ORCL' } })
    const { steps, state } = playSync(handleContext, fresh(), [ctx(10, 12, 1), ctx(10, 12, 2), ctx(11, 12, 3)])
    expect(steps.map((s) => s.outcome)).toEqual(['context', 'duplicate', 'conflict'])
    expect(steps[2]!.refused).toBe(
      'the ORCL context of 2024-01-02T00:00:00.000Z contradicts the one already accepted: consensus_forecast 10 distribution_estimate 12 accepted, consensus_forecast 11 distribution_estimate 12 received (corrections are not applied)',
    )
    expect(state.context).toEqual({ ORCL: { ts: '2024-01-02T00:00:00.000Z', consensus_forecast: 10, distribution_estimate: 12 } })
  })

  it('symbols and timeframes are independent', () => {
    const { emit, steps } = playSync(handle, fresh(), [
      injected('ORCL', bar('2024-01-02'), 1),
      injected('ORCL', bar('2024-01-02T00:00:00Z', { timeframe: '1h' }), 2),
      injected('AAPL', bar('2024-01-02'), 3),
      injected('ORCL', bar('2024-01-01T23:00:00Z', { timeframe: '1h' }), 4), // older than the 1h bar: refused
      injected('ORCL', bar('2024-01-02T01:00:00Z', { timeframe: '1h' }), 5), // older than nothing on 1d's timeline matters
    ])
    expect(steps.map((s) => s.outcome)).toEqual([undefined, undefined, undefined, 'out_of_order', undefined])
    expect(ofType(emit, 'md.bar').map((b) => b.id)).toEqual([
      'bar:ORCL:1d:2024-01-02T00:00:00.000Z',
      'bar:ORCL:1h:2024-01-02T00:00:00.000Z',
      'bar:AAPL:1d:2024-01-02T00:00:00.000Z',
      'bar:ORCL:1h:2024-01-02T01:00:00.000Z',
    ])
  })

  it('the actor definition: a router over all of MD_IN, then a scope per partition reading its copies, from empty state', () => {
    const def = marketSnapshots()
    expect(def.name).toBe('market-snapshots')
    expect(def.ordered).toBe(true)
    expect(def.scopes.map((s) => s.key)).toEqual(['route', ...Array.from({ length: 16 }, (_, p) => `p${p}`)])
    const [router, ...partitions] = def.scopes
    // No filter: the whole stream, so a message on a subject no contract knows is dead-lettered too.
    expect(router!.inputs).toEqual([{ stream: 'MD_IN', accepts: [] }])
    expect(router!.partition).toBeUndefined()
    expect(router!.route!('md.in.bar.ORCL')).toBe(`md.part.${partitionOf('ORCL')}.bar.ORCL`)
    partitions.forEach((scope, p) => {
      expect(scope.partition).toBe(p)
      expect(scope.inputs).toHaveLength(1)
      expect(scope.inputs[0]).toMatchObject({ stream: 'MD_PART', filter: `md.part.${p}.>`, accepts: ['md.in.bar', 'md.in.context'] })
      expect(scope.inputs[0]!.routed!.from).toBe('MD_IN')
      expect(def.init(scope)).toEqual({ last: {} })
    })
    // The state holds the last bar's values since version 2: a checkpoint of times only is ignored.
    expect(def.stateVersion).toBe(2)
    // Releases before the split had one scope; its checkpoint and position are taken over.
    expect(def.predecessor?.scope).toBe(WHOLE)
  })

  it('every raw message goes to exactly one scope: its symbol’s partition, the one its md.bar goes to, and reads as the original', () => {
    const scopes = snapshotScopes(16)
    const symbols = ['ORCL', 'MSFT', 'SPY', 'XLU', 'TLT', 'GLD', 'VIX', 'BTC-USD', 'A', 'ZZZZ', 'ÅB']
    const takers = (subject: string) => scopes.filter((s) => s.inputs.some((i) => takes(i, 'MD_IN', subject, 'md.in.bar')))
    for (const symbol of symbols)
      for (const kind of ['bar', 'context']) {
        const subject = `md.in.${kind}.${symbol}`
        const copy = partSubject(subject, 16)
        expect(copy).toBe(`md.part.${partitionOf(symbol)}.${kind}.${symbol}`)
        expect(rawSubject(copy)).toBe(subject)
        expect(
          takers(subject).map((s) => s.partition),
          subject,
        ).toEqual([partitionOfRaw(subject, 16)])
        expect(subjectOf('md.bar', { symbol }, 16), subject).toBe(`md.bar.${partitionOf(symbol)}.${symbol}`)
      }
    // A subject no contract knows: partition 0, which dead-letters it under its own subject.
    for (const subject of ['md.in.bar.BRK.B', 'md.in.tick.ORCL', 'md.in.bar']) {
      expect(
        takers(subject).map((s) => s.key),
        subject,
      ).toEqual(['p0'])
      expect(rawSubject(partSubject(subject, 16))).toBe(subject)
    }
  })

  it('a scope adopts its share of the one scope of earlier releases: together the shares are the whole', () => {
    const whole: SnapshotsState = { last: {}, context: {} }
    for (const symbol of ['ORCL', 'MSFT', 'SPY', 'XLU', 'TLT', 'GLD']) {
      handleInjectedBar(whole, injected(symbol, bar('2024-01-02'), 1))
      handleInjectedBar(whole, injected(symbol, bar('2024-01-02T00:00:00Z', { timeframe: '1h' }), 2))
      whole.context![symbol] = { ts: '2024-01-01T00:00:00.000Z', consensus_forecast: 1, distribution_estimate: 2 }
    }
    const scopes = snapshotScopes(16)
    const shares = scopes.map((scope) => adoptShare(whole, scope, 16))
    const union: SnapshotsState = { last: Object.assign({}, ...shares.map((s) => s.last)), context: Object.assign({}, ...shares.map((s) => s.context)) }
    expect(union).toEqual(whole)
    expect(shares.filter((s) => Object.keys(s.last).length > 0).length).toBeGreaterThan(2)
    // A share holds only its own symbols: a re-sent bar of another partition is news there — but never reaches it.
    // The router's share is nothing: it keeps no state.
    shares.forEach((share, i) => {
      for (const key of Object.keys(share.last)) expect(partitionOfRaw(`md.in.bar.${key.split('|')[0]}`, 16)).toBe(scopes[i]!.partition)
    })
    expect(shares[0]).toEqual({ last: {}, context: {} })
  })

  it('state survives a JSON round-trip: a restored actor still refuses the duplicate', () => {
    const { state } = playSync(handle, fresh(), [injected('ORCL', bar('2024-01-02'), 1)])
    const restored = JSON.parse(JSON.stringify(state)) as SnapshotsState
    expect(handleInjectedBar(restored, injected('ORCL', bar('2024-01-02'), 2)).outcome).toBe('duplicate')
  })

  it('every emitted bar is a valid md.bar', () => {
    const { emit } = playSync(
      handle,
      fresh(),
      Array.from({ length: 20 }, (_, i) => injected('ORCL', bar(`2024-02-${String(i + 1).padStart(2, '0')}`), i + 1)),
    )
    expect(emit).toHaveLength(20)
    for (const out of emit) codec.check('md.bar', out.data as Bar)
  })
})
