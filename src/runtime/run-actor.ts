// The one runtime every actor runs in. Per scope: rebuild state (ordered actors), then pull from its
// durable consumers into a mailbox and process it batch by batch:
//   decode + validate → handle → encode + validate outputs → publish them (Nats-Msg-Id = id, every
//   PubAck awaited) and commit writes → ack.
// Nothing is acknowledged before its effects are durable; invalid input is terminated and copied to
// dlq.<actor> with the reason; NATS trouble is retried in place (keeping the messages alive) and a
// failing database write is naked with backoff until max_deliver, then dead-lettered.
// On abort: stop pulling, finish what was delivered, save a checkpoint, return.
// This file supervises scopes and processes batches; how messages come in is intake.ts, how a batch
// is made durable (commit, publish, checkpoint) durable.ts, how a state is rebuilt rebuild.ts.
import type { JsMsg } from '@nats-io/jetstream'
import type { ActorDef, InputSpec, Scope } from '../core/actor.js'
import type { Bar } from '../core/contracts.js'
import { filterOf } from '../core/subjects.js'
import { fnv1a32 } from '../core/partition.js'
import { apply, ELSEWHERE, LookupFailed, type Applied, type ReadLookups } from './apply.js'
import { backoff, sleep } from './backoff.js'
import { commitWrites, publishAll, saveCheckpoint } from './durable.js'
import { checkOrder, pump, Resync, type Item } from './intake.js'
import type { Io } from './io.js'
import { readLookups } from './lookups.js'
import { Mailbox } from './mailbox.js'
import { type Lease, LeaseLost, type ScopeRunner } from './leases.js'
import { rebuild, type LiveInput } from './rebuild.js'
import { takeNew } from './strategy-versions.js'
import type { WriteSink } from './sink.js'
import { consumerConfig, durableName, isUnavailable } from './topology.js'

const MAX_BATCH = 500
/** Batches an unordered actor makes durable at once. */
const UNORDERED_IN_FLIGHT = 3
/**
 * An unordered actor (the persister, one transaction per batch) waits this long for a small batch
 * to grow: at a steady few hundred messages a second its batches were of one or two messages, and
 * their transactions took a fifth of the process's CPU from the actors on the trading path.
 */
const UNORDERED_LINGER_MS = 10
const UNORDERED_ENOUGH = 100
const CHECKPOINT_INTERVAL_MS = 2_000

/**
 * Where in the checkpoint interval a scope's checkpoints fall, from its key: the scopes of a process
 * start together, and checkpointing all at once (encoding, gzip, a KV write each) stalled the
 * thread every two seconds — the bench's worst bar → fill latencies.
 */
const checkpointPhase = (key: string): number => fnv1a32(key) % CHECKPOINT_INTERVAL_MS

interface RunningActor {
  /** Resolves when every scope has rebuilt its state and is consuming live. */
  live: Promise<void>
  /** Resolves when every scope has stopped after the abort signal. */
  done: Promise<void>
}

/**
 * Runs every scope of an actor for as long as the process runs, without leases: the persister (any
 * number of replicas share its durables), and a process that is the only one to run the actor.
 * `sink` takes the row writes of an actor that makes them (the persister).
 */
export function runActor<S>(def: ActorDef<S>, io: Io, signal: AbortSignal, sink?: WriteSink): RunningActor {
  io.metrics.scopesOwned.inc({ actor: def.name }, def.scopes.length)
  const scopes = def.scopes.map((scope) => runScope(def, scope, io, signal, sink))
  return {
    live: Promise.all(scopes.map((s) => s.live)).then(() => undefined),
    done: Promise.all(scopes.map((s) => s.done)).then(() => {
      io.metrics.scopesOwned.dec({ actor: def.name }, def.scopes.length)
    }),
  }
}

/** Runs a scope of the actor while its lease is held (leases.ts decides which scopes, and when). */
export function leasedRunner<S>(def: ActorDef<S>, io: Io, sink?: WriteSink): ScopeRunner {
  const byKey = new Map(def.scopes.map((s) => [s.key, s]))
  return (placed, lease) => runScope(def, byKey.get(placed.key)!, io, lease.signal, sink, lease)
}

