// The one runtime every actor runs in. Per scope: rebuild state (ordered actors), then pull from its
// durable consumers into a mailbox and process it batch by batch:
//   decode + validate → handle → encode + validate outputs → publish them (Nats-Msg-Id = id, every
//   PubAck awaited) and commit writes → ack.
// Nothing is acknowledged before its effects are durable; invalid input is terminated and copied to
// dlq.<actor> with the reason; NATS trouble is retried in place (keeping the messages alive) and a
// failing database write is naked with backoff until max_deliver, then dead-lettered.
// On abort: stop pulling, finish what was delivered, save a checkpoint, return.
import { JetStreamApiError, type JsMsg } from '@nats-io/jetstream'
import type { ActorDef, ConsumerPosition, Scope, Write } from '../core/actor.js'
import { TransientCommitError, type WriteSink } from './sink.js'
import type { Encoded } from './codec.js'
import { apply, LookupFailed, type Applied, type ReadLookups } from './apply.js'
import { backoff } from './backoff.js'
import { readLookups } from './lookups.js'
import { deadLetter } from './dead-letter.js'
import type { Io } from './io.js'
import { Mailbox } from './mailbox.js'
import { rebuild, type LiveInput } from './rebuild.js'
import { consumerConfig, durableName, PERSISTER_MAX_DELIVER } from './topology.js'

export const MAX_BATCH = 500
export const CHECKPOINT_INTERVAL_MS = 2_000
const PULL_BUFFER = 500
/** Short pulls end soon after a stop; heartbeats at a quarter of it leave room for a busy loop. */
const PULL_EXPIRES_MS = 2000
const PULL_HEARTBEAT_MS = 500
const CONSUMER_NOT_FOUND = 10014

interface Item {
  input: LiveInput
  m: JsMsg
}

export interface RunningActor {
  /** Resolves when every scope has rebuilt its state and is consuming live. */
  live: Promise<void>
  /** Resolves when every scope has stopped after the abort signal. */
  done: Promise<void>
}

/** Runs every scope of an actor; `sink` takes the row writes of an actor that makes them (the persister). */
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

/**
 * Runs one scope, and runs it again (rebuilding its state) if anything unexpected breaks it — a
 * consumer that vanished, a bug — so one failure never takes the process down or loses order.
 */
function runScope<S>(def: ActorDef<S>, scope: Scope, io: Io, signal: AbortSignal, sink: WriteSink | undefined): RunningActor {
  let markLive!: () => void
  const live = new Promise<void>((resolve) => (markLive = resolve))
  const log = io.log.child({ actor: def.name, scope: scope.key })
  const done = (async () => {
    for (let failures = 0; !signal.aborted; ) {
      try {
        await runScopeOnce(def, scope, io, signal, log, markLive, sink)
        return
      } catch (err) {
        if (err instanceof Resync) {
          io.metrics.messages.inc({ actor: def.name, outcome: 'resync' })
          log.info({ reason: err.message }, 'resynchronising: rebuilding state from what the server acknowledged')
          continue
        }
        failures++
        io.metrics.messages.inc({ actor: def.name, outcome: 'scope_restart' })
        log.error({ err, failures }, 'scope failed; rebuilding and restarting it')
        await sleep(Math.min(30_000, 500 * 2 ** failures), signal)
      }
    }
  })()
  return { live, done }
}

