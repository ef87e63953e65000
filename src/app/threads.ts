// Running actor groups on worker threads, so one `paperd start` uses more than one core. Each worker
// is a whole daemon for its group of actors (its own NATS connection, Postgres pool and metrics);
// this thread serves HTTP — /metrics merged from every worker — and orders the shutdown.
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { AggregatorRegistry, Registry } from 'prom-client'
import { ACTOR_NAMES, type ActorName } from '../core/actor.js'
import { ConfigError, type Env } from '../config/env.js'
import { PACKAGE_ROOT } from '../config/paths.js'
import type { ConfigFile } from '../core/config-file.js'
import { serveHttp, type HttpServer } from '../telemetry/http.js'
import type { Logger } from '../telemetry/log.js'
import { collectProcessMetrics } from '../telemetry/metrics.js'

/** Actors in pipeline order: contiguous slices of it keep chatty neighbours together. */
const ORDER: ActorName[] = [...ACTOR_NAMES]

/**
 * The account actors: the gate judges an idea only once the executor's fills of the orders settling
 * before it are in, so a gate → executor → gate round trip is on the path of every idea once the
 * gate falls behind real time. They share a thread (the gate's bar lookups are answered from the
 * bars the executor handled) and, given a second thread, have it to themselves: on a thread that
 * also ran market data and the persister each hop of the round trip waited a long event-loop turn.
 */
const ACCOUNT: readonly ActorName[] = ['risk-gate', 'paper-executor']

/**
 * How many threads `paperd start` uses by default. Two on a machine of two cores or more when the
 * process runs the account actors beside others (they get the second thread), or runs several
 * actors on four cores or more; else one. Bench, 2 cores, 100 symbols, alternated: at 1,000 bars/s
 * the account actors on their own thread cut the gate's wait (idea → order p50 0.85–4.4 s → 44–126
 * ms) and bar → fill p99 (1.5–7.0 → 1.0–1.4 s; 20 s runs 9.8–10.5 → 4.2–4.3 s) for about the same
 * CPU; at 300 bars/s one thread costs ~20 % less CPU for the same latency. Split in pipeline order
 * instead (the gate beside the persister), two threads were worse than one on both counts.
 */
export function defaultThreads(actors: ActorName[], cores = availableParallelism()): number {
  const account = actors.some((a) => ACCOUNT.includes(a))
  const others = actors.some((a) => !ACCOUNT.includes(a))
  return (account && others && cores >= 2) || (actors.length >= 2 && cores >= 4) ? 2 : 1
}

/**
 * Splits the actors into at most `n` groups: the account actors together, on the last thread when
 * there are others to run, the rest in pipeline order over the threads before it (neighbours
 * together).
 */
export function groupActors(actors: ActorName[], n: number): ActorName[][] {
  const account = ORDER.filter((a) => actors.includes(a) && ACCOUNT.includes(a))
  const rest = ORDER.filter((a) => actors.includes(a) && !ACCOUNT.includes(a))
  if (!account.length) return inOrder(rest, n)
  if (!rest.length) return [account]
  return n >= 2 ? [...inOrder(rest, n - 1), account] : [ORDER.filter((a) => actors.includes(a))]
}

/** `ordered` in `n` contiguous groups (fewer when there are fewer actors). */
function inOrder(ordered: ActorName[], n: number): ActorName[][] {
  const k = Math.max(1, Math.min(n, ordered.length))
  return Array.from({ length: k }, (_, i) => ordered.slice(Math.floor((i * ordered.length) / k), Math.floor(((i + 1) * ordered.length) / k)))
}

export interface WorkerInit {
  env: Env
  actors: ActorName[]
  config: ConfigFile | undefined
  waitForNats: boolean
  /** This worker serves the consumer lag gauges of the process (the first one does; the sum of the others' would count each durable again). */
  consumerMetrics: boolean
}

type Reply = { id: number; ok: true; data: unknown } | { id: number; ok: false; error: string }
type Event = { kind: 'live' } | { kind: 'failed'; error: string; config: boolean }

interface ThreadedDaemon {
  http: HttpServer | null
  live: Promise<void>
  /** Resolves if a worker thread dies on its own (not asked to stop): the process should exit and be restarted. */
  lost: Promise<Error>
  metrics(): Promise<Registry>
  stop(): Promise<void>
}

const FROM_SOURCE = import.meta.url.endsWith('.ts')
const WORKER_URL = appModule('worker')

/**
 * A worker thread on `url` (appModule: `x.js` built, or `x.ts` run from source). Built: the file
 * itself. From source (tests, tsx): the worker registers tsx before loading it.
 */
