// The registry of strategies defined at runtime (ctl.strategies.put/delete): a KV bucket every
// process follows. It holds every version of every runtime strategy, each under a key of its own that
// is written once (`v.<id>.<version>`; a deletion is a version whose strategy is null), and where each
// scope took each version (`stamp.<actor>.<scope>.<id>.<version>` = the stream position after which
// it applies), so a scope rebuilt from its checkpoint, or from the streams alone, takes every version
// exactly where the live scope did. Only the control plane of the process running the strategy's
// account writes versions; only a scope's owner writes its stamps.
import { Kvm, type KV, type KvEntry } from '@nats-io/kv'
import type { JetStreamClient } from '@nats-io/jetstream'
import type { RuntimeStrategy } from '../core/runtime-strategies.js'

const STRATEGY_BUCKET = 'paperd_strategies'

export interface StrategyRegistry {
  /** The latest version of every runtime strategy (a deleted one: strategy null), by id. */
  current(): readonly RuntimeStrategy[]
  /** One version of a strategy, as it was put. */
  version(id: string, version: number): RuntimeStrategy | undefined
  /** Changes whenever a version appears: a scope compares it before each batch. */
  generation(): number
  /** Writes a new version; false when that version exists already with other contents (someone else wrote it). */
  write(def: RuntimeStrategy): Promise<boolean>
  /** Where a scope (`<actor>.<scope>`) took each version it has taken: `${id}@${version}` → stream position. */
  stamps(scopeKey: string): Promise<Map<string, number>>
  /** Records that a scope takes a version after `position` (replacing a stamp a stale owner left). */
  stamp(scopeKey: string, def: Pick<RuntimeStrategy, 'id' | 'version'>, position: number): Promise<void>
  stop(): void
}

const versionKey = (id: string, version: number) => `v.${id}.${version}`
const stampKey = (scopeKey: string, id: string, version: number) => `stamp.${scopeKey}.${id}.${version}`
/** nats.js reports a create over an existing key, and a stale update, as 10071 "wrong last sequence". */
const isConflict = (err: unknown) => /wrong last sequence|10071|key exists/i.test(String((err as Error)?.message ?? err))

export async function openStrategyRegistry(js: JetStreamClient, replicas = 1): Promise<StrategyRegistry> {
  const kv: KV = await new Kvm(js).create(STRATEGY_BUCKET, {
    history: 1,
    replicas,
    description: 'paperd strategies defined at runtime, and where each scope took them',
  })
  const versions = new Map<string, RuntimeStrategy>()
  const latest = new Map<string, RuntimeStrategy>()
  let generation = 0
  const add = (key: string, def: RuntimeStrategy) => {
    if (versions.has(key)) return
    versions.set(key, def)
    if ((latest.get(def.id)?.version ?? 0) < def.version) latest.set(def.id, def)
    generation++
  }
  const take = (e: KvEntry) => {
    if (e.operation === 'PUT' && e.key.startsWith('v.')) add(e.key, e.json<RuntimeStrategy>())
  }
  // Watch first, then read what is there: a version written in between is seen by one or the other.
  const watch = await kv.watch({ key: 'v.>', include: 'updates' })
  void (async () => {
    for await (const e of watch) take(e)
  })()
  for await (const key of await kv.keys('v.>')) {
    const e = await kv.get(key)
    if (e) take(e)
  }
  return {
    current: () => [...latest.values()],
    version: (id, version) => versions.get(versionKey(id, version)),
    generation: () => generation,
    async write(def) {
      try {
        await kv.create(versionKey(def.id, def.version), JSON.stringify(def))
      } catch (err) {
        if (!isConflict(err)) throw err
        const there = (await kv.get(versionKey(def.id, def.version)))?.json<RuntimeStrategy>()
        if (JSON.stringify(there?.strategy) !== JSON.stringify(def.strategy) || there?.account !== def.account) return false
      }
      add(versionKey(def.id, def.version), def)
      return true
    },
    async stamps(scopeKey) {
      const out = new Map<string, number>()
      if (!latest.size) return out
      const prefix = `stamp.${scopeKey}.`
      for await (const key of await kv.keys(`${prefix}>`)) {
        const e = await kv.get(key)
        if (e?.operation !== 'PUT') continue
        const rest = key.slice(prefix.length)
        const dot = rest.lastIndexOf('.')
        out.set(`${rest.slice(0, dot)}@${rest.slice(dot + 1)}`, Number(e.string()))
      }
      return out
    },
    async stamp(scopeKey, def, position) {
      const key = stampKey(scopeKey, def.id, def.version)
      try {
        await kv.create(key, String(position))
      } catch (err) {
        if (!isConflict(err)) throw err
        // An owner that lost the scope before taking the version left its position; this one takes it here.
        const e = await kv.get(key)
        if (e && Number(e.string()) !== position) await kv.update(key, String(position), e.revision)
      }
    },
    stop: () => watch.stop(),
  }
}