/**
 * Runs one scope, and runs it again (rebuilding its state) if anything unexpected breaks it — a
 * consumer that vanished, a bug — so one failure never takes the process down or loses order. A
 * lost lease stops it for good: another instance owns the scope now.
 */
function runScope<S>(def: ActorDef<S>, scope: Scope, io: Io, signal: AbortSignal, sink: WriteSink | undefined, lease?: Lease): RunningActor {
  let markLive!: () => void
  const live = new Promise<void>((resolve) => (markLive = resolve))
  const log = io.log.child({ actor: def.name, scope: scope.key })
  const done = (async () => {
    for (let failures = 0; !signal.aborted; ) {
      try {
        await runScopeOnce(def, scope, io, signal, log, markLive, sink, lease)
        return
      } catch (err) {
        if (err instanceof LeaseLost) {
          log.info({ reason: err.message }, 'scope stopped: its lease is lost')
          return
        }
        if (err instanceof Resync) {
          io.metrics.messages.inc({ actor: def.name, outcome: 'resync' })
          log.info({ reason: err.message }, 'resynchronising: rebuilding state from what the server acknowledged')
          continue
        }
        failures++
        io.metrics.messages.inc({ actor: def.name, outcome: 'scope_restart' })
        log.error({ err, failures }, 'scope failed; rebuilding and restarting it')
        await sleep(restartDelay(err, failures), signal)
      }
    }
  })()
  return { live, done }
}

/**
 * How long a failed scope waits before it rebuilds: backing off to 30 s, but to 5 s at most while
 * the server could not answer (a JetStream cluster electing leaders after a node died): that ends on
 * its own, and a scope that slept 30 s past it left its work waiting as long (seen on a three-node
 * cluster: a durable "temporarily unavailable" for a minute, then the next try 25 s away).
 */
export function restartDelay(err: unknown, failures: number, random: () => number = Math.random): number {
  return backoff(failures, 1000, isUnavailable(err) ? 5_000 : 30_000, random)
}

