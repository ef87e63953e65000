// How a scope takes the strategies defined at runtime (ActorDef.runtimeStrategies): live, between
// two batches, each new version that concerns it, after recording the position it takes it at; when
// rebuilding, each version it had taken, at the position recorded — so the rebuilt state is the
// live one whatever the checkpoint it starts from.
import type { ActorDef, Scope } from '../core/actor.js'
import type { RuntimeStrategy } from '../core/runtime-strategies.js'
import type { Lease } from './leases.js'
import type { StrategyRegistry } from './strategy-registry.js'

/** Versions a scope took, in the order of the positions it took them at. */
type Stamped = { def: RuntimeStrategy; at: number }[]

/** What the registry recorded of where this scope took each version. */
export async function stampedVersions(registry: StrategyRegistry, key: string): Promise<Stamped> {
  const out: Stamped = []
  for (const [idVersion, at] of await registry.stamps(key)) {
    const split = idVersion.lastIndexOf('@')
    const def = registry.version(idVersion.slice(0, split), Number(idVersion.slice(split + 1)))
    if (def) out.push({ def, at })
  }
  return out.sort((a, b) => a.at - b.at || a.def.version - b.def.version)
}

/**
 * Takes, from the front of `pending`, every version recorded before stream position `seq` (all of
 * them when `seq` is Infinity) that the state has not taken yet.
 */
export function takeStamped<S>(def: ActorDef<S>, scope: Scope, state: S, pending: Stamped, seq: number): S {
  const hook = def.runtimeStrategies!
  while (pending.length && pending[0]!.at < seq) {
    const { def: version } = pending.shift()!
    if ((hook.applied(state)[version.id] ?? 0) < version.version) state = hook.define(state, version, scope)
  }
  return state
}

/** Takes every version the state lacks that concerns the scope, recording first that it does so after `position`. */
export async function takeNew<S>(
  def: ActorDef<S>,
  scope: Scope,
  state: S,
  registry: StrategyRegistry,
  key: string,
  position: number,
  lease: Lease | undefined,
): Promise<S> {
  const hook = def.runtimeStrategies!
  for (const version of registry.current()) {
    if ((hook.applied(state)[version.id] ?? 0) >= version.version || !hook.concerns(state, version, scope)) continue
    await lease?.check()
    await registry.stamp(key, version, position)
    state = hook.define(state, version, scope)
  }
  return state
}
