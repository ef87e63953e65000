// How messages come into a scope: short pulls from its durable consumers into one mailbox, and for
// an ordered scope the check that every delivery follows the one before (else the scope resyncs).
import { JetStreamApiError, type JsMsg } from '@nats-io/jetstream'
import { sleep } from './backoff.js'
import type { Io } from './io.js'
import type { Mailbox } from './mailbox.js'
import type { LiveInput } from './rebuild.js'

const PULL_BUFFER = 500
/** Short pulls end soon after a stop; heartbeats at a quarter of it leave room for a busy loop. */
const PULL_EXPIRES_MS = 2000
const PULL_HEARTBEAT_MS = 500
/**
 * nats-server 2.9.10 now and then drops a pull that expires while messages arrive without sending
 * its 408 status (one pull in a couple of hundred in a bench at 200 bars/s): nats.js then waits for
 * two missed heartbeats, a second in which the scope's messages queue at the server — the
 * one-second stalls behind that bench's p99. The pull is ended here this long after it expired. Ended
 * too early (a server that took the pull late), a message delivered to it comes back as a gap in
 * the deliveries: the scope resyncs, as after a reconnect.
 */
const PULL_GRACE_MS = 200
const CONSUMER_NOT_FOUND = 10014

/** A delivered message and the input it came in on. */
export interface Item {
  input: LiveInput
  m: JsMsg
}

/**
 * Pulls a durable consumer into the mailbox with short fetches rather than an endless consume():
 * when the scope stops, the fetch in progress simply runs out (within PULL_EXPIRES_MS) and every
 * message the server delivered has been seen, so none is left waiting for ack_wait.
 */
export async function pump(input: LiveInput, mailbox: Mailbox<Item>, io: Io, signal: AbortSignal, log: Io['log']): Promise<void> {
  const consumer = await io.js.consumers.get(input.spec.stream, input.durable)
  while (!signal.aborted) {
    try {
      const down = io.whenConnected?.()
      if (down) {
        await Promise.race([down, sleep(PULL_EXPIRES_MS, signal)])
        continue
      }
      const batch = await consumer.fetch({ max_messages: PULL_BUFFER, expires: PULL_EXPIRES_MS, idle_heartbeat: PULL_HEARTBEAT_MS })
      const overdue = setTimeout(() => batch.stop(), PULL_EXPIRES_MS + PULL_GRACE_MS)
      try {
        for await (const m of batch) mailbox.push({ input, m })
      } finally {
        clearTimeout(overdue)
      }
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
export class Resync extends Error {
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
export function checkOrder(batch: Item[], positions: Map<string, number>, deliveries: Map<string, number>, epoch: number, io: Io): void {
  if (io.epoch() !== epoch) throw new Resync('NATS reconnected')
  const last = new Map(positions)
  const delivered = new Map(deliveries)
  for (const { input, m } of batch) {
    if (m.info.deliveryCount > 1) throw new Resync(`redelivery of ${input.durable} seq ${m.seq}`)
    if (m.seq <= (last.get(input.durable) ?? 0)) throw new Resync(`${input.durable} went back to seq ${m.seq}`)
    const expected = (delivered.get(input.durable) ?? 0) + 1
    if (m.info.deliverySequence !== expected)
      throw new Resync(`${input.durable} delivered #${m.info.deliverySequence} after #${expected - 1}: a delivery went elsewhere`)
    last.set(input.durable, m.seq)
    delivered.set(input.durable, expected)
  }
  for (const [durable, n] of delivered) deliveries.set(durable, n)
}
