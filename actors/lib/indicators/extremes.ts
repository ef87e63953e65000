// Rolling highest / lowest (TA-Lib MAX / MIN): the extreme of the last `period` values, the current
// one included; first value at bar period−1. A monotonic deque (indices with values that are still
// candidates, best at the front) kept in two plain arrays used as a ring of capacity `period`:
// O(1) amortised per bar, and never more than `period` entries.

export interface ExtremeState {
  kind: 'highest' | 'lowest'
  period: number
  seen: number
  /** Ring of (bar index, value); the live entries are `size` slots from `head`. */
  idx: number[]
  val: number[]
  head: number
  size: number
}

export const newExtreme = (kind: 'highest' | 'lowest', period: number): ExtremeState => ({
  kind,
  period,
  seen: 0,
  idx: new Array<number>(period).fill(0),
  val: new Array<number>(period).fill(0),
  head: 0,
  size: 0,
})

export function updateExtreme(s: ExtremeState, x: number): number | undefined {
  const t = s.seen++
  const n = s.period
  // The entry that just left the window (only the oldest can have).
  if (s.size > 0 && s.idx[s.head]! <= t - n) {
    s.head = (s.head + 1) % n
    s.size--
  }
  // Drop the entries x dominates: they can never be the extreme again while x is in the window.
  while (s.size > 0) {
    const back = s.val[(s.head + s.size - 1) % n]!
    if (s.kind === 'highest' ? back <= x : back >= x) s.size--
    else break
  }
  const slot = (s.head + s.size) % n
  s.idx[slot] = t
  s.val[slot] = x
  s.size++
  return t + 1 < n ? undefined : s.val[s.head]!
}
