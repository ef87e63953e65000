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
//
// This file: the five signals and the table of them (SIGNALS). consensus.ts combines them; days.ts
// lines up the closes of several symbols day by day and evaluates each complete day.
import type { GayedRole } from '../../../src/core/gayed-roles.js'

type GayedSide = 'Risk-On' | 'Risk-Off' | 'Neutral'
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

export const validClose = (p: number): boolean => p > 0 && Number.isFinite(p)

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
  const x = xlu.filter(validClose)
  const s = spy.filter(validClose)
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
  const w = wood.filter(validClose)
  const g = gld.filter(validClose)
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
  const a = ief.slice(-n).filter(validClose)
  const b = tlt.slice(-n).filter(validClose)
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
  const v = vix.filter((p) => validClose(p) && p < 200)
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
  const p = spy.filter(validClose)
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
// The table: every signal once — the roles it reads, the closes it needs, how it is computed.

interface SignalDef {
  /** The inputs it reads; a strategy that switches one off (null symbol) switches the signal off. */
  roles: readonly GayedRole[]
  /** Closes of each input it needs before it gives a value. */
  history(p: GayedParams): number
  compute(closes: (role: GayedRole) => readonly number[], p: GayedParams): GayedSignal | null
}

export const SIGNALS: Readonly<Record<GayedSignalName, SignalDef>> = {
  utilities_spy: { roles: ['xlu', 'spy'], history: (p) => p.utilities_lookback + 1, compute: (c, p) => utilitiesSpy(c('xlu'), c('spy'), p.utilities_lookback) },
  lumber_gold: { roles: ['wood', 'gld'], history: (p) => p.lumber_lookback + 1, compute: (c, p) => lumberGold(c('wood'), c('gld'), p.lumber_lookback) },
  treasury_curve: { roles: ['ief', 'tlt'], history: (p) => p.treasury_lookback + 1, compute: (c, p) => treasuryCurve(c('ief'), c('tlt'), p.treasury_lookback) },
  vix_defensive: { roles: ['vix'], history: () => 1, compute: (c, p) => vixDefensive(c('vix'), p.vix_threshold) },
  sp500_ma: { roles: ['spy'], history: (p) => p.ma_long + 1, compute: (c, p) => sp500Ma(c('spy'), p.ma_short, p.ma_long) },
}

/** The five signals, in the order they are evaluated and reported. */
export const SIGNAL_NAMES = Object.keys(SIGNALS) as readonly GayedSignalName[]
