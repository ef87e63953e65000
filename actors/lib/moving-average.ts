// Streaming moving averages with plain-data state (the runtime checkpoints actor state as JSON, so
// no class instances). TA-Lib conventions: nothing until `period` values have been seen; EMA is
// seeded with the SMA of its first `period` values and then follows prev + k·(x − prev), k = 2/(n+1),
// written exactly as TA-Lib writes it so results agree bit for bit. The SMA is the correctly rounded
// sum of its window over `period` (backtrader's `math.fsum(window) / period`): a running sum that
// cannot drift, so a value does not depend on how long the series has run (see exact-sum.ts).
import { exactSumAdd, exactSumValue, type ExactSum } from './exact-sum.js'

export interface SmaState {
  kind: 'sma'
  period: number
  window: number[]
  next: number
  /** The window's sum, exactly. */
  sum: ExactSum
}

export interface EmaState {
  kind: 'ema'
  period: number
  seen: number
  seedSum: number
  value: number | null
}

export const newSma = (period: number): SmaState => ({ kind: 'sma', period, window: [], next: 0, sum: [] })
export const newEma = (period: number): EmaState => ({ kind: 'ema', period, seen: 0, seedSum: 0, value: null })

/** O(1): the exact sum gains x and loses what leaves the window. */
export function updateSma(s: SmaState, x: number): number | undefined {
  exactSumAdd(s.sum, x)
  if (s.window.length < s.period) {
    s.window.push(x)
    if (s.window.length < s.period) return undefined
  } else {
    exactSumAdd(s.sum, -s.window[s.next]!)
    s.window[s.next] = x
    s.next = (s.next + 1) % s.period
  }
  return exactSumValue(s.sum) / s.period
}

export function updateEma(s: EmaState, x: number): number | undefined {
  if (s.value === null) {
    s.seedSum += x
    if (++s.seen < s.period) return undefined
    s.value = s.seedSum / s.period
    return s.value
  }
  const k = 2 / (s.period + 1)
  s.value = (x - s.value) * k + s.value
  return s.value
}
