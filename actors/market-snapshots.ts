// market-snapshots: turns bars typed by people and feeds (md.in.bar.<SYM>) into the canonical,
// partitioned bar stream (md.bar.<P>.<SYM>). The codec has already refused malformed bars (they are
// dead-lettered); here a bar whose time is not after the last accepted bar of its symbol and
// timeframe is dropped and counted: re-sent bars never trade twice, late bars never rewrite history.
// Pure: no I/O, no clock.
import { defineActor, type Inbound, type Scope, type Step } from '../src/actor.js'
import type { Bar } from '../src/contracts.js'

export const DEFAULT_TIMEFRAME = '1d'

export interface SnapshotsState {
  /** `${symbol}|${timeframe}` → canonical ts of the last accepted bar. */
  last: Record<string, string>
}

// Everything that lands in MD_IN is judged here, so a message on a subject no contract knows
// (md.in.bar.BRK.B) is dead-lettered rather than left unread.
export const scope: Scope = {
  key: 'all',
  inputs: [{ stream: 'MD_IN', accepts: ['md.in.bar'] }],
}

export function handleInjectedBar(state: SnapshotsState, input: Inbound<'md.in.bar'>): Step<SnapshotsState> {
  const symbol = input.params.symbol!
  const timeframe = input.data.timeframe ?? DEFAULT_TIMEFRAME
  const ts = canonicalTime(input.data.ts)
  const key = `${symbol}|${timeframe}`
  const last = state.last[key]
  if (last !== undefined && ts <= last) return { state, outcome: ts === last ? 'duplicate' : 'out_of_order' }
  state.last[key] = ts
  const id = `bar:${symbol}:${timeframe}:${ts}`
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
  return { state, emit: [{ type: 'md.bar', data: bar }] }
}

export const marketSnapshots = () =>
  defineActor<SnapshotsState>({
    name: 'market-snapshots',
    ordered: true,
    scopes: [scope],
    init: () => ({ last: {} }),
    handle: (state, input) => handleInjectedBar(state, input as Inbound<'md.in.bar'>),
  })

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** ISO-8601 UTC with milliseconds; already-canonical times (CSV replays) skip the Date round trip. */
export function canonicalTime(ts: string): string {
  return CANONICAL.test(ts) ? ts : new Date(ts).toISOString()
}
