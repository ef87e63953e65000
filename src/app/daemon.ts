// Wiring: builds the chosen actors from the config and runs them. Nothing here reads the
// environment (src/cli.ts does, once) — tests start a daemon with explicit settings.
// Start order: log → metrics → Postgres (+ migrations) → NATS → topology → actors → HTTP.
// Stop order, the reverse: stop pulling → finish in-flight batches → drain NATS → close Postgres.
import { setMaxListeners } from 'node:events'
import { hostname } from 'node:os'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import postgres, { type Sql } from 'postgres'
import { indicators } from '../../actors/indicators.js'
import { marketSnapshots } from '../../actors/market-snapshots.js'
import { paperExecutor } from '../../actors/paper-executor.js'
import { persister } from '../../actors/persister.js'
import { riskGate } from '../../actors/risk-gate.js'
import { strategy } from '../../actors/strategy.js'
import { ACTOR_NAMES, type ActorName, type AnyActorDef } from '../core/actor.js'
import { createCodec, type Encoded } from '../runtime/codec.js'
import type { Message } from '../core/contracts.js'
import { announceRiskConfig, startControl } from '../control/server.js'
import { CONTROL_OWNERS } from '../control/requests.js'
import { LiveStates } from '../control/live-states.js'
import { registerSessionMetrics, registerStateMetrics } from './state-metrics.js'
import { instanceId, serveMicro } from '../control/micro.js'
import { VERSION } from '../config/paths.js'
import { ConfigError, type Env } from '../config/env.js'
import type { ConfigFile } from '../core/config-file.js'
import { readiness, serveHttp, type HttpServer } from '../telemetry/http.js'
import type { Logger } from '../telemetry/log.js'
import { createMetrics, type Metrics } from '../telemetry/metrics.js'
import { migrate } from '../adapters/postgres/migrate.js'
import { connectNats } from '../adapters/nats/connect.js'
import { DEFAULT_PARTITIONS } from '../core/partition.js'
import { BarTape } from '../runtime/bar-tape.js'
import { feedTape } from '../runtime/tape-feed.js'
import { warmUp } from './warm-up.js'
import { openCheckpoints } from '../runtime/checkpoints.js'
import { connectionState } from '../runtime/io.js'
import { createPublisher } from '../runtime/publisher.js'
import { openStrategyRegistry, type StrategyRegistry } from '../runtime/strategy-registry.js'
import { leasedRunner, runActor } from '../runtime/run-actor.js'
import { openLeaseBucket, startLeases } from '../runtime/leases.js'
import { ensureConsumers, ensureStreams, whileUnavailable } from '../runtime/topology.js'
import { createStore } from '../adapters/postgres/store.js'
import { FEEDS, feedRunner, feedScopes, missingCredentials } from './feeds.js'
import { parseDatabaseTls } from '../config/db-tls.js'
import { postgresSsl } from '../adapters/postgres/tls.js'

interface DaemonOptions {
  env: Env
  actors: ActorName[]
  config: ConfigFile | undefined
  log: Logger
  /** Keep retrying until NATS answers (the daemon); false for tests that want a quick failure. */
  waitForNats?: boolean
  /** Node process metrics in this daemon's registry (not on worker threads). */
  processMetrics?: boolean
  /** The consumer lag gauges (paperd_consumer_*) in this daemon's registry: once per process; default = processMetrics. */
  consumerMetrics?: boolean
}

export interface Daemon {
  nc: NatsConnection
  metrics: Metrics
  http: HttpServer | null
  /** Resolves once every actor scope has rebuilt its state and consumes live. */
  live: Promise<void>
  /** What keeps this daemon from being ready, by check; empty when ready. */
  readiness(): Promise<Record<string, string>>
  /** Stops in order; resolves when everything is closed. */
  stop(): Promise<void>
}

