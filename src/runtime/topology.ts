// Streams and durable consumers, derived from the contract table and the actors' scopes, created or
// updated idempotently at start. Works on nats-server 2.9 (where `consumers.add` silently updates)
// and ≥ 2.10 (where it refuses a changed config): always info → update, or add when missing.
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream'
import { nanos } from '@nats-io/transport-node'
import { ACTOR_NAMES, type ActorDef, type InputSpec, type Scope } from '../core/actor.js'
import { STREAMS, type StreamName } from '../core/contracts.js'
import { backoff, sleep } from './backoff.js'

const STREAM_NOT_FOUND = 10059
const CONSUMER_NOT_FOUND = 10014
const DAY = 24 * 3600_000
const GiB = 1024 ** 3

interface StreamLimits {
  maxAgeMs: number
  maxBytes: number
}

const DEFAULT_STREAM_LIMITS: Record<StreamName, StreamLimits> = {
  MD_IN: { maxAgeMs: 30 * DAY, maxBytes: 1 * GiB },
  MD_PART: { maxAgeMs: 30 * DAY, maxBytes: 1 * GiB },
  MD: { maxAgeMs: 30 * DAY, maxBytes: 4 * GiB },
  TRADE: { maxAgeMs: 365 * DAY, maxBytes: 2 * GiB },
  SIGNALS: { maxAgeMs: 365 * DAY, maxBytes: GiB },
  DLQ: { maxAgeMs: 90 * DAY, maxBytes: GiB / 4 },
  // Kept a year: an import is re-published (same ids, nothing stored twice) rather than replayed.
  IMPORT: { maxAgeMs: 365 * DAY, maxBytes: GiB },
}

/** How long a stored message id de-duplicates a re-publish (checkpoints are far more frequent). */
const DUPLICATE_WINDOW_MS = 10 * 60_000

function streamConfig(name: StreamName, limits: StreamLimits, replicas: number): Partial<StreamConfig> & { name: string } {
  return {
    name,
    subjects: [...STREAMS[name].subjects],
    description: STREAMS[name].description,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(limits.maxAgeMs),
    max_bytes: limits.maxBytes,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    // On a JetStream cluster: copies on this many servers (PAPERD_STREAM_REPLICAS); durables follow
    // their stream's replication (num_replicas 0 = the stream's).
    num_replicas: replicas,
  }
}

export function durableName(actor: string, scope: Scope, input: Pick<InputSpec, 'name'>): string {
  return [actor, scope.key === 'all' ? null : scope.key, input.name].filter(Boolean).join('-')
}

/**
 * Inputs an earlier release had and this one does not: their durables are deleted when the scope
 * starts, so nothing counts their backlog as lag. (paper-executor: commands now come with its orders.)
 */
export const RETIRED_INPUTS: Partial<Record<string, { stream: string; name: string }[]>> = {
  'paper-executor': [{ stream: 'TRADE', name: 'commands' }],
}

/** Deletes the durables of a scope's retired inputs, if an earlier release left them. */
export async function retireDurables(jsm: JetStreamManager, actor: string, scope: Scope): Promise<void> {
  for (const input of RETIRED_INPUTS[actor] ?? []) {
    try {
      await jsm.consumers.delete(input.stream, durableName(actor, scope, input))
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND)) throw err
    }
  }
}

/**
 * Messages a durable has still to be delivered: the server's count, but never more than the stream
 * holds after the consumer's position. nats-server 2.9.10 miscounts some filters with a wildcard
 * before the last token (`trade.*.<account>`), once as 18446744073709552000, an underflow; whether
 * nothing is left is asked of the stream itself (quiesce.ts).
 */
export function pendingOf(c: Pick<ConsumerInfo, 'num_pending' | 'delivered'>, lastSeq: number): number {
  return Math.min(c.num_pending, Math.max(0, lastSeq - c.delivered.stream_seq))
}

/**
 * Whether a consumer is one of paperd's durables (named by durableName): the only consumers whose
 * backlog is paperd's lag. Others are left out of status, gauges and quiescence: the ephemeral
 * consumers a killed process's rebuild left behind (they linger, with a random name and a full
 * backlog, until their inactive threshold) and anyone else's consumers on the streams.
 */
export function isPaperdDurable(c: Pick<ConsumerInfo, 'name' | 'config'> | null | undefined): c is Pick<ConsumerInfo, 'name' | 'config'> {
  // The server's consumer list can hold null for a consumer deleted while it was listed (the
  // ephemeral ones lookups and rebuilds use come and go all the time).
  if (!c?.config) return false
  const durable = c.config.durable_name
  return durable !== undefined && durable === c.name && ACTOR_NAMES.some((a) => durable === a || durable.startsWith(`${a}-`))
}

