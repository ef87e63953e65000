// market-snapshots: turns bars typed by people and feeds (md.in.bar.<SYM>) into the canonical,
// partitioned bar stream (md.bar.<P>.<SYM>). The codec has already refused malformed bars (they are
// dead-lettered); here a bar whose time is not after the last accepted bar of its symbol and
// timeframe is not forwarded: re-sent bars never trade twice, late bars never rewrite history.
// - The same time with the same values (a re-send, a replay) is a `duplicate`: counted, nothing else.
// - The same time with other values (a provider's correction) is refused: dead-lettered with both
//   values and logged. Corrections are not applied: indicators, ideas and fills were already made
//   from the first bar, and replaying the stream must make them again, so the first one stands.
// - An earlier time is `out_of_order`, whatever its values: only the last bar's values are kept, and
//   a replay of a whole file re-sends every earlier bar (that is no error either).
// Phase-5 context (md.in.context.<SYM>: the forecasts NarrativeGap compares) arrives on the same
// stream; the latest accepted one rides on every later bar of its symbol, so a bar and the context
// it is judged with are fixed by the order of MD_IN alone, in the daemon as in a backtest. A context
// at the time of the latest one is judged like a bar: the same values are a duplicate, others refused.
//
// One scope per symbol partition, so it scales like the other actors. Operators publish plain
// `md.in.bar.<SYM>`, and nats-server 2.9 cannot partition a stream's subjects, so a router scope
// (`route`, stateless, leased like the rest) copies each raw message, unread and with its message id,
// to `md.part.<P>.bar.<SYM>` in MD_PART; partition P's scope reads only `md.part.<P>.>`. The cost: one
// more hop per raw message (a publish and its PubAck), and MD_PART keeps a second copy of the raw
// data. A symbol's bars keep their MD_IN order; bars of symbols in different partitions reach MD in
// whatever order their scopes publish them.
// Pure: no I/O, no clock.
import { defineActor, type Inbound, type Scope, type Step } from '../src/core/actor.js'
import type { Bar } from '../src/core/contracts.js'
import { PairMemo, pairKeys } from '../src/core/memo.js'
import { DEFAULT_PARTITIONS, partitionOf } from '../src/core/partition.js'
import { matchSubject } from '../src/core/subjects.js'
import { CANONICAL_TS } from '../src/core/schemas.js'

export const DEFAULT_TIMEFRAME = '1d'

type Context = NonNullable<Bar['context']>

/** The last accepted bar of a symbol and timeframe: its canonical time and its values. */
interface LastBar {
  ts: string
  open: number
  high: number
  low: number
  close: number
  volume: number
}

export interface SnapshotsState {
  /** `${symbol}|${timeframe}` → the last accepted bar (a bar at its time again must carry its values). */
  last: Record<string, LastBar>
  /** symbol → the latest accepted context. */
  context?: Record<string, Context>
}

/**
 * The partition whose scope handles a raw message: its symbol's. Everything that lands in MD_IN is
 * judged by some scope, so a subject no contract knows (md.in.bar.BRK.B) goes to partition 0 and
 * is dead-lettered there rather than left unread.
 */
export function partitionOfRaw(subject: string, partitions: number): number {
  const symbol = matchSubject(subject)?.params.symbol
  return symbol === undefined ? 0 : partitionOf(symbol, partitions)
}

/** Where the router copies a raw message: `md.part.<P>.<rest>`, P the partition of its symbol. */
export function partSubject(subject: string, partitions: number): string {
  return `md.part.${partitionOfRaw(subject, partitions)}.${subject.slice(RAW_PREFIX.length)}`
}

/** The raw subject a copy in MD_PART stands for. */
export function rawSubject(subject: string): string {
  let at = 0
  for (let dots = 0; dots < 3; dots++) at = subject.indexOf('.', at) + 1
  return RAW_PREFIX + subject.slice(at)
}

const RAW_PREFIX = 'md.in.'

/** The router: every raw message to its partition's subject in MD_PART. */
const routerScope = (partitions: number): Scope => ({
  key: 'route',
  inputs: [{ stream: 'MD_IN', accepts: [] }],
  route: (subject) => partSubject(subject, partitions),
})

