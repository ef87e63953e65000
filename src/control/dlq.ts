// `paperd dlq list|replay`: dead letters straight from the DLQ stream (no database needed). A dead
// letter keeps the refused message's subject and payload, so after a fix (a corrected feed, a new
// release) it can be published again where it came from; the actors then judge it like any input.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { Message } from '../core/contracts.js'
import { filterOf } from '../core/subjects.js'
import { DLQ_PAYLOAD_LIMIT } from '../runtime/dead-letter.js'

type DeadLetter = Message<'dlq'>

/** Every dead letter stored, oldest first, optionally of one actor only. */
export async function listDeadLetters(js: JetStreamClient, jsm: JetStreamManager, opts: { actor?: string } = {}): Promise<DeadLetter[]> {
  const info = await jsm.streams.info('DLQ')
  if (info.state.messages === 0) return []
  // One filter as a string: a list needs nats-server 2.10.
  const consumer = await js.consumers.get('DLQ', { filter_subjects: opts.actor ? filterOf('dlq', { actor: opts.actor }) : filterOf('dlq') })
  const out: DeadLetter[] = []
  // Ask for exactly what is pending, so a fetch returns at once instead of waiting out its expiry.
  // An empty pull with letters still pending is a slow server, not the end: pulled again, a few times.
  for (let pending = (await consumer.info()).num_pending, empty = 0; pending > 0; ) {
    let got = 0
    for await (const m of await consumer.fetch({ max_messages: Math.min(500, pending), expires: 5000 })) {
      got++
      pending = m.info.pending
      out.push(m.json<DeadLetter>())
    }
    if (got === 0 && ++empty >= 5) throw new Error(`the DLQ stream stopped delivering with ${pending} dead letters to go`)
  }
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
