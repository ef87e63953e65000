// Symbol partitioning. `<P>` in `md.bar.<P>.<SYM>` is fnv1a32(symbol) % partitions: the same hash as
// NATS's `{{partition(n, …)}}` subject mapping, so a server-side mapping and paperd always agree.
// The partition count is fixed (default 16): instances can be added without re-keying.
import { Memo } from './memo.js'

export const DEFAULT_PARTITIONS = 16

const encoder = new TextEncoder()

export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5
  for (const byte of encoder.encode(text)) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash >>> 0
}

const hashes = new Memo(fnv1a32)

/** The partition of a key (memoised: the same symbols come back bar after bar). */
export function partitionOf(key: string, partitions = DEFAULT_PARTITIONS): number {
  return hashes.get(key) % partitions
}

/** "0-3,7" → [0,1,2,3,7]; every number must be below `partitions`. */
export function parsePartitionList(spec: string, partitions = DEFAULT_PARTITIONS): number[] {
  const out = new Set<number>()
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!m) throw new Error(`bad partition list "${spec}": "${part}" is not N or N-M`)
    const from = Number(m[1])
    const to = m[2] === undefined ? from : Number(m[2])
    if (from > to || to >= partitions) throw new Error(`bad partition list "${spec}": partitions are 0-${partitions - 1}`)
    for (let p = from; p <= to; p++) out.add(p)
  }
  if (out.size === 0) throw new Error(`bad partition list "${spec}": empty`)
  return [...out].sort((a, b) => a - b)
}