export function startWorker(url: URL, workerData: unknown): Worker {
  if (!FROM_SOURCE) return new Worker(url, { workerData })
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(bootstrap, { eval: true, workerData })
}
/**
 * The module `src/app/<name>`: `dist/src/app/<name>.js` when built, `src/app/<name>.ts` when run from
 * source. Found from the package root, not from the module asking: built, that one may be a chunk of
 * the bundle (ops/bundle-cli.ts) in dist/src/chunks.
 */
export function appModule(name: string): URL {
  return pathToFileURL(FROM_SOURCE ? join(PACKAGE_ROOT, 'src', 'app', `${name}.ts`) : join(PACKAGE_ROOT, 'dist', 'src', 'app', `${name}.js`))
}

export async function startThreads(opts: {
  env: Env
  groups: ActorName[][]
  config: ConfigFile | undefined
  log: Logger
  waitForNats?: boolean
}): Promise<ThreadedDaemon> {
  const { env, log } = opts
  const threads = opts.groups.map((actors, i) =>
    spawn({ env: { ...env, metricsPort: -1 }, actors, config: opts.config, waitForNats: opts.waitForNats ?? true, consumerMetrics: i === 0 }, log),
  )
  // A worker that cannot start (bad config, unreachable database) stops the others and fails the start.
  try {
    await Promise.race([Promise.all(threads.map((t) => t.started)), ...threads.map((t) => t.failed.then((err) => Promise.reject(err)))])
  } catch (err) {
    await Promise.allSettled(threads.map((t) => t.worker.terminate()))
    throw err
  }
  const live = Promise.all(threads.map((t) => t.live)).then(() => log.info({ threads: opts.groups }, 'paperd is live on worker threads'))
  let isLive = false
  void live.then(() => (isLive = true))

  const own = new Registry()
  collectProcessMetrics(own)
  const metrics = async () => {
    const parts = (await Promise.all(threads.map((t) => t.ask('metrics')))) as Parameters<typeof AggregatorRegistry.aggregate>[0]
    return Registry.merge([own, AggregatorRegistry.aggregate(parts)])
  }
  const http =
    env.metricsPort >= 0
      ? await serveHttp(
          env.metricsPort,
          { metrics: async () => (await metrics()).metrics(), contentType: own.contentType },
          {
            actors: async () => (isLive ? null : 'rebuilding state'),
            workers: async () => {
              const problems = (await Promise.all(threads.map((t) => t.ask('ready')))) as (string | null)[]
              return problems.filter(Boolean).join('; ') || null
            },
          },
        )
      : null

  let stopping: Promise<void> | null = null
  const lost = Promise.race(threads.map((t) => t.exited.then(() => new Error(`worker thread ${t.actors.join(',')} exited`)))).then((err) =>
    stopping ? new Promise<Error>(() => {}) : err,
  )
  return {
    http,
    live,
    lost,
    metrics,
    stop: () =>
      (stopping ??= (async () => {
        await Promise.allSettled(threads.map((t) => t.ask('stop')))
        await Promise.allSettled(threads.map((t) => t.exited))
        await http?.close()
      })()),
  }
}

function spawn(init: WorkerInit, log: Logger) {
  const worker = startWorker(WORKER_URL, init)
  const waiting = new Map<number, (r: Reply) => void>()
  let next = 0
  let markLive!: () => void
  let markStarted!: () => void
  let markFailed!: (err: Error) => void
  const live = new Promise<void>((r) => (markLive = r))
  const started = new Promise<void>((r) => (markStarted = r))
  const failed = new Promise<Error>((r) => (markFailed = r))
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  worker.on('message', (m: Reply | Event | { kind: 'started' }) => {
    if ('id' in m) return waiting.get(m.id)?.(m)
    if (m.kind === 'started') markStarted()
    else if (m.kind === 'live') markLive()
    else if (m.kind === 'failed') markFailed(m.config ? new ConfigError(m.error) : new Error(m.error))
  })
  worker.on('error', (err) => {
    log.error({ err, actors: init.actors }, 'worker thread failed')
    markFailed(err)
  })
  void exited.then(() => {
    for (const resolve of waiting.values()) resolve({ id: -1, ok: false, error: 'worker exited' })
  })
  return {
    actors: init.actors,
    worker,
    live,
    started,
    failed,
    exited,
    ask(kind: 'metrics' | 'ready' | 'stop'): Promise<unknown> {
      const id = next++
      return new Promise((resolve, reject) => {
        waiting.set(id, (r) => {
          waiting.delete(id)
          if (r.ok) resolve(r.data)
          else reject(new Error(r.error))
        })
        worker.postMessage({ id, kind })
      })
    },
  }
}
