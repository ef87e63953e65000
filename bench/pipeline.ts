// The daemon under load: all six actors in this process via `startDaemon`, bars driven in by a
// separate client connection (like `paperd replay`), timed from the first publish to quiescence.
// While it runs, the consumers' backlog is sampled so we can see which actor lags; afterwards the
// runtime's own metrics (handler time, flush time, batch sizes) and Postgres row counts are read.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import postgres from 'postgres'
import { scope as persisterScope } from '../actors/persister.js'
import { ACTOR_NAMES, type ActorName } from '../src/core/actor.js'
import type { ConfigFile } from '../src/core/config-file.js'
import { loadEnv } from '../src/config/env.js'
import { filterOf } from '../src/core/subjects.js'
import { deploymentActors, openDatabase, startDaemon } from '../src/app/daemon.js'
import type { Logger } from '../src/telemetry/log.js'
import type { Registry } from 'prom-client'
import { defaultThreads, groupActors, startThreads } from '../src/app/threads.js'
import { migrate } from '../src/adapters/postgres/migrate.js'
import { backlog, expectedWork, waitForQuiescence, type Backlog, type Expectation } from '../src/control/quiesce.js'
import { injectedBar, replayBars } from '../src/app/replay.js'
import { createPublisher } from '../src/runtime/publisher.js'
import { durableName } from '../src/runtime/topology.js'
import { TABLES } from '../src/adapters/postgres/store.js'
import { summariseProfile, startProfiling, type ProfileSummary } from './profile.js'
import { nodeCpuSeconds, postgresCpuSeconds, procCpuSeconds, systemBusySeconds, type Cleanup, type NatsServer, type SyntheticBar } from './support.js'

export interface Target {
  server: NatsServer
  dbUrl: string
  dbName: string
  log: Logger
  cleanup: Cleanup
  quiesceTimeoutMs: number
  /** Quiescence poll interval (each poll asks for every stream's and consumer's info). */
  pollMs?: number
}

interface ActorStats {
  messages: number
  /** Delivered and acknowledged unread: a type the input does not take (its one filter brought it). */
  skipped: number
  handleMs: number
  flushMs: number
  batches: number
  meanBatch: number
}

interface LagSummary {
  samples: number
  /** actor → the largest backlog (pending + unacked, all its durables) seen in one sample. */
  maxByActor: Record<string, number>
  /** actor → mean backlog over the samples. */
  meanByActor: Record<string, number>
  /** The durables with the largest single-sample backlog. */
  topDurables: { durable: string; max: number }[]
  /** actor → backlog when the last bar was acknowledged by JetStream. */
  atPublishEnd: Record<string, number>
}

export interface RunResult {
  actors: ActorName[]
  messagesIn: number
  seconds: number
  publishSeconds: number
  /** From starting the daemon to every scope live (rebuilt, consuming). */
  startSeconds: number
  /** Messages driven in per second, first publish → quiescence. */
  perSec: number
  rows: Record<string, number>
  snapshotRows: number
  cpu: { node: number; natsServer: number | null; postgres: number /** every other process on the machine: contention */; others: number }
  lag: LagSummary | null
  actorStats: Record<string, ActorStats>
  profile?: ProfileSummary
}

const actorOf = (durable: string): string =>
  [...ACTOR_NAMES].sort((a, b) => b.length - a.length).find((a) => durable === a || durable.startsWith(`${a}-`)) ?? durable

class LagTracker {
  samples = 0
  private max: Record<string, number> = {}
  private sum: Record<string, number> = {}
  private durableMax: Record<string, number> = {}
  last: Record<string, number> = {}

  record(b: Backlog): void {
    this.samples++
    const perActor: Record<string, number> = {}
    for (const [durable, n] of Object.entries(b.lagging)) {
      this.durableMax[durable] = Math.max(this.durableMax[durable] ?? 0, n)
      const a = actorOf(durable)
      perActor[a] = (perActor[a] ?? 0) + n
    }
    for (const a of ACTOR_NAMES) {
      const n = perActor[a] ?? 0
      this.max[a] = Math.max(this.max[a] ?? 0, n)
      this.sum[a] = (this.sum[a] ?? 0) + n
    }
    this.last = perActor
  }

