// The Gayed Risk-On/Risk-Off consensus (SPEC §5.2, seed 001): five signals over daily closes and the
// consensus that combines them, as pure functions, plus a plain-JSON rolling state that lines up the
// closes of several symbols day by day.
//
// Every definition is the TypeScript original's, philbeliveau/gayed-signals-dashboard @9ba757e,
// src/domains/trading-signals/engines/gayed-signals/: utilities-spy.ts, lumber-gold.ts,
// treasury-curve.ts, vix-defensive.ts, sp500-ma.ts, and index.ts::calculateConsensusSignal (the rule
// /api/signals uses; the repo's orchestrator.ts and Python backtrader variants disagree with it and
// are not used). Thresholds compare strictly as the original does (`>`/`<`), so a value exactly on a
// threshold falls to the weaker side. The originals' `date`/`metadata` fields are left out.
import { DEFAULT_SYMBOLS, type GayedRole } from '../../src/core/gayed-roles.js'

export type GayedSide = 'Risk-On' | 'Risk-Off' | 'Neutral'
export type GayedStrength = 'Strong' | 'Moderate' | 'Weak'
export type GayedSignalName = 'utilities_spy' | 'lumber_gold' | 'treasury_curve' | 'vix_defensive' | 'sp500_ma'

export interface GayedSignal {
  name: GayedSignalName
  signal: GayedSide
  /** The original's rawValue: the ratio (utilities, lumber, treasury), the VIX level, or price ÷ SMA200. */
  value: number
  strength: GayedStrength
  /** 0–1. */
  confidence: number
}

export const SIGNAL_NAMES: readonly GayedSignalName[] = ['utilities_spy', 'lumber_gold', 'treasury_curve', 'vix_defensive', 'sp500_ma']

/** The originals' parameters (lookbacks in trading days, i.e. closes). */
export interface GayedParams {
  utilities_lookback: number
  lumber_lookback: number
  treasury_lookback: number
  vix_threshold: number
  ma_short: number
  ma_long: number
}

export const DEFAULT_PARAMS: GayedParams = {
  utilities_lookback: 21, // utilities-spy.ts `lookback = 21`
  lumber_lookback: 91, // lumber-gold.ts `lookback = 91` ("13-week")
  treasury_lookback: 21, // treasury-curve.ts `lookback: number = 21`
  vix_threshold: 12.5, // vix-defensive.ts `threshold: number = 12.5`
  ma_short: 50, // sp500-ma.ts `shortPeriod: number = 50`
  ma_long: 200, // sp500-ma.ts `longPeriod: number = 200`
}

const valid = (p: number): boolean => p > 0 && Number.isFinite(p)

function strengthOf(d: number, strong: number, moderate: number): GayedStrength {
  if (d > strong) return 'Strong'
  if (d > moderate) return 'Moderate'
  return 'Weak'
}

/**
 * utilities-spy.ts: ratio = (1 + XLU return) ÷ (1 + SPY return) over `lookback` closes; > 1 → Risk-Off
 * (utilities leading), else Risk-On. d = |ratio − 1|: Strong > 0.05, Moderate > 0.02; confidence
 * min(10·d, 1). Needs lookback + 1 closes of each.
 */
export function utilitiesSpy(xlu: readonly number[], spy: readonly number[], lookback = DEFAULT_PARAMS.utilities_lookback): GayedSignal | null {
  if (xlu.length < lookback + 1 || spy.length < lookback + 1) return null
  const x = xlu.filter(valid)
  const s = spy.filter(valid)
  if (x.length < lookback + 1 || s.length < lookback + 1) return null
  const xluReturn = x[x.length - 1]! / x[x.length - 1 - lookback]! - 1
  const spyReturn = s[s.length - 1]! / s[s.length - 1 - lookback]! - 1
  const denominator = 1 + spyReturn
  if (Math.abs(denominator) < 0.0001) return { name: 'utilities_spy', signal: 'Neutral', strength: 'Weak', confidence: 0.1, value: 1 }
  const ratio = (1 + xluReturn) / denominator
  if (!Number.isFinite(ratio)) return null
  const d = Math.abs(ratio - 1)
  return {
    name: 'utilities_spy',
    signal: ratio > 1 ? 'Risk-Off' : 'Risk-On',
    value: ratio,
    strength: strengthOf(d, 0.05, 0.02),
    confidence: Math.min(d * 10, 1),
  }
}

/**
 * lumber-gold.ts: LG = (WOOD_t/WOOD_t−91) ÷ (GLD_t/GLD_t−91); > 1 → Risk-On (lumber leading), else
 * Risk-Off. d = |LG − 1|: Strong > 0.15, Moderate > 0.05; confidence min(5·d, 1). Needs 92 closes.
 */