const NEEDS_CONFIG: ActorName[] = ['indicators', 'strategy', 'risk-gate', 'paper-executor']
/** Actors that follow the strategies defined at runtime (the gate's control plane also writes them). */
const FOLLOW_STRATEGIES: ActorName[] = ['indicators', 'strategy', 'risk-gate']

/** A runtime strategy whose id the config file now defines does not run: the file wins. Said at every start. */
function warnShadowed(registry: StrategyRegistry, config: ConfigFile, log: Logger): void {
  for (const def of registry.current()) {
    if (def.strategy && config.strategies.some((s) => s.id === def.id))
      log.warn(
        { strategy: def.id, version: def.version, by: def.by },
        `strategy ${def.id} is defined both in the config file and at runtime: the file's runs; delete the runtime one (paperd ctl strategies delete ${def.id} --account ${def.account})`,
      )
  }
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { env, log } = opts
  const needsConfig = opts.actors.filter((a) => NEEDS_CONFIG.includes(a))
  if (needsConfig.length && !opts.config) throw new ConfigError(`${needsConfig.join(', ')} need a config file: pass --config FILE or set PAPERD_CONFIG`)
  // Feeds run beside market-snapshots, the entry of the pipeline (leased: one process polls each).
  const feeds = opts.actors.includes('market-snapshots') ? (opts.config?.feeds ?? []) : []
  const noCredentials = missingCredentials(feeds, env.providers)
  if (noCredentials) throw new ConfigError(noCredentials)
  const metrics = createMetrics({ processMetrics: opts.processMetrics ?? true, actors: opts.actors })

  let sql: Sql | null = null
  if (opts.actors.includes('persister')) {
    if (!env.databaseUrl) throw new ConfigError('the persister needs DATABASE_URL (postgres://user:pass@host:5432/db)')
    sql = openDatabase(env.databaseUrl, env.databasePool)
    await migrate(sql, { log: (msg) => log.info(msg) })
  }

  const nc = await connectNats(env.nats, `paperd ${opts.actors.join(',')}`, log, opts.waitForNats ?? true)
  const js = jetstream(nc, { timeout: 10_000 })
  const jsm = await whileUnavailable(() => jetstreamManager(nc, { timeout: 10_000 }))
  await ensureStreams(jsm, env.streamReplicas)
  const codec = createCodec(env.partitions)
  codec.warm()
  if (opts.config) {
    const warmed = await warmUp(opts.config, codec, nc, env.warmUpBars)
    if (warmed)
      log.info(
        { bars: warmed.bars, messages: warmed.messages, ms: Math.round(warmed.ms) },
        'warmed up: synthetic bars through the handlers, the codec and the NATS client',
      )
  }
  const defs = buildActors(opts.actors, opts.config, env.partitions)
  await ensureConsumers(jsm, defs)

  const publisher = createPublisher(nc)
  const states = new LiveStates()
  // Strategies defined at runtime: followed by the actors that run them, written by the gate's control plane.
  const registry = opts.actors.some((a) => FOLLOW_STRATEGIES.includes(a))
    ? await whileUnavailable(() => openStrategyRegistry(js, env.streamReplicas))
    : undefined
  if (registry && opts.config) warnShadowed(registry, opts.config, log)
  const control = startControl({ nc, js, jsm, codec, log, config: opts.config, actors: opts.actors, partitions: env.partitions, states, registry })
  const decoder = new TextDecoder()
  const published = (out: readonly Encoded[]) => {
    control.published(out)
    for (const e of out) {
      if (e.type !== 'trade.idea_status') continue
      const s = JSON.parse(decoder.decode(e.payload)) as Message<'trade.idea_status'>
      metrics.ideas.inc({ status: s.status })
      // Bounded: the limit's name, never a halt's free-text reason.
      if (s.status !== 'auto_executed' && s.intent === 'entry') metrics.denials.inc({ reason: s.reason.split(':').slice(0, 2).join(':') })
    }
  }
  const io = {
    nc,
    js,
    jsm,
    codec,
    partitions: env.partitions,
    log,
    metrics,
    publisher,
    checkpoints: await whileUnavailable(() => openCheckpoints(js, env.streamReplicas)),
    ...connectionState(nc),
    states,
    published,
    // Shared by this process's scopes: the executor's bars answer the gate's lookups.
    tape: new BarTape(),
    registry,
  }
  const abort = new AbortController()
  setMaxListeners(0, abort.signal) // every scope and consumer of every actor listens for the stop
  // Account gauges from the scopes this process runs; consumer lag once per process (the main
  // thread's daemon, or the first worker thread's).
  registerStateMetrics(metrics.registry, states, (opts.consumerMetrics ?? opts.processMetrics ?? true) ? jsm : null)
  if (opts.actors.includes('strategy')) registerSessionMetrics(metrics.registry, opts.config?.strategies ?? [])
  // The persister's rows go to the database: the one port an actor's work has, given here.
  const store = sql && createStore(sql, { snapshotRetentionDays: opts.config?.persistence.snapshot_retention_days ?? null })
  // Its connections opened and its statement prepared before the first batch (a failure here is
  // only a colder first batch: that batch retries on its own terms).
  await store?.warm().catch((err) => log.warn({ err: (err as Error).message }, 'preparing the persister statement failed; the first batch will'))
  // Ordered actors run the scopes whose leases this instance holds (any number of instances may run
  // them); the persister, a sink whose replicas share its durables, runs everywhere it is started.
  const instance = env.instanceId ?? instanceId()
  const leased: Parameters<typeof startLeases>[1] = defs
    .filter((def) => def.ordered)
    .map((def) => ({ name: def.name, scopes: def.scopes, partitions: env.ownedPartitions, run: leasedRunner(def, io) }))
  if (feeds.length)
    leased.push({
      name: FEEDS,
      scopes: feedScopes(feeds),
      partitions: env.ownedPartitions,
      run: feedRunner(feeds, { jsm, publisher, checkpoints: io.checkpoints, providers: env.providers, log, metrics }),
    })
  const running = defs.filter((def) => !def.ordered).map((def) => runActor(def, io, abort.signal, def.name === 'persister' && store ? store : undefined))
  // Lookups are answered from the tape; while scopes here look bars up and none reads every bar, a consumer keeps it.
  const tapeFed = defs.some((def) => def.lookup) ? feedTape({ ...io, tape: io.tape }, abort.signal) : Promise.resolve()
  const leases = leased.length
    ? await startLeases(await whileUnavailable(() => openLeaseBucket(js, env.leaseTtlMs, env.streamReplicas)), leased, {
        jsm,
        instance,
        ttlMs: env.leaseTtlMs,
        log,
        metrics,
        about: { host: hostname(), pid: String(process.pid) },
      })
    : null
  // Every actor of this process answers $SRV.PING/INFO/STATS (`nats micro ls`): its instance, the
  // scopes it owns, the control endpoints it answers.
  const micro = serveMicro(
    nc,
    defs.map((def) => {
      // In the actor's own order (p0, p1, …), whatever order the leases came in.
      const ownedNow = () => {
        if (!def.ordered || !leases) return def.scopes.map((s) => s.key)
        const held = new Set(leases.held().flatMap((h) => (h.actor === def.name ? [h.scope] : [])))
        return def.scopes.map((s) => s.key).filter((k) => held.has(k))
      }
      return {
        name: def.name,
        id: instance,
        version: VERSION,
        description: `paperd ${def.name}`,
        metadata: {
          pid: String(process.pid),
          host: hostname(),
        },
        endpoints: [...control.endpoints.entries()].filter(([subject]) => CONTROL_OWNERS[subject] === def.name).map(([, e]) => e),
        data: () => {
          const scopes = ownedNow()
          return { scopes: scopes.length, scopes_live: scopes.filter((k) => states.has(`${def.name}.${k}`)).length }
        },
        scopes: () => {
          const scopes = ownedNow()
          const live = scopes.filter((k) => states.has(`${def.name}.${k}`))
          const held: Record<string, number> = {}
          if (def.held)
            for (const k of live) {
              const n = def.held(states.get(`${def.name}.${k}`)!())
              if (n > 0) held[k] = n
            }
          return { owned: scopes, live, held }
        },
      }
    }),
  )
  // Live once every scope is, and NATS knows this process answers for their accounts.
  const live = Promise.all([...running.map((r) => r.live), leases?.ready])
    .then(() => control.flush().catch(() => undefined))
    .then(async () => {
      if (opts.actors.includes('risk-gate') && opts.config) {
        await announceRiskConfig({ js, codec, partitions: env.partitions, log }, opts.config).catch((err) =>
          log.warn({ err: (err as Error).message }, "announcing the config file's risk settings failed; the next start will"),
        )
      }
    })
    .then(() => {
      log.info({ actors: opts.actors, partitions: env.ownedPartitions.length }, 'paperd is live')
    })
  let isLive = false
  void live.then(() => (isLive = true))

  const checks = {
    nats: async () => (nc.isClosed() ? 'connection closed' : null),
    actors: async () => (isLive ? null : 'rebuilding state'),
    ...(sql ? { database: async () => ((await sql!`select 1 as ok`).length ? null : 'no answer') } : {}),
  }
  const http = env.metricsPort >= 0 ? await serveHttp(env.metricsPort, metrics.registry, checks) : null

  let stopping: Promise<void> | null = null
  return {
    nc,
    metrics,
    http,
    live,
    readiness: () => readiness(checks),
    stop: () =>
      (stopping ??= (async () => {
        log.info('stopping: no more pulls, finishing in-flight messages')
        control.stop()
        micro.stop()
        registry?.stop()
        abort.abort()
        // Scopes hand their leases over once checkpointed: another instance takes them at once.
        await Promise.allSettled([...running.map((r) => r.done), leases?.stop(), tapeFed])
        publisher.close()
        await nc.drain().catch((err) => log.warn({ err: (err as Error).message }, 'nats drain'))
        if (sql) await sql.end({ timeout: 5 })
        await http?.close()
        log.info('stopped')
      })()),
  }
}

