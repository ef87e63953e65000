// Streaming moving averages with plain-data state (the runtime checkpoints actor state as JSON, so
// no class instances). TA-Lib conventions: nothing until `period` values have been seen; EMA is
// seeded with the SMA of its first `period` values and then follows prev + k·(x − prev), k = 2/(n+1),
// written exactly as TA-Lib writes it so results agree bit for bit.

export interface SmaState {
  kind: 'sma'
  period: number
  window: number[]
  next: number
  sum: number
  /** Updates since the sum was last recomputed from the window (bounds floating-point drift). */
  drift: number
}

export interface EmaState {
  kind: 'ema'
  period: number
  seen: number
  seedSum: number
  value: number | null
}

export const newSma = (period: number): SmaState => ({ kind: 'sma', period, window: [], next: 0, sum: 0, drift: 0 })
export const newEma = (period: number): EmaState => ({ kind: 'ema', period, seen: 0, seedSum: 0, value: null })

/** O(1) amortised: a running sum, recomputed from the window every `period` updates. */
export function updateSma(s: SmaState, x: number): number | undefined {
  if (s.window.length < s.period) {
    s.window.push(x)
    s.sum += x
  } else {
    s.sum += x - s.window[s.next]!
    s.window[s.next] = x
    s.next = (s.next + 1) % s.period
    if (++s.drift >= s.period) {
      s.drift = 0
      s.sum = s.window.reduce((a, b) => a + b, 0)
    }
  }
  return s.window.length < s.period ? undefined : s.sum / s.period
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
