// Strategies defined at runtime, as the indicators and strategy scopes of a partition take them
// (ActorDef.runtimeStrategies): which versions matter to a scope, which it has taken.
import type { AnyStrategyConfig, StrategyConfig } from '../../src/core/config-file/strategies.js'
import { partitionOf } from '../../src/core/partition.js'
import type { RuntimeStrategy } from '../../src/core/runtime-strategies.js'

/**
 * Whether a runtime strategy's version matters to a partition's scope: it watches a symbol of the
 * partition, or the scope has taken an earlier version of it (whose symbols it must let go). One
 * with the id of a config-file strategy never does: the file wins.
 */
export function concernsPartition(
  file: readonly AnyStrategyConfig[],
  taken: Readonly<Record<string, unknown>> | undefined,
  def: RuntimeStrategy,
  partition: number | undefined,
  partitions: number,
): boolean {
  if (file.some((s) => s.id === def.id)) return false
  return taken?.[def.id] !== undefined || (def.strategy?.symbols.some((s) => partitionOf(s, partitions) === partition) ?? false)
}

/** Which version of each runtime strategy a state has taken. */
export const versionsOf = (runtime: Readonly<Record<string, { version: number }>> | undefined): Record<string, number> =>
  Object.fromEntries(Object.entries(runtime ?? {}).map(([id, r]) => [id, r.version]))

/** A runtime strategy as a scope keeps it: the version taken (a deleted one: strategy null). */
export type RuntimeVersion = { version: number; strategy: StrategyConfig | null }

/** The runtime strategies a state has taken, as strategies: not the deleted ones, nor one a config-file strategy of its id shadows (the file wins). */
export const definedOf = (runtime: Readonly<Record<string, RuntimeVersion>>, file: readonly AnyStrategyConfig[]): StrategyConfig[] =>
  Object.values(runtime).flatMap((r) => (r.strategy && !file.some((s) => s.id === r.strategy!.id) ? [r.strategy] : []))
