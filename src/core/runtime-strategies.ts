// Strategies defined at runtime (ctl.strategies.put/delete): what the registry holds of each version,
// and the one check a definition goes through — the config file's, with every other strategy beside
// it — so a strategy put over NATS is exactly as valid as one written in the file.
import { ConfigFileSchema, type ConfigFile } from './config-file.js'
import type { StrategyConfig } from './config-file/strategies.js'

/** A version of a runtime strategy: its definition, or its deletion (`strategy` null). */
export interface RuntimeStrategy {
  id: string
  version: number
  account: string
  strategy: StrategyConfig | null
  by: string
  /** Wall time of the put (who and when, for people; trading never reads it). */
  at: string
}

/**
 * `raw` checked as the config file checks a strategy, beside the file's strategies and the other
 * runtime ones: the definition with its defaults, or the first problem with its path
 * (`strategy.entry.long.gt[0]: …`).
 */
export function validateRuntimeStrategy(
  raw: Record<string, unknown>,
  config: ConfigFile,
  others: readonly StrategyConfig[],
): { ok: true; strategy: StrategyConfig } | { ok: false; error: string } {
  const id = typeof raw.id === 'string' ? raw.id : ''
  const inFile = config.strategies.findIndex((s) => s.id === id)
  if (inFile >= 0) return { ok: false, error: `strategy.id: "${id}" is defined in the config file (strategies[${inFile}]); change it there` }
  if ((raw.type ?? 'rules') !== 'rules')
    return {
      ok: false,
      error: 'strategy.type: only "rules" strategies are defined at runtime (a Gayed strategy runs in a scope of its own: put it in the config file)',
    }
  const strategies = [...config.strategies, ...others.filter((s) => s.id !== id), raw]
  const at = strategies.length - 1
  const parsed = ConfigFileSchema.safeParse({ ...config, strategies })
  if (parsed.success) return { ok: true, strategy: parsed.data.strategies[at] as StrategyConfig }
  const issue = parsed.error.issues.find((i) => i.path[0] === 'strategies' && i.path[1] === at) ?? parsed.error.issues[0]!
  const path = issue.path[0] === 'strategies' && issue.path[1] === at ? ['strategy', ...issue.path.slice(2)] : issue.path
  const text = path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '')
  return { ok: false, error: `${text || 'strategy'}: ${issue.message}` }
}