export function lumberGold(wood: readonly number[], gld: readonly number[], lookback = DEFAULT_PARAMS.lumber_lookback): GayedSignal | null {
  if (wood.length < lookback + 1 || gld.length < lookback + 1) return null
  const w = wood.filter(valid)
  const g = gld.filter(valid)
  if (w.length < lookback + 1 || g.length < lookback + 1) return null
  // (The original's "start price ≤ 0" branch cannot happen after the filter.)
  const lumberRatio = w[w.length - 1]! / w[w.length - 1 - lookback]!
  const goldRatio = g[g.length - 1]! / g[g.length - 1 - lookback]!
  if (Math.abs(goldRatio) < 0.0001) return { name: 'lumber_gold', signal: 'Neutral', strength: 'Weak', confidence: 0.1, value: 1 }
  const lg = lumberRatio / goldRatio
  if (!Number.isFinite(lg)) return null
  const d = Math.abs(lg - 1)
  return {
    name: 'lumber_gold',
    signal: lg > 1 ? 'Risk-On' : 'Risk-Off',
    value: lg,
    strength: strengthOf(d, 0.15, 0.05),
    confidence: Math.min(d * 5, 1),
  }
}

/**
 * treasury-curve.ts: ratio = (IEF_t/IEF_t−21) ÷ (TLT_t/TLT_t−21); > 1.005 → Risk-On (10y leading),
 * < 0.995 → Risk-Off, else Neutral. d = |ratio − 1|: Strong > 0.02, Moderate > 0.01. Confidence
 * min(50·d, 1), ×1.2 (cap 1) when |IEF return − TLT return| > 0.01, then ×1.3 (cap 1) when Risk-Off and
 * either return's magnitude > 0.05, finally at least 0.1.
 */
export function treasuryCurve(ief: readonly number[], tlt: readonly number[], lookback = DEFAULT_PARAMS.treasury_lookback): GayedSignal | null {
  if (ief.length < lookback + 1 || tlt.length < lookback + 1) return null
  if (lookback <= 0) return null
  const n = Math.min(ief.length, tlt.length)
  const a = ief.slice(-n).filter(valid)
  const b = tlt.slice(-n).filter(valid)
  if (a.length < lookback + 1 || b.length < lookback + 1) return null
  const ty10 = a[a.length - 1]! / a[a.length - 1 - lookback]!
  const ty30 = b[b.length - 1]! / b[b.length - 1 - lookback]!
  if (Math.abs(ty30) < 0.0001) return { name: 'treasury_curve', signal: 'Neutral', strength: 'Weak', confidence: 0.1, value: 1 }
  const ratio = ty10 / ty30
  if (!Number.isFinite(ratio)) return null
  const signal: GayedSide = ratio > 1.005 ? 'Risk-On' : ratio < 0.995 ? 'Risk-Off' : 'Neutral'
  const d = Math.abs(ratio - 1)
  let confidence = Math.min(d * 50, 1)
  const ty10Return = ty10 - 1
  const ty30Return = ty30 - 1
  if (Math.abs(ty10Return - ty30Return) > 0.01) confidence = Math.min(confidence * 1.2, 1)
  if ((Math.abs(ty10Return) > 0.05 || Math.abs(ty30Return) > 0.05) && signal === 'Risk-Off') confidence = Math.min(confidence * 1.3, 1)
  return { name: 'treasury_curve', signal, value: ratio, strength: strengthOf(d, 0.02, 0.01), confidence: Math.max(0.1, confidence) }
}

/**
 * vix-defensive.ts (counter-intuitive): latest VIX < 12.5 → Risk-Off (complacency), else Risk-On, so
 * exactly 12.5 is Risk-On. Values outside (0, 200) are dropped first (the latest valid one is used).
 * rel = |VIX − 12.5| ÷ 12.5: Strong > 0.4, Moderate > 0.2. Confidence min(2·rel, 1), ×1.5 (cap 1) when
 * VIX < 10 or ×1.3 (cap 1) when VIX > 30, at least 0.1. Needs one close.
 */
export function vixDefensive(vix: readonly number[], threshold = DEFAULT_PARAMS.vix_threshold): GayedSignal | null {
  if (vix.length === 0) return null
  if (threshold <= 0 || threshold > 100 || !Number.isFinite(threshold)) return null
  const v = vix.filter((p) => valid(p) && p < 200)
  if (v.length === 0) return null
  const current = v[v.length - 1]!
  const rel = Math.abs(current - threshold) / threshold
  let confidence = Math.min(rel * 2, 1)
  if (current < 10) confidence = Math.min(confidence * 1.5, 1)
  else if (current > 30) confidence = Math.min(confidence * 1.3, 1)
  return {
    name: 'vix_defensive',
    signal: current < threshold ? 'Risk-Off' : 'Risk-On',
    value: current,
    strength: strengthOf(rel, 0.4, 0.2),
    confidence: Math.max(0.1, confidence),
  }
}

