// An exact running sum of doubles, as plain data (checkpointed as JSON): Shewchuk's non-overlapping
// partials, the algorithm of Python's `math.fsum`. Adding x and later −x leaves no residue, so a
// sliding window's sum never drifts, and `exactSumValue` is the correctly rounded value of the exact
// sum of what was added: the same double `math.fsum(window)` gives. That is what backtrader's SMA
// computes (`math.fsum(window) / period`), so SMAs here equal its bit for bit — and where two SMAs
// are mathematically equal, the rounding decides a crossing, so this is what makes fills agree.

/** Partials in increasing magnitude, none overlapping; their exact sum is the running sum. */
export type ExactSum = number[]

/** Adds x to the sum in place (finite x: prices and volumes). */
export function exactSumAdd(partials: ExactSum, x: number): void {
  let i = 0
  for (let j = 0; j < partials.length; j++) {
    let y = partials[j]!
    if (Math.abs(x) < Math.abs(y)) {
      const t = x
      x = y
      y = t
    }
    const hi = x + y
    const lo = y - (hi - x)
    if (lo !== 0) partials[i++] = lo
    x = hi
  }
  // In place where the partials did not shrink: setting an array's length is a call into the runtime.
  if (x !== 0) partials[i++] = x
  if (i !== partials.length) partials.length = i
}

/** The exact sum rounded to the nearest double, ties to even (CPython's `math_fsum`, finite case). */
export function exactSumValue(partials: ExactSum): number {
  let n = partials.length
  if (n === 0) return 0
  let hi = partials[--n]!
  let lo = 0
  while (n > 0) {
    const x = hi
    const y = partials[--n]!
    hi = x + y
    lo = y - (hi - x)
    if (lo !== 0) break
  }
  // The rest of the partials below `lo` decide a halfway case: round it the way they point.
  if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
    const y = lo * 2
    const x = hi + y
    if (y === x - hi) hi = x
  }
  return hi
}