/** The router, then one scope per symbol partition reading that partition's copies. */
export function snapshotScopes(partitions: number): Scope[] {
  const routed = { from: 'MD_IN' as const, route: (subject: string) => partSubject(subject, partitions), unroute: rawSubject }
  return [
    routerScope(partitions),
    ...Array.from({ length: partitions }, (_, partition) => ({
      key: `p${partition}`,
      partition,
      inputs: [{ stream: 'MD_PART' as const, filter: `md.part.${partition}.>`, accepts: ['md.in.bar', 'md.in.context'] as const, routed }],
    })),
  ]
}

/** The one scope of releases before the split: every partition's scope takes over its share of it. */
export const WHOLE: Scope = { key: 'all', inputs: [{ stream: 'MD_IN', accepts: ['md.in.bar', 'md.in.context'] }] }

/** A predecessor's state, cut down to the symbols of one partition's scope. */
export function adoptShare(state: SnapshotsState, scope: Scope, partitions: number): SnapshotsState {
  const mine = (symbol: string) => partitionOf(symbol, partitions) === scope.partition
  const out: SnapshotsState = { last: Object.fromEntries(Object.entries(state.last).filter(([key]) => mine(key.slice(0, key.indexOf('|'))))) }
  if (state.context) out.context = Object.fromEntries(Object.entries(state.context).filter(([symbol]) => mine(symbol)))
  return out
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
  const { open, high, low, close, volume } = input.data
  if (last !== undefined && ts <= last.ts) {
    if (ts < last.ts) return { state, outcome: 'out_of_order' }
    if (last.open === open && last.high === high && last.low === low && last.close === close && last.volume === volume) return { state, outcome: 'duplicate' }
    return {
      state,
      outcome: 'conflict',
      refused: `the ${symbol} ${timeframe} bar of ${ts} contradicts the one already accepted: ${ohlcv(last)} accepted, ${ohlcv(input.data)} received (corrections are not applied: indicators and trades already used the accepted bar)`,
    }
  }
  // Updated in place: no allocation per bar once a pair has been seen.
  if (last) {
    last.ts = ts
    last.open = open
    last.high = high
    last.low = low
    last.close = close
    last.volume = volume
  } else state.last[key] = { ts, open, high, low, close, volume }
  const id = barIds.get(symbol, timeframe) + ts
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

const ohlcv = (b: Omit<LastBar, 'ts'>) => `open ${b.open} high ${b.high} low ${b.low} close ${b.close} volume ${b.volume}`

/** Keeps the newest context per symbol; an older time is out of order, the same time a duplicate or refused. */
export function handleContext(state: SnapshotsState, input: Inbound<'md.in.context'>): Step<SnapshotsState> {
  const symbol = input.params.symbol!
  const ts = canonicalTime(input.data.ts)
  const contexts = (state.context ??= {})
  const last = contexts[symbol]
  const { consensus_forecast, distribution_estimate } = input.data
  if (last && ts <= last.ts) {
    if (ts < last.ts) return { state, outcome: 'out_of_order' }
    if (last.consensus_forecast === consensus_forecast && last.distribution_estimate === distribution_estimate) return { state, outcome: 'duplicate' }
    return {
      state,
      outcome: 'conflict',
      refused: `the ${symbol} context of ${ts} contradicts the one already accepted: ${forecasts(last)} accepted, ${forecasts(input.data)} received (corrections are not applied)`,
    }
  }
  contexts[symbol] = { ts, consensus_forecast, distribution_estimate }
  return { state, outcome: 'context' }
}

const forecasts = (c: Pick<Context, 'consensus_forecast' | 'distribution_estimate'>) =>
  `consensus_forecast ${c.consensus_forecast} distribution_estimate ${c.distribution_estimate}`

export const marketSnapshots = (partitions = DEFAULT_PARTITIONS) =>
  defineActor<SnapshotsState>({
    name: 'market-snapshots',
    ordered: true,
    // 2: `last` holds the last bar's values, not only its time (a contradicting bar is refused).
    // Its shape did not change with the split into partitions: the scopes adopt the old checkpoint.
    stateVersion: 2,
    scopes: snapshotScopes(partitions),
    predecessor: { scope: WHOLE, adopt: (state, scope) => adoptShare(state, scope, partitions) },
    init: () => ({ last: {} }),
    handle: (state, input) =>
      input.type === 'md.in.context' ? handleContext(state, input as Inbound<'md.in.context'>) : handleInjectedBar(state, input as Inbound<'md.in.bar'>),
  })

/** ISO-8601 UTC with milliseconds; already-canonical times (CSV replays) skip the Date round trip. */
function canonicalTime(ts: string): string {
  return CANONICAL_TS.test(ts) ? ts : new Date(ts).toISOString()
}