async function runScopeOnce<S>(def: ActorDef<S>, scope: Scope, io: Io, outer: AbortSignal, log: Io['log'], markLive: () => void, sink: WriteSink | undefined): Promise<void> {
  const key = `${def.name}.${scope.key}`
  const inputs: LiveInput[] = scope.inputs.map((spec) => ({ spec, durable: durableName(def.name, scope, spec), config: consumerConfig(def, scope, spec) }))
  let state = def.init(scope)
  let positions = new Map<string, number>()
  let deliveries = new Map<string, number>()
  if (def.ordered) ({ state, positions, deliveries } = await rebuild(def, scope, inputs, io, key))
  const read = () => state
  io.states?.set(key, read)
  io.metrics.scopesLive.inc({ actor: def.name })
  markLive()
  log.debug('live')

  // Stopping the process, or one input failing, stops every input of the scope.
  const local = new AbortController()
  const stopAll = () => local.abort()
  outer.addEventListener('abort', stopAll, { once: true })
  const mailbox = new Mailbox<Item>()
  const pumps = Promise.all(inputs.map((input) => pump(input, mailbox, io, local.signal, log).catch((err) => {
    stopAll()
    throw err
  }))).finally(() => mailbox.close())

  let lastCheckpoint = Date.now()
  let abandoned = false
  const epoch = io.epoch()
  try {
    for (;;) {
      const batch = await mailbox.take(MAX_BATCH)
      if (!batch) break
      if (def.ordered) checkOrder(batch, positions, deliveries, epoch, io)
      const result = await processBatch(def, scope, state, batch, positions, io, outer, log, sink)
      state = result.state
      if (!result.acked) {
        // Stopping with outputs NATS never confirmed: acknowledge nothing more and keep the last
        // checkpoint; the next start replays from what the server has acknowledged.
        abandoned = true
        break
      }
      for (const [durable, seq] of result.acked) positions.set(durable, seq)
      if (def.ordered && Date.now() - lastCheckpoint >= CHECKPOINT_INTERVAL_MS) {
        await saveCheckpoint(io, key, positions, state, def.stateVersion ?? 1, log)
        lastCheckpoint = Date.now()
      }
    }
  } finally {
    stopAll()
    outer.removeEventListener('abort', stopAll)
    if (io.states?.get(key) === read) io.states.delete(key)
    io.metrics.scopesLive.dec({ actor: def.name })
  }
  await pumps
  if (def.ordered && !abandoned) await saveCheckpoint(io, key, positions, state, def.stateVersion ?? 1, log)
  log.debug('stopped')
}

/**
 * Pulls a durable consumer into the mailbox with short fetches rather than an endless consume():
 * when the scope stops, the fetch in progress simply runs out (within PULL_EXPIRES_MS) and every
 * message the server delivered has been seen, so none is left waiting for ack_wait.
 */
async function pump(input: LiveInput, mailbox: Mailbox<Item>, io: Io, signal: AbortSignal, log: Io['log']): Promise<void> {
  const consumer = await io.js.consumers.get(input.spec.stream, input.durable)
  while (!signal.aborted) {
    try {
      const down = io.whenConnected?.()
      if (down) {
        await Promise.race([down, sleep(PULL_EXPIRES_MS, signal)])
        continue
      }
      const batch = await consumer.fetch({ max_messages: PULL_BUFFER, expires: PULL_EXPIRES_MS, idle_heartbeat: PULL_HEARTBEAT_MS })
      for await (const m of batch) mailbox.push({ input, m })
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND) throw err
      if (signal.aborted) break
      // A pull that ended without its heartbeats is simply pulled again; anything else (NATS
      // restarting) waits a moment first.
      if ((err as Error).message === 'heartbeats missed') continue
      log.warn({ durable: input.durable, err: (err as Error).message }, 'pull failed; retrying')
      await sleep(1000, signal)
    }
  }
}

/** Raised when deliveries can no longer be trusted to be in stream order. */
class Resync extends Error {
  override name = 'Resync'
}

/**
 * An ordered scope handles each message exactly once, in stream order. After a NATS reconnect the
 * server may resend what it had delivered before (acks lost) behind newer messages, and any
 * redelivery means the same. A delivery may also have gone to a pull request nobody reads any more
 * (one sent while the connection was down reaches the server after the reconnect, beside the new
 * one, and the two share the deliveries): cumulative acks would then acknowledge it unread, so every
 * delivery must follow the one before by exactly one. Rather than guess, the scope is rebuilt from
 * what the server has acknowledged and its consumers restart exactly after it — before this batch
 * touches the state or acknowledges anything.
 */
function checkOrder(batch: Item[], positions: Map<string, number>, deliveries: Map<string, number>, epoch: number, io: Io): void {
  if (io.epoch() !== epoch) throw new Resync('NATS reconnected')
  const last = new Map(positions)
  const delivered = new Map(deliveries)
  for (const { input, m } of batch) {
    if (m.info.deliveryCount > 1) throw new Resync(`redelivery of ${input.durable} seq ${m.seq}`)
    if (m.seq <= (last.get(input.durable) ?? 0)) throw new Resync(`${input.durable} went back to seq ${m.seq}`)
    const expected = (delivered.get(input.durable) ?? 0) + 1
    if (m.info.deliverySequence !== expected) throw new Resync(`${input.durable} delivered #${m.info.deliverySequence} after #${expected - 1}: a delivery went elsewhere`)
    last.set(input.durable, m.seq)
    delivered.set(input.durable, expected)
  }
  for (const [durable, n] of delivered) deliveries.set(durable, n)
}

interface BatchResult<S> {
  state: S
  /** durable → last stream sequence acknowledged, or null when the batch was abandoned. */
  acked: Map<string, number> | null
}