async function runScopeOnce<S>(
  def: ActorDef<S>,
  scope: Scope,
  io: Io,
  outer: AbortSignal,
  log: Io['log'],
  markLive: () => void,
  sink: WriteSink | undefined,
  lease: Lease | undefined,
): Promise<void> {
  const key = `${def.name}.${scope.key}`
  const inputs: LiveInput[] = scope.inputs.map((spec) => ({ spec, durable: durableName(def.name, scope, spec), config: consumerConfig(def, scope, spec) }))
  let state = def.init(scope)
  let positions = new Map<string, number>()
  let deliveries = new Map<string, number>()
  if (def.ordered) ({ state, positions, deliveries } = await rebuild(def, scope, inputs, io, key, lease))
  const read = () => state
  io.states?.set(key, read)
  io.metrics.scopesLive.inc({ actor: def.name })
  // While it runs, this scope's bars keep the process's tape (tape-feed.ts stands aside).
  const stopFeeding = def.ordered && io.tape && scope.inputs.some(feedsTape) ? io.tape.fedByScope() : undefined
  const stopReading = def.ordered && io.tape && def.lookup ? io.tape.readByScope() : undefined
  markLive()
  log.debug('live')

  // Stopping the process, or one input failing, stops every input of the scope.
  const local = new AbortController()
  const stopAll = () => local.abort()
  outer.addEventListener('abort', stopAll, { once: true })
  // Stopped while rebuilding (a hand-over, a shutdown): 'abort' has fired already and will not again.
  if (outer.aborted) stopAll()
  const mailbox = new Mailbox<Item>()
  const pumps = Promise.all(
    inputs.map((input) =>
      pump(input, mailbox, io, local.signal, log).catch((err) => {
        stopAll()
        throw err
      }),
    ),
  ).finally(() => mailbox.close())

  // Strategies defined at runtime: taken between batches, at the position the scope has reached.
  const registry = def.ordered && def.runtimeStrategies ? io.registry : undefined
  let generation = -1
  let lastCheckpoint = Date.now() - checkpointPhase(key)
  // A periodic checkpoint being written while the scope goes on (its state was encoded when it began).
  let checkpointing: Promise<void> | null = null
  let checkpointLost: unknown = null
  let abandoned = false
  const epoch = io.epoch()
  // Whether an acknowledgement of this scope may still go out when it is sent (publisher.ts): not
  // once another instance may own the scope, nor on a connection re-established since.
  const still = () => io.epoch() === epoch && (lease?.held() ?? true)
  // Batches of an unordered actor being made durable (see below), and the first failure among them.
  const inFlight = new Set<Promise<void>>()
  const failures: unknown[] = []
  try {
    for (;;) {
      // A scope with work to settle between messages (ActorDef.settle) does it when no message has
      // come for as long as it says (0: at once): an empty batch.
      const idleMs = def.ordered ? (def.settle?.due(state) ?? null) : null
      const batch =
        idleMs === 0
          ? []
          : idleMs !== null
            ? await mailbox.takeWithin(MAX_BATCH, idleMs)
            : def.ordered
              ? await mailbox.take(MAX_BATCH)
              : await mailbox.takeLingering(MAX_BATCH, UNORDERED_ENOUGH, UNORDERED_LINGER_MS)
      if (!batch) break
      // A lost lease: another instance owns the scope; act on nothing more, not even what is in hand.
      if (lease?.reason() === 'lost') {
        abandoned = true
        break
      }
      if (batch.length === 0) {
        const settled = await settleScope(def, scope, state, idleMs ?? 0, io, outer, log, lease).catch((err: unknown) => {
          if (err instanceof LeaseLost) return null
          throw err
        })
        if (settled === null) {
          abandoned = true
          break
        }
        state = settled
        continue
      }
      if (!def.ordered) {
        // An unordered actor (the persister) keeps no state and acknowledges each message on its
        // own, and no batch needs the one before it: rows merge by key and state rows only move
        // forward, offsets keep the greatest. So the next batch is handled while earlier ones
        // commit, up to UNORDERED_IN_FLIGHT at once: the database works while the rows are built.
        const flushing: Promise<void> = processBatch(def, scope, state, batch, positions, io, outer, log, sink, lease, undefined)
          .then((result) => {
            if (!result.acked) abandoned = true
          })
          .catch((err: unknown) => {
            failures.push(err)
          })
          .finally(() => inFlight.delete(flushing))
        inFlight.add(flushing)
        if (inFlight.size >= UNORDERED_IN_FLIGHT) await Promise.race(inFlight)
        if (failures.length) throw failures[0]
        if (abandoned) break
        continue
      }
      checkOrder(batch, positions, deliveries, epoch, io)
      if (registry && registry.generation() !== generation) {
        generation = registry.generation()
        state = await takeNew(def, scope, state, registry, key, positions.get(inputs[0]!.durable) ?? 0, lease)
      }
      let result: BatchResult<S>
      try {
        result = await processBatch(def, scope, state, batch, positions, io, outer, log, sink, lease, still)
      } catch (err) {
        if (!(err instanceof LeaseLost)) throw err
        abandoned = true
        break
      }
      state = result.state
      if (!result.acked) {
        // Stopping with outputs NATS never confirmed: acknowledge nothing more and keep the last
        // checkpoint; the next start replays from what the server has acknowledged.
        abandoned = true
        break
      }
      for (const [durable, seq] of result.acked) positions.set(durable, seq)
      if (checkpointLost) throw checkpointLost
      if (def.ordered && !checkpointing && Date.now() - lastCheckpoint >= CHECKPOINT_INTERVAL_MS) {
        lastCheckpoint = Date.now()
        checkpointing = saveCheckpoint(io, key, positions, state, def.stateVersion ?? 1, log, lease)
          .catch((err: unknown) => {
            checkpointLost = err // LeaseLost: another instance owns the scope
          })
          .finally(() => (checkpointing = null))
      }
    }
    await Promise.all(inFlight)
    if (failures.length) throw failures[0]
  } finally {
    await Promise.all(inFlight)
    await checkpointing
    // Before the scope lets go: its acknowledgements, so the next owner starts after them.
    io.publisher.flushAcks()
    stopAll()
    outer.removeEventListener('abort', stopAll)
    if (io.states?.get(key) === read) io.states.delete(key)
    stopFeeding?.()
    stopReading?.()
    io.metrics.scopesLive.dec({ actor: def.name })
  }
  await pumps
  if (checkpointLost) throw checkpointLost
  if (def.ordered && !abandoned) await saveCheckpoint(io, key, positions, state, def.stateVersion ?? 1, log, lease)
  log.debug('stopped')
}

