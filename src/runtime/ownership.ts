// Which of an actor's scopes this process runs. Actors declare every scope of a deployment; the
// process picks its share here, so an actor never knows how the work is split.
import type { ActorDef, Scope } from '../core/actor.js'

/**
 * The actor restricted to the symbol partitions this process owns: scopes tied to another
 * partition are left to the process that owns it; scopes tied to none (accounts, whole actors) stay.
 * null: no restriction.
 */
export function restrictToPartitions<S>(def: ActorDef<S>, owned: readonly number[] | null): ActorDef<S> {
  if (owned === null) return def
  const mine = new Set(owned)
  return { ...def, scopes: def.scopes.filter((scope: Scope) => scope.partition === undefined || mine.has(scope.partition)) }
}
