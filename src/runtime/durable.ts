// Making a batch durable before anything of it is acknowledged: the persister's rows committed
// (connection trouble retried in place, a failing row narrowed down and retried or dead-lettered),
// every output published with its message id and PubAck awaited, and an ordered scope's checkpoint.
import type { JsMsg } from '@nats-io/jetstream'
import type { ActorDef, ConsumerPosition, Write } from '../core/actor.js'
import type { Applied } from './apply.js'
import { backoff, sleep } from './backoff.js'
import type { Encoded } from './codec.js'
import { deadLetter } from './dead-letter.js'
import { type Lease, LeaseLost } from './leases.js'
import type { Item } from './intake.js'
import type { Io } from './io.js'
import { TransientCommitError, type WriteSink } from './sink.js'
import { PERSISTER_MAX_DELIVER } from './topology.js'

/**
 * Commits the batch's writes in one transaction. Connection trouble is retried in place (the
 * messages are kept alive) until it passes; any other failure is narrowed down to the messages
 * that cause it: those are naked for redelivery, or dead-lettered on their last delivery.
 */
export async function commitWrites<S>(
  def: ActorDef<S>,
  sink: WriteSink,
  batch: Item[],
  results: Applied<S>[],
  io: Io,
  signal: AbortSignal,
  log: Io['log'],
): Promise<void> {
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
    await retryTransient(
      () => timedCommit(commit, writesOf(ok), positions(ok), io),
      batch.map((b) => b.m),
      def.name,
      io,
      signal,
      log,
    )
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
      await sleep(backoff(attempt, 100))
    }
  }
}

/**
 * Publishes every output and waits for every PubAck. A failure (NATS restarting, a timeout) is
 * retried with the same message ids, so the stream drops whatever had in fact been stored. Returns
 * false only when stopping while NATS is unreachable: the batch then stays unacknowledged and is
 * processed again after restart.
 */
export async function publishAll(actor: string, out: Encoded[], hold: JsMsg[], io: Io, signal: AbortSignal, log: Io['log']): Promise<boolean> {
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
    await sleep(backoff(attempt, 200))
    pending = failed
  }
  return true
}

/**
 * Saves an ordered scope's checkpoint. Under a lease it carries the lease's token and never replaces
 * one written under a newer token (LeaseLost: this process is no longer the owner). The state is
 * encoded before the first await, so the scope may go on handling messages while it is written.
 */
export async function saveCheckpoint(
  io: Io,
  key: string,
  positions: Map<string, number>,
  state: unknown,
  stateVersion: number,
  log: Io['log'],
  lease?: Lease,
): Promise<void> {
  try {
    // The lease is checked after the state is encoded and before anything is written.
    await io.checkpoints.save(key, { version: 1, stateVersion, positions: Object.fromEntries(positions), state }, lease?.token, lease && (() => lease.check()))
  } catch (err) {
    if (err instanceof LeaseLost) throw err
    log.warn({ err: (err as Error).message }, 'checkpoint not saved; the next start replays more')
  }
}
