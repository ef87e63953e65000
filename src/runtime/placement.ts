// Which live instance should own each scope: rendezvous (highest-random-weight) hashing. Every
// instance computes the same answer from the same list of members, without talking to the others;
// when one joins or leaves, only the scopes it wins or held move (about 1/n of them), and each
// instance ends up with about the same share. Pure: the lease manager (leases.ts) feeds it the
// members it reads from the lease bucket and acquires or releases leases to match.
import { fnv1a32 } from '../core/partition.js'

/** A live instance running an actor, as it announces itself in the lease bucket. */
export interface Member {
  instance: string
  /** The symbol partitions it may run (`--partitions`); null: any. */
  partitions: readonly number[] | null
  /**
   * The scopes its config has (instances may run different configs: one service per group of
   * accounts); absent: any.
   */
  scopes?: readonly string[]
}

/** A scope as placement sees it: its key, and the partition it is tied to (if any). */
export interface Placeable {
  key: string
  partition?: number
}

/** murmur3's finaliser: spreads fnv1a's bits, so near-identical strings get unrelated weights. */
function mix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const eligible = (m: Member, scope: Placeable) =>
  (m.scopes === undefined || m.scopes.includes(scope.key)) && (scope.partition === undefined || m.partitions === null || m.partitions.includes(scope.partition))

/** The instance that should own `scope` of `actor`: the eligible member of highest weight; null if none may. */
export function ownerOf(actor: string, scope: Placeable, members: readonly Member[]): string | null {
  let best: string | null = null
  let bestWeight = -1
  for (const m of members) {
    if (!eligible(m, scope)) continue
    const w = mix(fnv1a32(`${actor}|${scope.key}|${m.instance}`))
    // Ties (rare) go to the smaller instance id, so every instance picks the same one.
    if (w > bestWeight || (w === bestWeight && best !== null && m.instance < best)) {
      best = m.instance
      bestWeight = w
    }
  }
  return best
}

/** The scopes of `actor` that `me` should own, given the members (which must include `me`). */
export function scopesFor(actor: string, scopes: readonly Placeable[], members: readonly Member[], me: string): Placeable[] {
  return scopes.filter((s) => ownerOf(actor, s, members) === me)
}
