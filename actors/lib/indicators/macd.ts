// MACD exactly as TA-Lib's TA_MACD (ta_MACD.c, default compatibility):
// - both price EMAs are seeded with a simple average and then follow prev + (x − prev)·k,
//   k = 2/(n+1); their seed windows END ON THE SAME BAR, index slow−1: the slow EMA is seeded with
//   the mean of bars 0..slow−1, the fast one with the mean of bars slow−fast..slow−1 (the first
//   slow−fast bars never reach the fast EMA). So the MACD line starts at bar slow−1, not at fast−1
//   as two independent SMA-seeded EMAs would give, and its early values differ from
//   EMA(fast) − EMA(slow) computed separately;
// - the signal line is an EMA of the MACD line seeded with the mean of its first `signal` values;
// - nothing is emitted before all three exist: the first output is at bar (slow−1) + (signal−1),
//   where signal = the seed mean; line, signal and hist then appear together;
// - if slow < fast the two are swapped, as TA-Lib does.
// Seeds are summed from 0 in input order, as TA-Lib sums them, so values agree bit for bit.

export interface MacdState {
  kind: 'macd'
  fast: number
  slow: number
  signal: number
  seen: number
  /** Seed sums until bar slow−1, then the EMAs. */
  fastEma: number
  slowEma: number
  /** Seed sum of the first `signal` MACD values, then the signal EMA. */
  signalEma: number
}

export function newMacd(fast: number, slow: number, signal: number): MacdState {
  if (slow < fast) [fast, slow] = [slow, fast]
  return { kind: 'macd', fast, slow, signal, seen: 0, fastEma: 0, slowEma: 0, signalEma: 0 }
}

type MacdValues = {
  line: number
  signal: number
  hist: number
}

export function updateMacd(s: MacdState, x: number): MacdValues | undefined {
  const i = s.seen++
  if (i < s.slow) {
    s.slowEma += x
    if (i >= s.slow - s.fast) s.fastEma += x
    if (i < s.slow - 1) return undefined
    s.slowEma /= s.slow
    s.fastEma /= s.fast
  } else {
    s.fastEma = (x - s.fastEma) * (2 / (s.fast + 1)) + s.fastEma
    s.slowEma = (x - s.slowEma) * (2 / (s.slow + 1)) + s.slowEma
  }
  const line = s.fastEma - s.slowEma
  const j = i - (s.slow - 1) // index of this value in the MACD line
  if (j < s.signal) {
    s.signalEma += line
    if (j < s.signal - 1) return undefined
    s.signalEma /= s.signal
  } else {
    s.signalEma = (line - s.signalEma) * (2 / (s.signal + 1)) + s.signalEma
  }
  return { line, signal: s.signalEma, hist: line - s.signalEma }
}