/**
 * sp500-ma.ts: price vs the simple averages of the last 50 and 200 closes. Above both (strictly) →
 * Risk-On, below-or-equal both → Risk-Off, otherwise Neutral. avg = |(dist50% + dist200%) ÷ 2| in
 * percent: Strong > 5, Moderate > 2. Confidence 0.6 + min(avg/10, 0.4) when directional, max(0.1,
 * 0.5 − avg/20) when Neutral. value = price ÷ SMA200. Needs long + 1 = 201 closes (as the original,
 * although the SMA uses 200).
 */
export function sp500Ma(spy: readonly number[], short = DEFAULT_PARAMS.ma_short, long = DEFAULT_PARAMS.ma_long): GayedSignal | null {
  if (short <= 0 || long <= 0 || short >= long) return null
  if (spy.length < long + 1) return null
  const p = spy.filter(valid)
  if (p.length < long + 1) return null
  const price = p[p.length - 1]!
  const sma = (n: number): number => {
    let sum = 0
    for (let i = p.length - n; i < p.length; i++) sum += p[i]!
    return sum / n
  }
  const shortMa = sma(short)
  const longMa = sma(long)
  const shortDist = ((price - shortMa) / shortMa) * 100
  const longDist = ((price - longMa) / longMa) * 100
  const aboveShort = price > shortMa
  const aboveLong = price > longMa
  const signal: GayedSide = aboveShort && aboveLong ? 'Risk-On' : !aboveShort && !aboveLong ? 'Risk-Off' : 'Neutral'
  const avg = Math.abs((shortDist + longDist) / 2)
  const confidence = signal === 'Neutral' ? Math.max(0.1, 0.5 - avg / 20) : Math.min(0.6 + Math.min(avg / 10, 0.4), 1)
  return { name: 'sp500_ma', signal, value: price / longMa, strength: strengthOf(avg, 5, 2), confidence }
}

// ---------------------------------------------------------------------------------------------
// Consensus

export type ConsensusSide = 'Risk-On' | 'Risk-Off' | 'Mixed'

export interface GayedConsensus {
  consensus: ConsensusSide
  confidence: number
  /** Σ confidence × strength multiplier of the Risk-On signals ÷ number of valid signals. */
  risk_on_weight: number
  risk_off_weight: number
  risk_on_count: number
  risk_off_count: number
  /** Non-null signals, Neutral included (they count in the divisor but add no weight). */
  valid_signals: number
}

export const STRENGTH_MULTIPLIER: Readonly<Record<GayedStrength, number>> = { Strong: 1, Moderate: 0.75, Weak: 0.5 }

/**
 * index.ts::calculateConsensusSignal. No valid signal → Mixed, confidence 0. diff = |W_on − W_off|:
 * diff < 0.10 → Mixed with confidence max(0.1, 1 − 2·diff); otherwise the heavier side with
 * min(0.9, 0.5 + diff). Then ×1.2 (cap 1) when diff > 0.30, ×0.8 with fewer than 3 valid signals,
 * and at least 0.1.
 */
export function consensus(signals: readonly (GayedSignal | null | undefined)[]): GayedConsensus {
  const ok = signals.filter((s): s is GayedSignal => s !== null && s !== undefined)
  const n = ok.length
  let onCount = 0
  let offCount = 0
  let onSum = 0
  let offSum = 0
  for (const s of ok) {
    const w = s.confidence * STRENGTH_MULTIPLIER[s.strength]
    if (s.signal === 'Risk-On') {
      onCount++
      onSum += w
    } else if (s.signal === 'Risk-Off') {
      offCount++
      offSum += w
    }
  }
  if (n === 0) return { consensus: 'Mixed', confidence: 0, risk_on_weight: 0, risk_off_weight: 0, risk_on_count: 0, risk_off_count: 0, valid_signals: 0 }
  const on = onSum / n
  const off = offSum / n
  const diff = Math.abs(on - off)
  let side: ConsensusSide
  let confidence: number
  if (diff < 0.1) {
    side = 'Mixed'
    confidence = Math.max(0.1, 1 - diff * 2)
  } else {
    side = on > off ? 'Risk-On' : 'Risk-Off'
    confidence = Math.min(0.9, 0.5 + diff)
  }
  if (diff > 0.3) confidence = Math.min(confidence * 1.2, 1)
  if (n < 3) confidence *= 0.8
  return {
    consensus: side,
    confidence: Math.max(0.1, confidence),
    risk_on_weight: on,
    risk_off_weight: off,
    risk_on_count: onCount,
    risk_off_count: offCount,
    valid_signals: n,
  }
}