/** Unacknowledged messages of a crashed persister come back after this; retries keep live ones alive with working(). */
const ACK_WAIT_MS = 10_000
/** A persister write that keeps failing on a message is retried this many times, then dead-lettered. */
export const PERSISTER_MAX_DELIVER = 5

export function consumerConfig(def: ActorDef, scope: Scope, input: InputSpec): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: durableName(def.name, scope, input),
    description: `${def.name} ${scope.key} ${input.name ?? ''}`.trim(),
    // Ordered actors ack cumulatively: a lost ack is covered by the next one, and what the server
    // counts as acknowledged is always a prefix — exactly the state a restart rebuilds.
    ack_policy: def.ordered ? AckPolicy.All : AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ...(input.filter ? { filter_subject: input.filter } : {}),
    ack_wait: nanos(ACK_WAIT_MS),
    max_deliver: def.ordered ? 20 : PERSISTER_MAX_DELIVER,
    max_ack_pending: def.ordered ? 2000 : 4000,
  }
}

/** Whether a JetStream API call failed only because the server could not answer yet (see whileUnavailable). */
export function isUnavailable(err: unknown): boolean {
  return /timeout|no responders|temporarily unavailable|503/i.test((err as Error).message)
}

/**
 * Retries a JetStream API call the server could not answer yet: a cluster electing its meta leader
 * (a node just died), or a server restarting, answers nothing for a few seconds, then carries on.
 * Start-up goes through it, so a process started while NATS restarts waits instead of exiting.
 */
export async function whileUnavailable<T>(fn: () => Promise<T>, forMs = 30_000): Promise<T> {
  const deadline = Date.now() + forMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (!isUnavailable(err) || Date.now() > deadline) throw err
      await sleep(backoff(attempt, 250, 2000))
    }
  }
}

async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(cfg.name)
    await jsm.streams.update(cfg.name, cfg)
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND) await jsm.streams.add(cfg)
    else throw err
  }
}

/** A server that lost a durable's files on disk answers every change of it with this. */
const BROKEN_STORE = /no such file or directory/i

/** Settings the server refuses to change on an existing consumer. */
const IMMUTABLE = ['durable_name', 'deliver_policy', 'opt_start_seq', 'opt_start_time', 'ack_policy'] as const

/**
 * Creates a durable, or brings its mutable settings up to date. Another process may be remaking it
 * meanwhile (its owner repositioning it, see resetConsumer): the calls then fail in ways nats-server
 * 2.9 and nats.js do not name (a durable reported without a config, "deliver policy can not be
 * updated", a library TypeError reading that config), and a moment later it is there — so it is
 * tried again a few times before the failure counts.
 */
async function ensureConsumer(jsm: JetStreamManager, stream: string, cfg: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureConsumerOnce(jsm, stream, cfg)
    } catch (err) {
      if (attempt >= 5 || isUnavailable(err)) throw err
      await new Promise((resolve) => setTimeout(resolve, 25 * attempt))
    }
  }
}

async function ensureConsumerOnce(jsm: JetStreamManager, stream: string, cfg: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
  try {
    const info = await jsm.consumers.info(stream, cfg.durable_name)
    // Caught in the middle of being made anew by its owner (nats-server 2.9 answers with no config).
    if (!info.config) return await addUnlessMade(jsm, stream, cfg)
    // A release that changes what an input reads (its filter) starts that durable afresh: 2.9 cannot
    // change a filter in place, and the scope's state version changes with it, so it replays anyway.
    if ((info.config.filter_subject ?? undefined) !== (cfg.filter_subject ?? undefined)) {
      await jsm.consumers.delete(stream, cfg.durable_name)
      await jsm.consumers.add(stream, cfg)
      return
    }
    const mutable: Partial<ConsumerConfig> = { ...cfg }
    for (const key of IMMUTABLE) delete mutable[key]
    try {
      await jsm.consumers.update(stream, cfg.durable_name, mutable)
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || !BROKEN_STORE.test(err.message)) throw err
      // The server cannot write the durable's own store (seen on 2.9.10 after a restart while its
      // durables were being recreated: "open …/obs/<durable>/meta.inf: no such file or directory",
      // for good). Made anew, it works again; the scope that owns it rebuilds and repositions it, as
      // after any takeover.
      await jsm.consumers.delete(stream, cfg.durable_name).catch(() => undefined)
      await jsm.consumers.add(stream, cfg)
    }
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND)) throw err
    await addUnlessMade(jsm, stream, cfg)
  }
}

/**
 * Adds a durable found missing — unless another process makes it meanwhile: the scope's owner
 * repositioning it (delete, then add at a start sequence; this add then fails with "deliver policy
 * can not be updated"). Theirs stands.
 */