  summary(atPublishEnd: Record<string, number>): LagSummary {
    return {
      samples: this.samples,
      maxByActor: this.max,
      meanByActor: Object.fromEntries(Object.entries(this.sum).map(([a, s]) => [a, Math.round(s / Math.max(1, this.samples))])),
      topDurables: Object.entries(this.durableMax)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([durable, max]) => ({ durable, max })),
      atPublishEnd,
    }
  }
}

interface CpuSample {
  node: number
  server: number | null
  pg: number
  all: number
}
function cpuDelta(a: CpuSample, b: CpuSample): RunResult['cpu'] {
  const node = b.node - a.node
  const natsServer = a.server === null || b.server === null ? null : b.server - a.server
  const postgres = b.pg - a.pg
  return { node, natsServer, postgres, others: Math.max(0, b.all - a.all - node - (natsServer ?? 0) - postgres) }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Waits until the daemon has done everything, as `--wait` does: no durable with anything left, every
 * scope live, and no actor holding inputs back (an idea waiting for a fill that never comes is not a
 * finished run, however quiet the consumers are). Returns the time of the first of the final
 * all-zero polls (the end of the work, to within a poll).
 */
async function quiesce(
  jsm: JetStreamManager,
  timeoutMs: number,
  pollMs: number,
  lag: LagTracker | null,
  deployment: { nc: NatsConnection; expected: Expectation },
): Promise<number> {
  let firstZero: number | null = null
  await waitForQuiescence(jsm, {
    timeoutMs,
    pollMs,
    deployment,
    onProgress: (b) => {
      lag?.record(b)
      if (b.total === 0) firstZero ??= performance.now()
      else firstZero = null
    },
  })
  return firstZero ?? performance.now()
}

async function actorStats(registry: Registry): Promise<Record<string, ActorStats>> {
  const out: Record<string, ActorStats> = {}
  const get = (actor: string) => (out[actor] ??= { messages: 0, skipped: 0, handleMs: 0, flushMs: 0, batches: 0, meanBatch: 0 })
  const all = await registry.getMetricsAsJSON()
  const values = (name: string) =>
    (all.find((m) => m.name === name)?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[]
  for (const v of values('paperd_messages_total')) {
    const s = get(String(v.labels.actor))
    s.messages += v.value
    if (v.labels.outcome === 'skipped') s.skipped += v.value
  }
  for (const v of values('paperd_handler_duration_seconds')) if (v.metricName?.endsWith('_sum')) get(String(v.labels.actor)).handleMs += v.value * 1000
  for (const v of values('paperd_flush_duration_seconds')) if (v.metricName?.endsWith('_sum')) get(String(v.labels.actor)).flushMs += v.value * 1000
  const batchSum: Record<string, number> = {}
  for (const v of values('paperd_batch_size')) {
    const a = String(v.labels.actor)
    if (v.metricName?.endsWith('_sum')) batchSum[a] = v.value
    if (v.metricName?.endsWith('_count')) get(a).batches = v.value
  }
  for (const [a, s] of Object.entries(out)) s.meanBatch = s.batches ? Math.round((10 * (batchSum[a] ?? 0)) / s.batches) / 10 : 0
  // Bar lookups (the gate's, the executor's late orders), where they were answered from.
  for (const v of values('paperd_lookups_total')) get(`lookups from ${v.labels.source}`).messages += v.value
  for (const s of Object.values(out)) {
    s.handleMs = Math.round(s.handleMs)
    s.flushMs = Math.round(s.flushMs)
  }
  return out
}

async function countRows(dbUrl: string): Promise<Record<string, number>> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} })
  try {
    const rows: Record<string, number> = {}
    for (const table of Object.keys(TABLES)) {
      const [r] = await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`)
      rows[table] = r?.n ?? 0
    }
    return rows
  } finally {
    await sql.end({ timeout: 5 })
  }
}

interface RunOptions {
  actors: ActorName[]
  config: ConfigFile | undefined
  /** Publishes the input; resolves when every publish is acknowledged. */
  drive: (nc: NatsConnection) => Promise<number>
  /** Sample consumer backlog while driving (costs a few requests every 250 ms). */
  sampleLag: boolean
  profileFile?: string
  /** Measure from before startDaemon (the persister drain: the backlog is already there). */
  timeFromStart?: boolean
  /** Worker threads of the daemon; default: as `paperd start` chooses (one when profiling). */
  threads?: number
}

/** Starts a daemon on `target`, drives input through it, waits for quiescence, stops it. */
export async function runDaemon(target: Target, opts: RunOptions): Promise<RunResult> {
  const { server, log, cleanup } = target
  const env = loadEnv({ NATS_URL: server.url, DATABASE_URL: target.dbUrl, LOG_LEVEL: 'warn', METRICS_PORT: '0' })
  const client = await connect({ servers: server.url, name: 'bench driver', noAsyncTraces: true })
  const closeClient = cleanup.add('close bench NATS client', () => client.close())
  try {
    const jsm = await jetstreamManager(client, { timeout: 10_000 })
    const cpuNow = () => ({ node: nodeCpuSeconds(), server: procCpuSeconds(server.pid), pg: postgresCpuSeconds(target.dbName), all: systemBusySeconds() })
    // CPU and time are measured over the same window as the rate.
    let cpu0 = cpuNow()
    let t0 = performance.now()
    // The profile covers the timed window: from the start for a drain, else from the first publish.
    let stopProfile = opts.profileFile && opts.timeFromStart ? await startProfiling() : null
    // As `paperd start` runs by default (defaultThreads, groupActors: the account actors on a thread of their own)
    // (one thread when profiling, so the profile sees the actors).
    const threads = opts.profileFile ? 1 : (opts.threads ?? defaultThreads(opts.actors))
    const daemon =
      threads > 1
        ? await startThreads({ env, groups: groupActors(opts.actors, threads), config: opts.config, log, waitForNats: false })
        : await startDaemon({ env, actors: opts.actors, config: opts.config, log, waitForNats: false })
    const registry = async () => ('registry' in daemon.metrics ? daemon.metrics.registry : await daemon.metrics())
    const stopDaemon = cleanup.add('stop daemon', () => daemon.stop(), 10_000)
    await daemon.live
    const live = performance.now()
    if (opts.profileFile && !opts.timeFromStart) stopProfile = await startProfiling()

    const lag = opts.sampleLag ? new LagTracker() : null
    let sampling = lag !== null
    const sampler = (async () => {
      while (sampling) {
        try {
          lag!.record(await backlog(jsm))
        } catch {
          // a sample lost is fine
        }
        await sleep(250)
      }
    })()

    if (!opts.timeFromStart) {
      cpu0 = cpuNow()
      t0 = performance.now()
    }
    const messagesIn = await opts.drive(client)
    const published = performance.now()
    sampling = false
    await sampler
    const atPublishEnd = lag ? { ...lag.last } : {}
    const expected = expectedWork(
      deploymentActors(opts.config).filter((def) => opts.actors.includes(def.name)),
      true,
    )
    const end = await quiesce(jsm, target.quiesceTimeoutMs, target.pollMs ?? 50, lag, { nc: client, expected })
    const profile = stopProfile ? await stopProfile() : null
    const cpu1 = cpuNow()
    const stats = await actorStats(await registry())
    await stopDaemon()

    const rows = await countRows(target.dbUrl)
    const seconds = (end - t0) / 1000
    return {
      actors: opts.actors,
      messagesIn,
      seconds,
      publishSeconds: (published - t0) / 1000,
      startSeconds: opts.timeFromStart ? (live - t0) / 1000 : 0,
      perSec: messagesIn / seconds,
      rows,
      snapshotRows: (rows.snapshot_market ?? 0) + (rows.snapshot_indicators ?? 0),
      cpu: cpuDelta(cpu0, cpu1),
      lag: lag?.summary(atPublishEnd) ?? null,
      actorStats: stats,
      ...(profile && opts.profileFile ? { profile: summariseProfile(profile, opts.profileFile) } : {}),
    }
  } finally {
    await closeClient()
  }
}

/** Publishes every series at full speed, the series concurrently (like several `paperd replay`s). */
export function replayDriver(series: { symbol: string; bars: SyntheticBar[] }[]): RunOptions['drive'] {
  return async (nc) => {
    const results = await Promise.all(series.map((s) => replayBars(nc, s.bars, { symbol: s.symbol, timeframe: '1m', speed: Infinity })))
    return results.reduce((n, r) => n + r.published, 0)
  }
}

/**
 * Publishes bars of several symbols round-robin at a fixed total rate, recording each bar's
 * publish wall-clock time (Date.now(), the same clock Postgres's now() reads on this host).
 */
export function steadyDriver(
  series: { symbol: string; bars: SyntheticBar[] }[],
  rate: number,
  total: number,
  publishedAt: Map<string, number>,
): RunOptions['drive'] {
  return async (nc) => {
    const publisher = createPublisher(nc)
    // Acks are not awaited one by one (that would pace the loop by round trips); the first failure stops it.
    const acks: Promise<unknown>[] = []
    let failed: unknown = null
    const started = performance.now()
    for (let i = 0; i < total && failed === null; i++) {
      const s = series[i % series.length]!
      const bar = s.bars[Math.floor(i / series.length)]!
      publishedAt.set(`${s.symbol}|${bar.ts}`, Date.now())
      const ack = publisher.publish(filterOf('md.in.bar', { symbol: s.symbol }), injectedBar(bar, '1m'), `in:${s.symbol}:1m:${bar.ts}`)
      acks.push(ack.catch((err: unknown) => (failed ??= err)))
      const wait = started + ((i + 1) * 1000) / rate - performance.now()
      if (wait > 0) await sleep(wait)
    }
    await Promise.all(acks)
    publisher.close()
    if (failed !== null) throw failed
    return total
  }
}

/** Re-reads MD and TRADE from the start with a persister alone, into a fresh database. */
export async function persisterDrain(target: Target, profileFile?: string): Promise<RunResult> {
  const nc = await connect({ servers: target.server.url, name: 'bench drain setup' })
  try {
    const jsm = await jetstreamManager(nc)
    for (const input of persisterScope.inputs) {
      await jsm.consumers.delete(input.stream, durableName('persister', persisterScope, input)).catch(() => false)
    }
  } finally {
    await nc.close()
  }
  // Migrations first, so the timed window is the persister consuming and committing.
  const sql = openDatabase(target.dbUrl)
  try {
    await migrate(sql)
  } finally {
    await sql.end({ timeout: 5 })
  }
  return runDaemon(target, {
    actors: ['persister'],
    config: undefined,
    drive: async () => 0,
    sampleLag: false,
    timeFromStart: true,
    ...(profileFile ? { profileFile } : {}),
  })
}

export interface PlainInsertResult {
  rows: number
  batch: number
  seconds: number
  rowsPerSec: number
}

/**
 * The baseline of the persister: the very rows it wrote (every table it fills, read back from the
 * drained database) inserted into an empty one directly — one `insert … select from unnest` per
 * table per `batch` rows, nothing else: no NATS, no decoding, no merging, no offsets.
 */
export async function plainInsert(fromUrl: string, toUrl: string, batch = 500): Promise<PlainInsertResult> {
  const from = postgres(fromUrl, { max: 1, onnotice: () => {} })
  const to = postgres(toUrl, { max: 1, onnotice: () => {} })
  try {
    await migrate(to)
    const tables: { text: string; cols: string[][] }[] = []
    for (const [table, spec] of Object.entries(TABLES)) {
      const names = Object.keys(spec.columns)
      const rows = await from.unsafe(`select ${names.map((c) => `"${c}"::text as "${c}"`).join(', ')} from ${table}`)
      if (!rows.length) continue
      const cols = names.map((c) => rows.map((r) => r[c] as string | null))
      const list = names.map((c) => `"${c}"`).join(', ')
      const text = `insert into ${table} (${list}) select * from unnest(${names.map((c, i) => `$${i + 1}::${spec.columns[c]}[]`).join(', ')}) on conflict do nothing`
      tables.push({ text, cols: cols as string[][] })
    }
    let total = 0
    const t0 = performance.now()
    for (const { text, cols } of tables) {
      for (let i = 0; i < cols[0]!.length; i += batch) {
        await to.unsafe(text, cols.map((c) => c.slice(i, i + batch)) as never[], { prepare: true })
      }
      total += cols[0]!.length
    }
    const seconds = (performance.now() - t0) / 1000
    return { rows: total, batch, seconds, rowsPerSec: total / seconds }
  } finally {
    await Promise.all([from.end({ timeout: 5 }), to.end({ timeout: 5 })])
  }
}