/**
 * The scope's work between messages (ActorDef.settle): its lookups read, the step run, its outputs
 * published (the lease checked first). Returns the state after it, or null when stopping while NATS
 * is unreachable (the state is then rebuilt on the next start, and settles again).
 */
async function settleScope<S>(
  def: ActorDef<S>,
  scope: Scope,
  state: S,
  idleMs: number,
  io: Io,
  signal: AbortSignal,
  log: Io['log'],
  lease: Lease | undefined,
): Promise<S | null> {
  const settle = def.settle!
  const t0 = performance.now()
  const lookups = settle.lookup(state, scope, idleMs)
  const found = lookups.length ? await readLookups(io, lookups) : []
  const t1 = performance.now()
  const step = settle.run(state, scope, found, idleMs)
  const out = (step.emit ?? []).map((o) => io.codec.encode(o))
  await lease?.check()
  if (!(await publishAll(def.name, out, [], io, signal, log))) return null
  if (out.length) io.published?.(out)
  io.metrics.messages.inc({ actor: def.name, outcome: 'settled' })
  log.debug(
    { bars: found.reduce((n, f) => n + f.bars.length, 0), published: out.length, readMs: Math.round(t1 - t0), ms: Math.round(performance.now() - t0) },
    'settled: books folded again',
  )
  return step.state
}

interface BatchResult<S> {
  state: S
  /** durable → last stream sequence acknowledged, or null when the batch was abandoned. */
  acked: Map<string, number> | null
}

