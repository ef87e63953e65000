// The Gayed consensus (index.ts::calculateConsensusSignal of the seed) and what it says to hold.
import type { GayedSignal, GayedStrength } from './signals.js'

// Consensus

type ConsensusSide = 'Risk-On' | 'Risk-Off' | 'Mixed'

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

const STRENGTH_MULTIPLIER: Readonly<Record<GayedStrength, number>> = { Strong: 1, Moderate: 0.75, Weak: 0.5 }

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