async function processBatch<S>(def: ActorDef<S>, scope: Scope, state: S, batch: Item[], positions: Map<string, number>, io: Io, signal: AbortSignal, log: Io['log'], sink: WriteSink | undefined): Promise<BatchResult<S>> {
  const { metrics } = io
  const results: Applied<S>[] = []
  const handleSeconds = metrics.handleSeconds.labels(def.name)
  const read: ReadLookups = (lookups) => readLookups(io, lookups)
  for (const { input, m } of batch) {
    const t0 = performance.now()
    const r = await applyRetrying(def, scope, input, state, m, batch, read, io, signal, log)
    handleSeconds.observe((performance.now() - t0) / 1000)
    state = r.state
    results.push(r)
    if (r.disposition === 'term') log.warn({ seq: m.seq, subject: m.subject, reason: r.reason }, 'dead-lettering message')
  }
  metrics.batchSize.observe({ actor: def.name }, batch.length)
  const endFlush = metrics.flushSeconds.startTimer({ actor: def.name })

  if (sink) await commitWrites(def, sink, batch, results, io, signal, log)
  const out = results.flatMap((r) => r.out)
  const published = await publishAll(def.name, out, batch.map((b) => b.m), io, signal, log)
  if (!published) return { state, acked: null }
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
      if (results[i]!.disposition === 'term') item.m.term()
      last.set(item.input.durable, item)
    })
    for (const [durable, item] of last) {
      if (results[batch.indexOf(item)]!.disposition !== 'term') item.m.ack()
      acked.set(durable, Math.max(item.m.seq, positions.get(durable) ?? 0))
    }
  } else {
    batch.forEach((item, i) => {
      const r = results[i]!
      if (r.disposition === 'ack') item.m.ack()
      else if (r.disposition === 'term') item.m.term()
      else item.m.nak(backoffMs(item.m.info.deliveryCount))
      if (r.disposition !== 'retry') acked.set(item.input.durable, Math.max(acked.get(item.input.durable) ?? 0, item.m.seq))
    })
  }
  // Counted per batch, not per message: label lookups are not free at thousands of messages a second.
  const outcomes = new Map<string, number>()
  let dead = 0
  for (const r of results) {
    outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1)
    if (r.disposition === 'term') dead++
  }
  for (const [outcome, n] of outcomes) metrics.messages.inc({ actor: def.name, outcome }, n)
  if (dead) metrics.deadLetters.inc({ actor: def.name }, dead)
  return { state, acked }
}

/**
 * One message through its handler. Bars a handler looks up that cannot be read (NATS restarting)
 * are read again, the batch's messages kept alive meanwhile: the state is untouched until the handler
 * runs, and the stream will hold the same bars.
 */
