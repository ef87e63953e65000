// "Has every actor processed everything?" Actors ack only after their outputs are stored (and the
// persister only after its commit), so when every durable consumer of the deployment has nothing
// pending and nothing unacknowledged, every effect of the input is in JetStream and in Postgres.
// But a durable that does not exist yet, or a scope no instance runs (an actor that never started,
// one still rebuilding after a restart), has nothing pending only because nobody is counting: so the
// work is what the deployment must do — every scope of every actor, from the config, with its
// durables — and a scope counts only once some running instance reports it live (micro STATS).
// All of it twice in a row, no stream growing in between.
import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { ACTOR_NAMES, type ActorDef, type ActorName } from '../core/actor.js'
import { STREAMS, type StreamName } from '../core/contracts.js'
import { askInstances, type Instance } from './micro.js'
import { nextOnFilter } from '../runtime/stream-range.js'
import { durableName, isPaperdDurable, isUnavailable, pendingOf } from '../runtime/topology.js'

export interface Backlog {
  total: number
  /** durable → pending + unacknowledged, only those not at zero. */
  lagging: Record<string, number>
  streams: Record<string, number>
  /** Every paperd durable that exists → its stream. */
  durables: Record<string, StreamName>
}

/** The actor a durable belongs to (durable names start with their actor's name; no actor name starts another's). */
export const actorOf = (durable: string): ActorName | undefined => ACTOR_NAMES.find((a) => durable === a || durable.startsWith(`${a}-`))

export async function backlog(jsm: JetStreamManager): Promise<Backlog> {
  const out: Backlog = { total: 0, lagging: {}, streams: {}, durables: {} }
  const counting: Promise<void>[] = []
  for (const stream of Object.keys(STREAMS) as StreamName[]) {
    const info = await jsm.streams.info(stream)
    const last = info.state.last_seq
    out.streams[stream] = last
    for await (const c of jsm.consumers.list(stream)) {
      if (!isPaperdDurable(c)) continue
      out.durables[c.name] = stream
      counting.push(
        undelivered(jsm, stream, c, last).then((pending) => {
          const n = pending + c.num_ack_pending
          if (n > 0) out.lagging[c.name] = n
          out.total += n
        }),
      )
    }
  }
  await Promise.all(counting)
  return out
}

/**
 * A durable's messages not delivered yet. The server's count (num_pending) cannot settle it: on
 * nats-server 2.9.10 some filters with a wildcard before the last token are miscounted, once as 0
 * with messages left, once as 1.8e19. So the stream is asked whether a message on the filter lies
 * after the consumer's position; the count only sizes the answer for a progress bar.
 */
async function undelivered(jsm: JetStreamManager, stream: StreamName, c: ConsumerInfo, last: number): Promise<number> {
  if (c.delivered.stream_seq >= last) return 0
  const next = await nextOnFilter(jsm, stream, c.config.filter_subject, c.delivered.stream_seq + 1)
  return next === null ? 0 : Math.max(1, pendingOf(c, last))
}

/** One scope a deployment runs, with the durables feeding it. */
interface ExpectedScope {
  actor: ActorName
  key: string
  durables: { stream: StreamName; name: string }[]
}

export interface Expectation {
  scopes: ExpectedScope[]
  /**
   * true: `scopes` is the whole deployment (from its config). false (no config): the accounts and
   * multi-symbol scopes are unknown here, so every scope a running instance owns must be live too.
   */
  complete: boolean
}

/** The work of a deployment: every scope of the given definitions (daemon.ts deploymentActors) and its durables, named as the runtime names them. */
export function expectedWork(defs: readonly ActorDef<unknown>[], complete: boolean): Expectation {
  return {
    complete,
    scopes: defs.flatMap((def) =>
      def.scopes.map((scope) => ({
        actor: def.name,
        key: scope.key,
        durables: scope.inputs.map((input) => ({ stream: input.stream, name: durableName(def.name, scope, input) })),
      })),
    ),
  }
}

/** What one actor has still to do; an actor with nothing left is not listed. */
export interface Waiting {
  actor: ActorName
  /** No instance of it answers. */
  noInstance: boolean
  /** Scopes no instance reports live: rebuilding, or run by nobody. */
  notLive: string[]
  /** Durables it needs that do not exist: it never ran, or one is being recreated. */
  missing: string[]
  /** Durables with messages pending or unacknowledged → how many. */
  busy: Record<string, number>
  /** Scopes holding inputs they have not acted on yet (ideas waiting for fills) → how many. */
  held?: Record<string, number>
}

/**
 * The pure core of quiescence: what is still to do, given the expected work, the consumers and the
 * instances that answered. `instances` null: liveness is not checked (only the durables' backlog).
 */
export function stillToDo(expected: Expectation | null, now: Backlog, instances: Instance[] | null): Waiting[] {
  const out: Waiting[] = []
  for (const actor of ACTOR_NAMES) {
    const mine = expected?.scopes.filter((s) => s.actor === actor) ?? []
    const w: Waiting = {
      actor,
      ...(expected && instances ? liveness(expected, actor, instances) : { noInstance: false, notLive: [] }),
      missing: mine
        .flatMap((s) => s.durables)
        .filter((d) => now.durables[d.name] !== d.stream)
        .map((d) => d.name),
      busy: Object.fromEntries(Object.entries(now.lagging).filter(([durable]) => actorOf(durable) === actor)),
    }
    const held = Object.assign({}, ...(instances ?? []).filter((i) => i.actor === actor).map((i) => i.scopes?.held ?? {})) as Record<string, number>
    if (Object.keys(held).length) w.held = held
    if (w.noInstance || w.notLive.length || w.missing.length || Object.keys(w.busy).length || w.held) out.push(w)
  }
  return out
}

