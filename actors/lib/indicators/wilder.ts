// RSI and ATR with Wilder smoothing, exactly as TA-Lib computes them (ta_RSI.c, ta_ATR.c, default
// compatibility, no unstable period): the first average is the simple mean of the first `period`
// changes / true ranges, then avg = (prev·(n−1) + x)/n, written as TA-Lib's three statements
// (multiply, add, divide) so the results agree bit for bit.

export interface RsiState {
  kind: 'rsi'
  period: number
  /** Changes seen so far (the first value only anchors the first change). */
  changes: number
  prev: number | null
  /** Sums of gains and losses while seeding, then Wilder averages. */
  gain: number
  loss: number
}

export const newRsi = (period: number): RsiState => ({ kind: 'rsi', period, changes: 0, prev: null, gain: 0, loss: 0 })

/**
 * RSI = 100·avgGain/(avgGain + avgLoss), the form TA-Lib uses. First value after period+1 inputs.
 * When both averages are 0 (a flat series) TA-Lib answers 0, and so does this. TA-Lib tests that sum
 * with TA_IS_ZERO, a band of ±1e-8 in 0.4–0.6.x (±1e-14 in later sources); this tests for exactly 0
 * so the RSI of a series does not depend on its price unit (sub-1e-8 sums only arise from prices
 * below about 1e-6 or from hundreds of flat bars in a row; everywhere else the two agree).
 */
export function updateRsi(s: RsiState, x: number): number | undefined {
  if (s.prev === null) {
    s.prev = x
    return undefined
  }
  const change = x - s.prev
  s.prev = x
  const n = s.period
  if (s.changes < n) {
    if (change < 0) s.loss -= change
    else s.gain += change
    if (++s.changes < n) return undefined
    s.loss /= n
    s.gain /= n
  } else {
    s.loss *= n - 1
    s.gain *= n - 1
    if (change < 0) s.loss -= change
    else s.gain += change
    s.loss /= n
    s.gain /= n
  }
  const sum = s.gain + s.loss
  return sum !== 0 ? 100 * (s.gain / sum) : 0
}

export interface AtrState {
  kind: 'atr'
  period: number
  /** True ranges seen so far (the first bar has no previous close and gives none). */
  ranges: number
  prevClose: number | null
  /** Sum of true ranges while seeding, then the Wilder average. */
  atr: number
}

export const newAtr = (period: number): AtrState => ({ kind: 'atr', period, ranges: 0, prevClose: null, atr: 0 })

/** TR = max(H−L, |prevC−H|, |prevC−L|), compared in TA-Lib's order. */
function trueRange(high: number, low: number, prevClose: number): number {
  let greatest = high - low
  const toHigh = Math.abs(prevClose - high)
  if (toHigh > greatest) greatest = toHigh
  const toLow = Math.abs(prevClose - low)
  if (toLow > greatest) greatest = toLow
  return greatest
}

/** First value at bar index `period`: the mean of the true ranges of bars 1..period. */
export function updateAtr(s: AtrState, high: number, low: number, close: number): number | undefined {
  const prevClose = s.prevClose
  s.prevClose = close
  if (prevClose === null) return undefined
  const tr = trueRange(high, low, prevClose)
  const n = s.period
  if (s.ranges < n) {
    s.atr += tr
    if (++s.ranges < n) return undefined
    s.atr /= n
    return s.atr
  }
  s.atr *= n - 1
  s.atr += tr
  s.atr /= n
  return s.atr
}