async function applyRetrying<S>(def: ActorDef<S>, scope: Scope, input: LiveInput, state: S, m: JsMsg, batch: Item[], read: ReadLookups, io: Io, signal: AbortSignal, log: Io['log']): Promise<Applied<S>> {
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

/** Redelivery delay after the n-th failed delivery: 1 s, 2 s, 4 s … capped at 30 s. */
export const backoffMs = (deliveries: number) => Math.min(30_000, 1000 * 2 ** Math.max(0, deliveries - 1))

/**
 * Commits the batch's writes in one transaction. Connection trouble is retried in place (the
 * messages are kept alive) until it passes; any other failure is narrowed down to the messages
 * that cause it: those are naked for redelivery, or dead-lettered on their last delivery.
 */
async function commitWrites<S>(def: ActorDef<S>, sink: WriteSink, batch: Item[], results: Applied<S>[], io: Io, signal: AbortSignal, log: Io['log']): Promise<void> {
  const commit = (writes: Write[], positions: ConsumerPosition[]) => sink.commit(writes, positions)
  const positions = (indexes: number[]): ConsumerPosition[] => {
    const byDurable = new Map<string, ConsumerPosition>()
    for (const i of indexes) {
      const { input, m } = batch[i]!
      const p = byDurable.get(input.durable)
      if (!p || p.seq < m.seq) byDurable.set(input.durable, { consumer: input.durable, stream: input.spec.stream, seq: m.seq })
    }
    return [...byDurable.values()]
  }
  const ok = results.map((r, i) => (r.disposition === 'ack' ? i : -1)).filter((i) => i >= 0)
  const writesOf = (indexes: number[]): Write[] => indexes.flatMap((i) => results[i]!.writes)
  try {
    await retryTransient(() => timedCommit(commit, writesOf(ok), positions(ok), io), batch.map((b) => b.m), def.name, io, signal, log)
    return
  } catch (err) {
    if (err instanceof TransientCommitError) throw err
    log.warn({ err, batch: ok.length }, 'batch commit failed; committing messages one by one')
  }
  for (const i of ok) {
    try {
      await retryTransient(() => timedCommit(commit, results[i]!.writes, positions([i]), io), [batch[i]!.m], def.name, io, signal, log)
    } catch (err) {
      if (err instanceof TransientCommitError) throw err
      const r = results[i]!
      const m = batch[i]!.m
      r.reason = `write failed: ${(err as Error).message}`
      r.outcome = 'error'
      if (m.info.deliveryCount >= PERSISTER_MAX_DELIVER) {
        r.disposition = 'term'
        r.out.push(io.codec.encode(deadLetter(def.name, m, r.reason)))
        log.error({ err, seq: m.seq, subject: m.subject }, 'write keeps failing; dead-lettering message')
      } else {
        r.disposition = 'retry'
        log.warn({ err, seq: m.seq, subject: m.subject, deliveries: m.info.deliveryCount }, 'write failed; message will be redelivered')
      }
    }
  }
}

/** One commit, timed (paperd_persister_commit_duration_seconds) and, once durable, its rows counted by table. */
async function timedCommit(commit: WriteSink['commit'], writes: Write[], positions: ConsumerPosition[], io: Io): Promise<void> {
  const end = io.metrics.commitSeconds.startTimer()
  try {
    await commit(writes, positions)
  } catch (err) {
    end({ result: err instanceof TransientCommitError ? 'transient' : 'failed' })
    throw err
  }
  end({ result: 'ok' })
  const byTable = new Map<string, number>()
  for (const w of writes) byTable.set(w.table, (byTable.get(w.table) ?? 0) + 1)
  for (const [table, n] of byTable) io.metrics.rows.inc({ table }, n)
}

async function retryTransient(fn: () => Promise<void>, hold: JsMsg[], actor: string, io: Io, signal: AbortSignal, log: Io['log']): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (!(err instanceof TransientCommitError) || signal.aborted) throw err
      io.metrics.retries.inc({ actor, what: 'commit' })
      log.warn({ err: err.message, attempt }, 'database unavailable; retrying')
      for (const m of hold) m.working()
      await sleep(Math.min(5_000, 100 * 2 ** attempt))
    }
  }
}

/**
 * Publishes every output and waits for every PubAck. A failure (NATS restarting, a timeout) is
 * retried with the same message ids, so the stream drops whatever had in fact been stored. Returns
 * false only when stopping while NATS is unreachable: the batch then stays unacknowledged and is
 * processed again after restart.
 */
async function publishAll(actor: string, out: Encoded[], hold: JsMsg[], io: Io, signal: AbortSignal, log: Io['log']): Promise<boolean> {
  if (out.length === 0) return true
  const endPublish = io.metrics.publishSeconds.startTimer({ actor })
  let pending = out
  for (let attempt = 1; pending.length; attempt++) {
    const results = await Promise.allSettled(pending.map((e) => io.publisher.publish(e.subject, e.payload, e.id)))
    const failed = pending.filter((_, i) => results[i]!.status === 'rejected')
    const byType = new Map<string, number>()
    for (const [i, r] of results.entries()) if (r.status === 'fulfilled') byType.set(pending[i]!.type, (byType.get(pending[i]!.type) ?? 0) + 1)
    for (const [type, n] of byType) io.metrics.published.inc({ type }, n)
    if (failed.length === 0) {
      endPublish()
      return true
    }
    const reason = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason
    io.metrics.retries.inc({ actor, what: 'publish' }, failed.length)
    log.warn({ err: (reason as Error)?.message, failed: failed.length, attempt }, 'publish failed; retrying')
    if (signal.aborted && attempt >= 3) {
      log.error({ failed: failed.length }, 'stopping with unpublished outputs; the batch will be processed again after restart')
      return false
    }
    for (const m of hold) m.working()
    await sleep(Math.min(5_000, 200 * 2 ** attempt))
    pending = failed
  }
  return true
}

/** Waits `ms`, or less if `signal` aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

async function saveCheckpoint(io: Io, key: string, positions: Map<string, number>, state: unknown, stateVersion: number, log: Io['log']): Promise<void> {
  try {
    await io.checkpoints.save(key, { version: 1, stateVersion, positions: Object.fromEntries(positions), state })
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'checkpoint not saved; the next start replays more')
  }
}
