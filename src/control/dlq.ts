// `paperd dlq list|replay`: dead letters straight from the DLQ stream (no database needed). A dead
// letter keeps the refused message's subject and payload, so after a fix (a corrected feed, a new
// release) it can be published again where it came from; the actors then judge it like any input.
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Message } from '../core/contracts.js'
import { filterOf } from '../core/subjects.js'
import { DLQ_PAYLOAD_LIMIT } from '../runtime/dead-letter.js'
import { streamRange } from '../runtime/stream-range.js'

type DeadLetter = Message<'dlq'>

/** Every dead letter stored, oldest first, optionally of one actor only. */
export async function listDeadLetters(nc: NatsConnection, opts: { actor?: string } = {}): Promise<DeadLetter[]> {
  const io = { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) }
  const info = await io.jsm.streams.info('DLQ')
  const out: DeadLetter[] = []
  // The stream's reader, which ends on what the stream holds (not on a pending count a 2.9 server can get wrong).
  for await (const m of streamRange(io, 'DLQ', opts.actor ? filterOf('dlq', { actor: opts.actor }) : filterOf('dlq'), 1, info.state.last_seq))
    out.push(m.json<DeadLetter>())
  return out
}

/**
 * Publishes dead letters again on their original subjects. Each gets a Nats-Msg-Id of its own
 * (`replay:<dead letter id>`): replaying twice within the duplicate window stores it once, and the
 * original id, which JetStream may still remember, does not swallow it.
 */
export async function replayDeadLetters(js: JetStreamClient, letters: DeadLetter[]): Promise<{ replayed: number; skipped: { id: string; why: string }[] }> {
  let replayed = 0
  const skipped: { id: string; why: string }[] = []
  for (const d of letters) {
    if (d.payload_bytes > DLQ_PAYLOAD_LIMIT) {
      skipped.push({ id: d.id, why: 'payload was truncated when it was dead-lettered' })
      continue
    }
    await js.publish(d.subject, d.payload, { msgID: `replay:${d.id}` })
    replayed++
  }
  return { replayed, skipped }
}
