// A Gayed strategy's rolling state: the daily closes of its symbols lined up day by day, each complete
// day evaluated with every enabled signal (signals.ts) and their consensus (consensus.ts). Plain JSON.
import { DEFAULT_SYMBOLS, type GayedRole } from '../../../src/core/gayed-roles.js'
import { consensus, type GayedConsensus } from './consensus.js'
import { DEFAULT_PARAMS, SIGNAL_NAMES, SIGNALS, validClose, type GayedParams, type GayedSignal, type GayedSignalName } from './signals.js'

// Rolling state over interleaved daily bars

/**
 * Incomplete days kept waiting for their missing symbols before the oldest is given up: ten years of
 * trading days. Which days complete must not depend on how far one symbol's bars ran ahead of
 * another's (two processes, a slow partition, a rebuild), so the bound is a safety net against a
 * symbol that never prints, far beyond any lag a running deployment has.
 */
export const MAX_PENDING_DAYS = 2_520

export interface GayedState {
  symbols: Record<GayedRole, string | null>
  params: GayedParams
  /** Signals whose symbols are all configured, in SIGNAL_NAMES order. */
  enabled: GayedSignalName[]
  /** The symbols a day needs before it is evaluated (sorted). */
  required: string[]
  /** Closes kept per symbol (the longest lookback + 1). */
  capacity: number
  /** symbol → closes of complete days, oldest first; all arrays have the same length and days. */
  closes: Record<string, number[]>
  /** day (YYYY-MM-DD, UTC) → symbol → close, for days still missing a symbol. */
  pending: Record<string, Record<string, number>>
  /** The last evaluated day. */
  last_day: string | null
  /** Every day up to this one is closed (evaluated or given up): its bars are stale. */
  closed_through: string | null
  /** Complete days evaluated so far. */
  days: number
  /** Incomplete days given up (a symbol never printed that day, or it fell behind MAX_PENDING_DAYS). */
  dropped_days: number
}

interface GayedOptions {
  symbols?: Partial<Record<GayedRole, string | null>>
  params?: Partial<GayedParams>
}

export function newGayedState(options: GayedOptions = {}): GayedState {
  const symbols = {} as Record<GayedRole, string | null>
  for (const r of Object.keys(DEFAULT_SYMBOLS) as GayedRole[])
    symbols[r] = options.symbols?.[r] === undefined ? DEFAULT_SYMBOLS[r] : (options.symbols[r] as string | null)
  const params = { ...DEFAULT_PARAMS, ...options.params }
  const enabled = SIGNAL_NAMES.filter((name) => SIGNALS[name].roles.every((r) => symbols[r] !== null))
  const required = [...new Set(enabled.flatMap((name) => SIGNALS[name].roles.map((r) => symbols[r]!)))].sort()
  const capacity = Math.max(1, ...enabled.map((name) => SIGNALS[name].history(params)))
  const closes: Record<string, number[]> = {}
  for (const s of required) closes[s] = []
  return { symbols, params, enabled, required, capacity, closes, pending: {}, last_day: null, closed_through: null, days: 0, dropped_days: 0 }
}

export interface GayedEvaluation {
  day: string
  /** Every enabled signal in SIGNAL_NAMES order; null while its history is too short. */
  signals: Record<GayedSignalName, GayedSignal | null>
  consensus: GayedConsensus
  /** Incomplete days given up when this day completed (oldest first). */
  dropped: string[]
}

type GayedNote = 'evaluated' | 'pending' | 'unknown_symbol' | 'invalid_close' | 'invalid_ts' | 'stale' | 'duplicate'

interface GayedStep {
  state: GayedState
  /** Set when this bar completed its day. */
  evaluation: GayedEvaluation | null
  note: GayedNote
}

/** UTC calendar day of an ISO-8601 time; null when it does not parse. */
export function dayOf(ts: string): string | null {
  const ms = Date.parse(ts)
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 10) : null
}

/** The signals on the current windows (complete days only). */
function gayedSignals(state: GayedState): Record<GayedSignalName, GayedSignal | null> {
  const { symbols: sym, params: p, closes } = state
  const c = (r: GayedRole): number[] => closes[sym[r]!] ?? []
  const out = {} as Record<GayedSignalName, GayedSignal | null>
  for (const name of state.enabled) out[name] = SIGNALS[name].compute(c, p)
  return out
}

/**
 * Feeds one daily close. Closes wait in `pending` under their UTC day until every required symbol has
 * one for that day; the bar that completes the day appends the whole day to the windows and evaluates
 * it. A day's result therefore depends only on the set of its closes, never on the order in which its
 * symbols arrived; and as long as each symbol's own bars arrive in time order (market-snapshots
 * guarantees it), days are evaluated in order whatever the interleaving across symbols. A day one
 * symbol never prints (a holiday of one market) is dropped when a later day completes, so the windows
 * only hold days every symbol traded and lookbacks count those days. Per symbol and day the first
 * close wins (a redelivery is a duplicate); feed 1d bars. At most MAX_PENDING_DAYS incomplete days
 * wait (a symbol that stops printing must not grow the state forever); the oldest beyond that are
 * given up, which only changes results if one symbol lags the others by more than that many days
 * (ten years of trading days: a symbol that never prints, not a slow one).
 * Bars of a day already evaluated or given up are stale. Updates `state` in place.
 */
export function updateGayed(state: GayedState, symbol: string, ts: string, close: number): GayedStep {
  if (!Object.hasOwn(state.closes, symbol)) return { state, evaluation: null, note: 'unknown_symbol' }
  if (!validClose(close)) return { state, evaluation: null, note: 'invalid_close' }
  const day = dayOf(ts)
  if (day === null) return { state, evaluation: null, note: 'invalid_ts' }
  if (state.closed_through !== null && day <= state.closed_through) return { state, evaluation: null, note: 'stale' }
  const bucket = (state.pending[day] ??= {})
  if (Object.hasOwn(bucket, symbol)) return { state, evaluation: null, note: 'duplicate' }
  bucket[symbol] = close
  if (!state.required.every((s) => Object.hasOwn(bucket, s))) {
    trimPending(state)
    return { state, evaluation: null, note: Object.hasOwn(state.pending, day) ? 'pending' : 'stale' }
  }
  const dropped: string[] = []
  for (const d of Object.keys(state.pending).sort()) {
    if (d < day) {
      dropped.push(d)
      delete state.pending[d]
    }
  }
  delete state.pending[day]
  state.dropped_days += dropped.length
  for (const s of state.required) {
    const w = state.closes[s]!
    w.push(bucket[s]!)
    while (w.length > state.capacity) w.shift()
  }
  state.last_day = day
  state.closed_through = day
  state.days++
  const signals = gayedSignals(state)
  return { state, evaluation: { day, signals, consensus: consensus(Object.values(signals)), dropped }, note: 'evaluated' }
}

/** Bounds the waiting room: past MAX_PENDING_DAYS incomplete days, the oldest are given up. */
function trimPending(state: GayedState): void {
  const days = Object.keys(state.pending)
  if (days.length <= MAX_PENDING_DAYS) return
  days.sort()
  for (const d of days.slice(0, days.length - MAX_PENDING_DAYS)) {
    delete state.pending[d]
    state.dropped_days++
    state.closed_through = d
  }
}
