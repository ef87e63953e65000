// How messages come into a scope: short pulls from its durable consumers into one mailbox, and for
// an ordered scope the check that every delivery follows the one before (else the scope resyncs).
import { JetStreamApiError, type ConsumerMessages, type FetchOptions, type JsMsg } from '@nats-io/jetstream'
import { sleep } from './backoff.js'
import type { Io } from './io.js'
import type { Mailbox } from './mailbox.js'
import type { LiveInput } from './rebuild.js'

const PULL_BUFFER = 500
/** Short pulls end soon after a stop; heartbeats at a quarter of it leave room for a busy loop. */
const PULL_EXPIRES_MS = 2000
const PULL_HEARTBEAT_MS = 500
/**
 * The next pull is sent this long after the one before, while that one still waits at the server:
 * a durable is never without a pull. When each pull was sent only once the one before had ended,
 * every durable went unserved for a moment every two seconds, its messages queueing at the server
 * (the bar → fill tail at 1,000 bars/s: stalls of 50–100 ms, each two seconds apart).
 */
const PULL_RENEW_MS = 1500
/** Pulls of one durable waiting at once (the newest and the one it overlaps). */
const PULLS_OPEN = 2
/**
 * nats-server 2.9.10 now and then drops a pull that expires while messages arrive without sending
 * its 408 status (one pull in a couple of hundred in a bench at 200 bars/s): nats.js then waits for
 * two missed heartbeats. The pull is ended here this long after it expired. Ended too early (a
 * server that took the pull late), a message delivered to it comes back as a gap in the deliveries:
 * the scope resyncs, as after a reconnect.
 */
const PULL_GRACE_MS = 200
const CONSUMER_NOT_FOUND = 10014

/** A delivered message and the input it came in on. */
export interface Item {
  input: LiveInput
  m: JsMsg
}

/** How a durable is pulled: the defaults above, shorter in tests. */
export interface PullTiming {
  expiresMs: number
  renewMs: number
  heartbeatMs: number
  graceMs: number
}

const PULL_TIMING: PullTiming = { expiresMs: PULL_EXPIRES_MS, renewMs: PULL_RENEW_MS, heartbeatMs: PULL_HEARTBEAT_MS, graceMs: PULL_GRACE_MS }

/** nats.js hands a fetch's messages to a callback, at once and in the order they came (its types leave the option out). */
type FetchWithCallback = FetchOptions & { callback: (m: JsMsg) => void }

const RENEW = Symbol('renew')

/**
 * Pulls a durable consumer into the mailbox with short, overlapping fetches rather than an endless
 * consume(): when the scope stops, the fetches in progress simply run out (within expiresMs) and
 * every message the server delivered has been seen, so none is left waiting for ack_wait.
 *
 * nats-server serves a durable's waiting pulls in turn (2.9.10: one message to each), so the
 * messages of overlapping pulls interleave; they go to the mailbox from nats.js's callback, in the
 * order they came off the connection, which is the order the server delivered them.
 */
export async function pump(
  input: LiveInput,
  mailbox: Mailbox<Item>,
  io: Io,
  signal: AbortSignal,
  log: Io['log'],
  timing: PullTiming = PULL_TIMING,
): Promise<void> {
  const consumer = await io.js.consumers.get(input.spec.stream, input.durable)
  /** Pulls not yet ended, oldest first: each resolves with what ended it. */
  const open: Promise<Error | undefined>[] = []
  const options: FetchWithCallback = {
    max_messages: PULL_BUFFER,
    expires: timing.expiresMs,
    idle_heartbeat: timing.heartbeatMs,
    callback: (m) => mailbox.push({ input, m }),
  }
  try {
    while (!signal.aborted) {
      const down = io.whenConnected?.()
      if (down) {
        await Promise.race([down, sleep(timing.expiresMs, signal)])
        continue
      }
      while (open.length >= PULLS_OPEN) await open[0]
      if (signal.aborted) break
      let ended: Promise<Error | undefined>
      try {
        ended = following(await consumer.fetch(options), timing, open)
      } catch (err) {
        ended = Promise.resolve(err as Error)
      }
      // The next pull goes out once this one has waited renewMs, or at once if it ends before.
      let renew: ReturnType<typeof setTimeout> | undefined
      const err = await Promise.race([ended, new Promise<typeof RENEW>((resolve) => (renew = setTimeout(resolve, timing.renewMs, RENEW)))])
      clearTimeout(renew)
      if (err === RENEW || err === undefined) continue
      if (err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND) throw err
      if (signal.aborted) break
      // A pull that ended without its heartbeats is simply pulled again; anything else (NATS
      // restarting) waits a moment first.
      if (err.message === 'heartbeats missed') continue
      log.warn({ durable: input.durable, err: err.message }, 'pull failed; retrying')
      await sleep(1000, signal)
    }
  } finally {
    await Promise.all(open)
  }
}

/**
 * Keeps a pull among the `open` ones until it ends (on its own, or `graceMs` after it expired); the
 * promise resolves with what ended it, undefined when it ran out or was filled.
 */
function following(fetched: ConsumerMessages, timing: PullTiming, open: Promise<Error | undefined>[]): Promise<Error | undefined> {
  const overdue = setTimeout(() => fetched.stop(), timing.expiresMs + timing.graceMs)
  const ended: Promise<Error | undefined> = fetched.closed().then((err) => {
    clearTimeout(overdue)
    open.splice(open.indexOf(ended), 1)
    return err ?? undefined
  })
  open.push(ended)
  return ended
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
