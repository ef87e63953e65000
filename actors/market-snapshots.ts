// market-snapshots: turns bars typed by people and feeds (md.in.bar.<SYM>) into the canonical,
// partitioned bar stream (md.bar.<P>.<SYM>). The codec has already refused malformed bars (they are
// dead-lettered); here a bar whose time is not after the last accepted bar of its symbol and
// timeframe is dropped and counted: re-sent bars never trade twice, late bars never rewrite history.
// Phase-5 context (md.in.context.<SYM>: the forecasts NarrativeGap compares) arrives on the same
// stream; the latest accepted one rides on every later bar of its symbol, so a bar and the context
// it is judged with are fixed by the order of MD_IN alone, in the daemon as in a backtest.
// Pure: no I/O, no clock.
import { defineActor, type Inbound, type Scope, type Step } from '../src/actor.js'
import type { Bar } from '../src/contracts.js'
import { PairMemo, pairKeys } from './lib/keys.js'

export const DEFAULT_TIMEFRAME = '1d'

type Context = NonNullable<Bar['context']>

export interface SnapshotsState {
  /** `${symbol}|${timeframe}` → canonical ts of the last accepted bar. */
  last: Record<string, string>
  /** symbol → the latest accepted context. */
  context?: Record<string, Context>
}

// Everything that lands in MD_IN is judged here, so a message on a subject no contract knows
// (md.in.bar.BRK.B) is dead-lettered rather than left unread.
export const scope: Scope = {
  key: 'all',
  inputs: [{ stream: 'MD_IN', accepts: ['md.in.bar', 'md.in.context'] }],
}

/** `${symbol}|${timeframe}`, the keys of `last`. */
const lastKeys = pairKeys()
/** `bar:${symbol}:${timeframe}:`, the start of every bar id of the pair (the bar time follows). */
const barIds = new PairMemo((symbol, timeframe) => `bar:${symbol}:${timeframe}:`)

export function handleInjectedBar(state: SnapshotsState, input: Inbound<'md.in.bar'>): Step<SnapshotsState> {
  const symbol = input.params.symbol!
  const timeframe = input.data.timeframe ?? DEFAULT_TIMEFRAME
  const ts = canonicalTime(input.data.ts)
  const key = lastKeys.get(symbol, timeframe)
  const last = state.last[key]
  if (last !== undefined && ts <= last) return { state, outcome: ts === last ? 'duplicate' : 'out_of_order' }
  state.last[key] = ts
  const id = barIds.get(symbol, timeframe) + ts
  const { open, high, low, close, volume } = input.data
  const bar: Bar = {
    id,
    type: 'md.bar',
    ts,
    causation_id: input.msgId ?? `md.in:${input.seq}`,
    correlation_id: id,
    symbol,
    timeframe,
    open,
    high,
    low,
    close,
    volume,
  }
  const context = state.context?.[symbol]
  if (context) bar.context = context
  return { state, emit: [{ type: 'md.bar', data: bar }] }
}

/** Keeps the newest context per symbol; an older or equal time is a duplicate or out of order. */
export function handleContext(state: SnapshotsState, input: Inbound<'md.in.context'>): Step<SnapshotsState> {
  const symbol = input.params.symbol!
  const ts = canonicalTime(input.data.ts)
  const contexts = (state.context ??= {})
  const last = contexts[symbol]
  if (last && ts <= last.ts) return { state, outcome: ts === last.ts ? 'duplicate' : 'out_of_order' }
  contexts[symbol] = { ts, consensus_forecast: input.data.consensus_forecast, distribution_estimate: input.data.distribution_estimate }
  return { state, outcome: 'context' }
}

export const marketSnapshots = () =>
  defineActor<SnapshotsState>({
    name: 'market-snapshots',
    ordered: true,
    scopes: [scope],
    init: () => ({ last: {} }),
    handle: (state, input) => (input.type === 'md.in.context' ? handleContext(state, input as Inbound<'md.in.context'>) : handleInjectedBar(state, input as Inbound<'md.in.bar'>)),
  })

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** ISO-8601 UTC with milliseconds; already-canonical times (CSV replays) skip the Date round trip. */
export function canonicalTime(ts: string): string {
  return CANONICAL.test(ts) ? ts : new Date(ts).toISOString()
}