/** Whether `actor` has an instance, and which of the scopes it must run no instance reports live. */
function liveness(expected: Expectation, actor: ActorName, instances: Instance[]): Pick<Waiting, 'noInstance' | 'notLive'> {
  const running = instances.filter((i) => i.actor === actor)
  const live = new Set(running.flatMap((i) => i.scopes?.live ?? []))
  const mustBeLive = new Set(expected.scopes.filter((s) => s.actor === actor).map((s) => s.key))
  if (!expected.complete) for (const i of running) for (const key of i.scopes?.owned ?? []) mustBeLive.add(key)
  // An actor the deployment gives no scope (left out of it, or a gate without accounts) needs no
  // instance; without a config that cannot be told, so every actor needs one.
  const needed = mustBeLive.size > 0 || !expected.complete
  return { noInstance: running.length === 0 && needed, notLive: [...mustBeLive].filter((key) => !live.has(key)) }
}

/** Every actor has an instance and every scope it must run is live somewhere. */
export function everyScopeLive(expected: Expectation, instances: Instance[]): boolean {
  return ACTOR_NAMES.every((actor) => {
    const l = liveness(expected, actor, instances)
    return !l.noInstance && l.notLive.length === 0
  })
}

/** Only the backlog left (every scope live, every durable there): what a progress bar counts down. */
export const onlyBacklog = (waiting: Waiting[]) => waiting.every((w) => !w.noInstance && !w.notLive.length && !w.missing.length)

/** "paper-executor (no live instance): durables paper-executor-main-orders, … missing; indicators: indicators-p3 12 pending" */
export function describeWaiting(waiting: Waiting[]): string {
  return waiting
    .map((w) => {
      const parts: string[] = []
      // With no instance at all, "not live" says nothing more.
      if (!w.noInstance && w.notLive.length)
        parts.push(
          `${w.notLive.length > 1 ? 'scopes' : 'scope'} ${list(w.notLive)} not live (rebuilding, or no instance runs ${w.notLive.length > 1 ? 'them' : 'it'})`,
        )
      if (w.missing.length) parts.push(`${w.missing.length > 1 ? 'durables' : 'durable'} ${list(w.missing)} missing`)
      const busy = Object.entries(w.busy)
      if (busy.length) parts.push(list(busy.map(([d, n]) => `${d} ${n} pending`)))
      const held = Object.entries(w.held ?? {})
      if (held.length) parts.push(list(held.map(([scope, n]) => `${n} held in ${scope}`)))
      return `${w.actor}${w.noInstance ? ' (no live instance)' : ''}${parts.length ? `: ${parts.join(', ')}` : ''}`
    })
    .join('; ')
}

const list = (items: string[], max = 6) => (items.length > max ? `${items.slice(0, max).join(', ')}, … (${items.length - max} more)` : items.join(', '))

class QuiesceTimeout extends Error {
  override name = 'QuiesceTimeout'
}

interface QuiesceOptions {
  timeoutMs: number
  pollMs?: number
  onProgress?: (b: Backlog, waiting: Waiting[]) => void
  /**
   * The deployment's work (expectedWork) and a connection to ask the instances which scopes are
   * live. Without it only the durables that exist are counted: for a harness that started the
   * actors itself and waited until they were live.
   */
  deployment?: { nc: NatsConnection; expected: Expectation }
}

export async function waitForQuiescence(jsm: JetStreamManager, opts: QuiesceOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs
  const poll = opts.pollMs ?? 100
  const d = opts.deployment
  let previous: Backlog | null = null
  for (;;) {
    let polled: [Backlog, Awaited<ReturnType<typeof askInstances>> | null]
    try {
      polled = await Promise.all([
        backlog(jsm),
        // A complete expectation needs no more replies once every actor answered and every scope it
        // names is live; without a config, every instance's owned scopes count: wait for all replies.
        d ? askInstances(d.nc, d.expected.complete ? { enough: (seen) => everyScopeLive(d.expected, seen) } : {}) : null,
      ])
    } catch (err) {
      // A cluster electing leaders (a node just died) or a server restarting answers nothing for a
      // few seconds: that is not an answer, so ask again (and start the quiet count afresh).
      if (!isUnavailable(err)) throw err
      if (Date.now() > deadline)
        throw new QuiesceTimeout(`still processing after ${Math.round(opts.timeoutMs / 1000)} s: NATS does not answer (${(err as Error).message})`)
      previous = null
      await new Promise((r) => setTimeout(r, poll))
      continue
    }
    const [now, instances] = polled
    const waiting = stillToDo(d?.expected ?? null, now, instances)
    opts.onProgress?.(now, waiting)
    if (waiting.length === 0 && now.total === 0 && previous?.total === 0 && sameStreams(previous, now)) return
    previous = waiting.length === 0 ? now : null
    if (Date.now() > deadline) {
      const what = waiting.length ? `waiting for ${describeWaiting(waiting)}` : 'streams still growing'
      throw new QuiesceTimeout(`still processing after ${Math.round(opts.timeoutMs / 1000)} s: ${what}`)
    }
    await new Promise((r) => setTimeout(r, poll))
  }
}

const sameStreams = (a: Backlog, b: Backlog) => Object.keys(b.streams).every((s) => a.streams[s] === b.streams[s])
