// Plain-data building blocks for sliding windows (the runtime checkpoints indicator state as JSON,
// so these are arrays and numbers, never classes, Maps or closures).

/** A fixed-capacity FIFO in a plain array: `items` fills up to `cap`, then `next` is the oldest slot. */
export interface Ring {
  cap: number
  items: number[]
  next: number
}

export const newRing = (cap: number): Ring => ({ cap, items: [], next: 0 })

/** Appends x; returns the value it pushes out, or undefined while the ring is still filling. */
export function ringPush(r: Ring, x: number): number | undefined {
  if (r.items.length < r.cap) {
    r.items.push(x)
    return undefined
  }
  const out = r.items[r.next]!
  r.items[r.next] = x
  r.next = (r.next + 1) % r.cap
  return out
}

/** The i-th oldest value (0 = oldest). */
export const ringAt = (r: Ring, i: number): number => r.items[(r.next + i) % r.items.length]!

/**
 * Whether every value pushed since a given index was the same, answered exactly in O(1): `breakAt`
 * is the index of the last value before the current run of equal values. Running sums cannot answer
 * this (adding then removing a value leaves rounding residue), and "all equal" is exactly where
 * variance-like quantities must be 0 rather than residue divided by residue.
 */
export interface Run {
  value: number
  last: number
  breakAt: number
}

export const newRun = (): Run => ({ value: 0, last: -1, breakAt: -1 })

export function runPush(run: Run, index: number, x: number): void {
  if (run.last >= 0 && x !== run.value) run.breakAt = run.last
  run.value = x
  run.last = index
}

/** True when every value pushed at an index ≥ `from` was equal (also when there was none). */
export const uniformSince = (run: Run, from: number): boolean => run.breakAt < from