/** A pool on DATABASE_URL; its TLS parameters (sslmode, sslrootcert, sslcert, sslkey) as libpq reads them (src/config/db-tls.ts). */
export function openDatabase(url: string, max = 4): Sql {
  const tls = parseDatabaseTls(url)
  return postgres(tls.url, {
    ...(tls.mode !== undefined ? { ssl: postgresSsl(tls) } : {}),
    max,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: 'paperd' },
  })
}

/**
 * Every actor of a whole deployment of `config` — all six, over every partition — with the scopes
 * the processes running them own between them: the work `paperd replay --wait` waits for. The same
 * definitions a daemon runs.
 */
export function deploymentActors(config: ConfigFile | undefined, partitions = DEFAULT_PARTITIONS): AnyActorDef[] {
  return buildActors([...ACTOR_NAMES], config, partitions)
}

/** The chosen actors for a config, with every scope (which of them this instance runs, the leases decide): pure definitions. */
function buildActors(names: ActorName[], config: ConfigFile | undefined, partitions: number): AnyActorDef[] {
  const strategies = config?.strategies ?? []
  const accounts = config?.accounts ?? []
  const build: Record<ActorName, () => AnyActorDef> = {
    'market-snapshots': () => marketSnapshots(partitions),
    indicators: () => indicators(strategies, partitions),
    strategy: () => strategy(strategies, accounts, partitions),
    'risk-gate': () => riskGate(accounts, strategies),
    'paper-executor': () => paperExecutor(accounts),
    persister: () => persister(),
  }
  return names.map((n) => build[n]())
}