/**
 * What to hold: `riskOnSymbol` (SPY) in Risk-On, the defensive symbol in Risk-Off, and null in Mixed,
 * meaning "keep whatever is held" (no trade). The seed's only position-taking code,
 * python-services/backtrader-analysis/src/strategies/gayed_consensus.py, neither enters nor exits on
 * Mixed (should_enter_position returns False; should_exit_position only reverses on the opposite side).
 */
export function targetHolding(c: ConsensusSide | GayedConsensus, defensiveSymbol: string, riskOnSymbol = 'SPY'): string | null {
  const side = typeof c === 'string' ? c : c.consensus
  if (side === 'Risk-On') return riskOnSymbol
  if (side === 'Risk-Off') return defensiveSymbol
  return null
}

// ---------------------------------------------------------------------------------------------
// Rolling state over interleaved daily bars

const SIGNAL_ROLES: Readonly<Record<GayedSignalName, readonly GayedRole[]>> = {
  utilities_spy: ['xlu', 'spy'],
  lumber_gold: ['wood', 'gld'],
  treasury_curve: ['ief', 'tlt'],
  vix_defensive: ['vix'],
  sp500_ma: ['spy'],
}

/** Incomplete days kept waiting for their missing symbols before the oldest is given up. */
export const MAX_PENDING_DAYS = 32

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

export interface GayedOptions {
  symbols?: Partial<Record<GayedRole, string | null>>
  params?: Partial<GayedParams>
}

export function newGayedState(options: GayedOptions = {}): GayedState {
  const symbols = {} as Record<GayedRole, string | null>
  for (const r of Object.keys(DEFAULT_SYMBOLS) as GayedRole[]) symbols[r] = options.symbols?.[r] === undefined ? DEFAULT_SYMBOLS[r] : (options.symbols[r] as string | null)
  const params = { ...DEFAULT_PARAMS, ...options.params }
  const enabled = SIGNAL_NAMES.filter((name) => SIGNAL_ROLES[name].every((r) => symbols[r] !== null))
  const required = [...new Set(enabled.flatMap((name) => SIGNAL_ROLES[name].map((r) => symbols[r]!)))].sort()
  const capacity = Math.max(
    1,
    ...enabled.map((name) => {
      switch (name) {
        case 'utilities_spy':
          return params.utilities_lookback + 1
        case 'lumber_gold':
          return params.lumber_lookback + 1
        case 'treasury_curve':
          return params.treasury_lookback + 1
        case 'vix_defensive':
          return 1
        case 'sp500_ma':
          return params.ma_long + 1
      }
    }),
  )
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

export type GayedNote = 'evaluated' | 'pending' | 'unknown_symbol' | 'invalid_close' | 'invalid_ts' | 'stale' | 'duplicate'

export interface GayedStep {
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
export function gayedSignals(state: GayedState): Record<GayedSignalName, GayedSignal | null> {
  const { symbols: sym, params: p, closes } = state
  const c = (r: GayedRole): number[] => closes[sym[r]!] ?? []
  const out = {} as Record<GayedSignalName, GayedSignal | null>
  for (const name of state.enabled) {
    switch (name) {
      case 'utilities_spy':
        out[name] = utilitiesSpy(c('xlu'), c('spy'), p.utilities_lookback)
        break
      case 'lumber_gold':
        out[name] = lumberGold(c('wood'), c('gld'), p.lumber_lookback)
        break
      case 'treasury_curve':
        out[name] = treasuryCurve(c('ief'), c('tlt'), p.treasury_lookback)
        break
      case 'vix_defensive':
        out[name] = vixDefensive(c('vix'), p.vix_threshold)
        break
      case 'sp500_ma':
        out[name] = sp500Ma(c('spy'), p.ma_short, p.ma_long)
        break
    }
  }
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
 * given up, which only changes results if one symbol lags the others by more than that many days.
 * Bars of a day already evaluated or given up are stale. Updates `state` in place.
 */
export function updateGayed(state: GayedState, symbol: string, ts: string, close: number): GayedStep {
  if (!Object.hasOwn(state.closes, symbol)) return { state, evaluation: null, note: 'unknown_symbol' }
  if (!valid(close)) return { state, evaluation: null, note: 'invalid_close' }
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
