// The copy of a refused message that goes to dlq.<actor>: the reason, where it was, and the payload
// as text (truncated), with an id derived from its place in the stream so a redelivery does not
// produce a second dead letter.
import type { JsMsg } from '@nats-io/jetstream'
import type { Outbound } from '../core/actor.js'

export const DLQ_PAYLOAD_LIMIT = 64 * 1024
const text = new TextDecoder('utf-8', { fatal: false })

/** `subject`: the subject the message stands for (a routed copy's original), by default its own. */
export function deadLetter(actor: string, m: JsMsg, reason: string, subject = m.subject): Outbound {
  const payload = text.decode(m.data.subarray(0, DLQ_PAYLOAD_LIMIT))
  return {
    type: 'dlq',
    data: {
      id: `dlq:${actor}:${m.info.stream}:${m.seq}`,
      type: 'dlq',
      ts: new Date(Math.floor(m.info.timestampNanos / 1e6)).toISOString(),
      actor,
      reason: reason.slice(0, 1000),
      subject,
      stream: m.info.stream,
      stream_seq: m.seq,
      deliveries: m.info.deliveryCount,
      msg_id: m.headers?.get('Nats-Msg-Id') || null,
      payload,
      payload_bytes: m.data.byteLength,
    },
  }
}
