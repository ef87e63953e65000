// Where a fill's time went, hop by hop (`npm run bench -- --stages`).
import { percentile } from './support.js'

/** A hop of a fill's path, timed with `--stages`. */
export interface Hop {
  hop: string
  p50Ms: number
  p99Ms: number
}

/**
 * Where a fill's time went, from its row of `.bench/latency-<rate>.json` (times after its bar was
 * published: [published at, fill, part, bar, ind, idea, order]): the router (bar → md.part), market-snapshots
 * (→ md.bar), the gate (its idea → its order: judging, and waiting until the orders that settle
 * before the idea's bar are filled) and the executor (the later of bar and order → fill). The idea
 * and order are of the bar before, so the gate's hop is theirs alone.
 */
export function hopsOf(rows: readonly (readonly number[])[]): Hop[] {
  const hops: [string, (r: readonly number[]) => number][] = [
    ['router', (r) => r[2]!],
    ['market-snapshots', (r) => r[3]! - r[2]!],
    ['gate (idea → order)', (r) => r[6]! - r[5]!],
    ['executor (bar and order → fill)', (r) => r[1]! - Math.max(r[3]!, r[6]!)],
  ]
  return hops.map(([hop, of]) => {
    const ms = rows
      .map(of)
      .filter((x) => Number.isFinite(x))
      .sort((a, b) => a - b)
    return { hop, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) }
  })
}