async function processBatch<S>(
  def: ActorDef<S>,
  scope: Scope,
  state: S,
  batch: Item[],
  positions: Map<string, number>,
  io: Io,
  signal: AbortSignal,
  log: Io['log'],
  sink: WriteSink | undefined,
  lease: Lease | undefined,
  still: (() => boolean) | undefined,
): Promise<BatchResult<S>> {
  const { metrics } = io
  const results: Applied<S>[] = []
  const handleSeconds = metrics.handleSeconds.labels(def.name)
  const read: ReadLookups = (lookups) => readLookups(io, lookups)
  const tape = def.ordered ? io.tape : undefined
  const tapePrev = new Map<string, number>()
  for (const { input, m } of batch) {
    const t0 = performance.now()
    const r = await applyRetrying(def, scope, input, state, m, batch, read, io, signal, log)
    handleSeconds.observe((performance.now() - t0) / 1000)
    state = r.state
    results.push(r)
    if (r.disposition === 'term') log.warn({ seq: m.seq, subject: m.subject, reason: r.reason }, 'dead-lettering message')
    if (tape && feedsTape(input.spec)) {
      // Every md.bar, in order: none lies between this one and the last this durable delivered.
      const prev = tapePrev.get(input.durable) ?? positions.get(input.durable) ?? 0
      if (r.inbound?.type === 'md.bar') tape.record(prev, m.seq, r.inbound.data as Bar)
      else tape.forget(m.seq)
      tapePrev.set(input.durable, m.seq)
    }
  }
  metrics.batchSize.observe({ actor: def.name }, batch.length)
  const endFlush = metrics.flushSeconds.startTimer({ actor: def.name })

  // Every effect of the batch checks the lease first: a process that stalled past it acts on nothing.
  await lease?.check()
  if (sink) await commitWrites(def, sink, batch, results, io, signal, log)
  const out = results.flatMap((r) => r.out)
  const published = await publishAll(
    def.name,
    out,
    batch.map((b) => b.m),
    io,
    signal,
    log,
  )
  if (!published) return { state, acked: null }
  await lease?.check()
  if (out.length) {
    io.published?.(out)
    observeFills(batch, results, io)
  }
  endFlush()

  const acked = new Map<string, number>()
  if (def.ordered) {
    // Cumulative acks: term() marks the refused ones (and acks everything before them); one ack of
    // each input's last message covers the rest.
    const last = new Map<string, Item>()
    batch.forEach((item, i) => {
      if (results[i]!.disposition === 'term') io.publisher.term(item.m, still)
      last.set(item.input.durable, item)
    })
    for (const [durable, item] of last) {
      if (results[batch.indexOf(item)]!.disposition !== 'term') io.publisher.ackUpTo(item.m, durable, still)
      acked.set(durable, Math.max(item.m.seq, positions.get(durable) ?? 0))
    }
  } else {
    batch.forEach((item, i) => {
      const r = results[i]!
      if (r.disposition === 'ack') io.publisher.ack(item.m)
      else if (r.disposition === 'term') io.publisher.term(item.m)
      else item.m.nak(backoff(item.m.info.deliveryCount, 1000, 30_000))
      if (r.disposition !== 'retry') acked.set(item.input.durable, Math.max(acked.get(item.input.durable) ?? 0, item.m.seq))
    })
  }
  // Counted per batch, not per message: label lookups are not free at thousands of messages a second.
  const outcomes = new Map<string, number>()
  let dead = 0
  for (const r of results) {
    if (r.outcome === ELSEWHERE) continue // another scope's message: not this actor's work
    outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1)
    if (r.disposition === 'term') dead++
  }
  for (const [outcome, n] of outcomes) metrics.messages.inc({ actor: def.name, outcome }, n)
  if (dead) metrics.deadLetters.inc({ actor: def.name }, dead)
  return { state, acked }
}

/** An input that delivers every md.bar of MD in stream order (the executor's): it feeds the tape. */
const ALL_BARS = filterOf('md.bar')
const feedsTape = (spec: InputSpec): boolean => spec.stream === 'MD' && spec.filter === ALL_BARS

/**
 * One message through its handler. Bars a handler looks up that cannot be read (NATS restarting)
 * are read again, the batch's messages kept alive meanwhile: the state is untouched until the handler
 * runs, and the stream will hold the same bars.
 */
async function applyRetrying<S>(
  def: ActorDef<S>,
  scope: Scope,
  input: LiveInput,
  state: S,
  m: JsMsg,
  batch: Item[],
  read: ReadLookups,
  io: Io,
  signal: AbortSignal,
  log: Io['log'],
): Promise<Applied<S>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await apply(def, scope, input.spec, state, m, io.codec, read)
    } catch (err) {
      if (!(err instanceof LookupFailed) || signal.aborted) throw err
      io.metrics.retries.inc({ actor: def.name, what: 'lookup' })
      log.warn({ err: err.message, attempt, seq: m.seq }, 'reading looked-up bars failed; retrying')
      for (const b of batch) b.m.working()
      await sleep(backoff(attempt, 200), signal)
    }
  }
}

/**
 * paperd_bar_to_fill_seconds: for every fill of the batch, now (every PubAck is in) minus the
 * JetStream timestamp of the message whose handling emitted it — the fill bar, or the order or
 * command that arrived after its fill bar was stored. Fills re-emitted by a rebuild are never
 * published, so never measured.
 */
function observeFills(batch: Item[], results: Applied<unknown>[], io: Io): void {
  let now = 0
  results.forEach((r, i) => {
    if (!r.out.some((e) => e.type === 'trade.fill')) return
    now ||= Date.now()
    const { input, m } = batch[i]!
    const seconds = Math.max(0, now - m.info.timestampNanos / 1e6) / 1000
    const hist = io.metrics.barToFill.labels(input.spec.name ?? 'all')
    for (const e of r.out) if (e.type === 'trade.fill') hist.observe(seconds)
  })
}