async function addUnlessMade(jsm: JetStreamManager, stream: string, cfg: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
  try {
    await jsm.consumers.add(stream, cfg)
  } catch (err) {
    if (!(await consumerInfo(jsm, stream, cfg.durable_name))) throw err
  }
}

/**
 * Recreates a durable so it delivers from `startSeq` (used when a scope rebuilds its state). The
 * scope owns it, so it goes again until its own add stands: over a process starting up that made
 * the durable afresh between the delete and the add, and over nats-server 2.9.10 failing a delete
 * while such a process writes the durable's files ("unlinkat …/obs/<durable>: directory not empty").
 */
export async function resetConsumer(
  jsm: JetStreamManager,
  stream: string,
  cfg: Partial<ConsumerConfig> & { durable_name: string },
  startSeq: number,
): Promise<void> {
  const target = startSeq > 1 ? { ...cfg, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq } : cfg
  let failure: unknown
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      await jsm.consumers.delete(stream, cfg.durable_name)
    } catch (err) {
      // Gone already, its files lost on disk (BROKEN_STORE), or a delete the server could not finish:
      // the add below says whether the durable is now as this scope needs it.
      if (!(err instanceof JetStreamApiError)) throw err
    }
    try {
      await jsm.consumers.add(stream, target)
      return
    } catch (err) {
      if (!(err instanceof JetStreamApiError)) throw err
      failure = err
    }
    await new Promise((resolve) => setTimeout(resolve, 25 * attempt))
  }
  throw failure
}

/** Creates or updates every stream; `replicas` > 1 needs a JetStream cluster of at least that many servers. */
export async function ensureStreams(jsm: JetStreamManager, replicas = 1): Promise<void> {
  for (const name of Object.keys(STREAMS) as StreamName[])
    await whileUnavailable(() => ensureStream(jsm, streamConfig(name, DEFAULT_STREAM_LIMITS[name], replicas)))
}

export async function ensureConsumers(jsm: JetStreamManager, defs: ActorDef[]): Promise<void> {
  for (const def of defs) {
    for (const scope of def.scopes)
      for (const input of scope.inputs) {
        await whileUnavailable(() => ensureScopeConsumer(jsm, def, scope, input))
      }
    await whileUnavailable(() => retirePredecessor(jsm, def))
  }
}

/**
 * The stream position a durable has acknowledged everything up to. A durable recreated to start at
 * S (a rebuild repositions it) that has acknowledged nothing since reports an ack floor of 0 on
 * nats-server 2.9, though everything before S is behind it: taken at its word, a process killed
 * right after the repositioning would make the next one rebuild without those messages.
 */
export function acknowledgedThrough(info: Pick<ConsumerInfo, 'ack_floor' | 'config'>): number {
  return Math.max(info.ack_floor.stream_seq, (info.config.opt_start_seq ?? 1) - 1)
}

async function consumerInfo(jsm: JetStreamManager, stream: string, name: string): Promise<ConsumerInfo | null> {
  try {
    return await jsm.consumers.info(stream, name)
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND) return null
    throw err
  }
}

/** The predecessor's input a scope's input continues (the same name). */
function predecessorInput(def: ActorDef, input: InputSpec): InputSpec | undefined {
  return def.predecessor?.scope.inputs.find((i) => i.name === input.name && i.stream === input.stream)
}

/**
 * Creates or updates a scope's durable. A scope split from an earlier release's (ActorDef.predecessor)
 * gets its first durable where the predecessor's had got to, so it neither handles again what that
 * one did nor skips what it had not.
 */
export async function ensureScopeConsumer(jsm: JetStreamManager, def: ActorDef, scope: Scope, input: InputSpec): Promise<void> {
  const cfg = consumerConfig(def, scope, input)
  const before = predecessorInput(def, input)
  if (before && (await consumerInfo(jsm, input.stream, cfg.durable_name)) === null) {
    const old = await consumerInfo(jsm, input.stream, durableName(def.name, def.predecessor!.scope, before))
    const floor = old ? acknowledgedThrough(old) : 0
    if (floor > 0) {
      await jsm.consumers.add(input.stream, { ...cfg, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 })
      return
    }
  }
  await ensureConsumer(jsm, input.stream, cfg)
}

/** Once every scope of a split actor has its durable, the predecessor's are deleted (their backlog would count as lag). */
async function retirePredecessor(jsm: JetStreamManager, def: ActorDef): Promise<void> {
  if (!def.predecessor) return
  for (const scope of def.scopes)
    for (const input of scope.inputs) if ((await consumerInfo(jsm, input.stream, durableName(def.name, scope, input))) === null) return
  for (const input of def.predecessor.scope.inputs) {
    try {
      await jsm.consumers.delete(input.stream, durableName(def.name, def.predecessor.scope, input))
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND)) throw err
    }
  }
}
