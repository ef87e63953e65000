// Bollinger Bands as TA-Lib's TA_BBANDS with an SMA middle: middle = SMA(period), upper/lower =
// middle ± k·σ with σ the POPULATION standard deviation of the same `period` values.
//
// σ is kept in O(1) per bar from running sums of (x − c) and (x − c)², where the shift c is a recent
// input, re-chosen (and the sums recomputed from the window) every `period` bars (amortised O(1)), or
// at once if the mean has moved far from c compared with the spread (rare, O(period)). TA-Lib uses
// unshifted sums (E[x²] − mean²), which lose digits when prices are large against their spread; the
// shift keeps σ accurate at any price level. A window whose values are all equal has σ = 0 exactly
// (detected exactly, not from the sums, whose add-then-remove residue would otherwise turn into a
// spurious σ ≈ √residue). TA-Lib also zeroes σ when the variance is below 1e-8; this does not, since
// that threshold depends on the price unit.
import { newSma, updateSma, type SmaState } from '../moving-average.js'
import { newRun, runPush, uniformSince, type Run } from './rolling.js'

export interface BbandsState {
  kind: 'bbands'
  period: number
  stddev: number
  seen: number
  /** The middle band; its window doubles as the window for σ. */
  sma: SmaState
  shift: number
  /** Σ(x − shift) and Σ(x − shift)² over the window. */
  d1: number
  d2: number
  sinceResum: number
  run: Run
}

export const newBbands = (period: number, stddev: number): BbandsState => ({
  kind: 'bbands',
  period,
  stddev,
  seen: 0,
  sma: newSma(period),
  shift: 0,
  d1: 0,
  d2: 0,
  sinceResum: 0,
  run: newRun(),
})

type BbandsValues = {
  upper: number
  middle: number
  lower: number
}

export function updateBbands(s: BbandsState, x: number): BbandsValues | undefined {
  const t = s.seen++
  const n = s.period
  const full = s.sma.window.length === n
  const evicted = full ? s.sma.window[s.sma.next]! : undefined
  const middle = updateSma(s.sma, x)
  runPush(s.run, t, x)
  if (t === 0) s.shift = x
  if (evicted !== undefined) {
    const e = evicted - s.shift
    s.d1 -= e
    s.d2 -= e * e
  }
  const d = x - s.shift
  s.d1 += d
  s.d2 += d * d
  if (full && ++s.sinceResum >= n) resum(s, x)
  if (middle === undefined) return undefined
  let sigma = 0
  if (!uniformSince(s.run, t - n + 1)) {
    // Re-centre on the mean first if it has moved far from the shift compared with the spread (the
    // variance would otherwise lose digits to cancellation); rare, O(period).
    if ((s.d1 / n) ** 2 > 0.5 * (s.d2 / n)) resum(s, middle)
    const mean = s.d1 / n
    const variance = s.d2 / n - mean * mean
    sigma = variance > 0 ? Math.sqrt(variance) : 0
  }
  const band = s.stddev * sigma
  return { upper: middle + band, middle, lower: middle - band }
}

function resum(s: BbandsState, latest: number): void {
  s.sinceResum = 0
  s.shift = latest
  s.d1 = 0
  s.d2 = 0
  for (const v of s.sma.window) {
    const d = v - latest
    s.d1 += d
    s.d2 += d * d
  }
}
