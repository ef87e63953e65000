// JetStream publishing on the hot path. nats.js's js.publish() is a full request per message: a
// timer, a request object and — even on success — an Error built to cancel it (measured: 7 % of the
// daemon's CPU under load). This does the same protocol with one long-lived reply subscription: a
// core publish with Nats-Msg-Id and a reply subject, the PubAck matched by its token, one timer
// sweeping deadlines. Failures are errors the runtime retries with the same message id.
//
// It also sends the runtime's acknowledgements, a little late: an ack waits for the next publish
// (whichever scope makes it) and goes out in the same socket write, or at most ACK_LINGER_MS. At a
// steady flow every hop handled its message in a batch of its own and wrote twice for it (the
// outputs; the ack once their PubAcks were in) — write syscalls were the largest item of the
// daemon's profile at 200 bars/s, and acks were about half the messages nats-server read.
// An ordered scope's ack is cumulative (its consumers are AckAll): held up to CUMULATIVE_LINGER_MS,
// it is replaced by the scope's next one, so a partition's consumer is sent ~10 acks a second
// instead of one per batch — at a steady flow its batches are of about one message (six alternated
// latency runs at 1,000 bars/s: nats-server 10.7-11.6 against 11.0-12.2 CPU-s; node unchanged).
// An ack that comes late is harmless: the effects were durable before it was queued, and a start
// after a crash replays what the server did not see acknowledged. One that must not be sent any
// more (the scope's lease lapsed, the connection was re-established) is dropped at the last moment.
import type { JsMsg } from '@nats-io/jetstream'
import { createInbox, headers, type NatsConnection, type Msg } from '@nats-io/transport-node'

export interface PubAck {
  stream: string
  seq: number
  duplicate: boolean
}

export class PublishError extends Error {
  override name = 'PublishError'
}

interface Waiting {
  subject: string
  deadline: number
  resolve(ack: PubAck): void
  reject(err: Error): void
}

export interface Publisher {
  publish(subject: string, payload: Uint8Array, msgId: string, timeoutMs?: number): Promise<PubAck>
  /**
   * Acknowledges `m` (or terminates it) with the next publish, or within the linger: only if
   * `still()` holds then. Calls keep their order.
   */
  ack(m: JsMsg, still?: () => boolean): void
  /**
   * Acknowledges `m` and everything its consumer delivered before it (an AckAll consumer's ack):
   * held for up to CUMULATIVE_LINGER_MS, and a later one for the same `consumer` replaces it.
   */
  ackUpTo(m: JsMsg, consumer: string, still?: () => boolean): void
  term(m: JsMsg, still?: () => boolean): void
  /** Sends every acknowledgement waiting now (a scope stopping sends its own before it lets go). */
  flushAcks(): void
  /** Sends the waiting acknowledgements, then rejects every publish still waiting for its PubAck. */
  close(): void
}

/** The longest an acknowledgement waits for a publish to go out with. */
const ACK_LINGER_MS = 20
/** The longest a cumulative acknowledgement waits for a later one of its consumer to replace it. */
const CUMULATIVE_LINGER_MS = 100
/**
 * Stream sequences one held cumulative acknowledgement may cover before it goes out at once: the
 * server stops delivering to a consumer at max_ack_pending (2,000 for an ordered one; a batch of up
 * to 500 is in hand besides), and a filtered consumer's messages are at most as many as the
 * sequences they span.
 */
const CUMULATIVE_MAX_SPAN = 1000

interface Settling {
  m: JsMsg
  term: boolean
  still: (() => boolean) | undefined
}

/** A held cumulative acknowledgement: the newest of its consumer, and the first sequence it covers. */
interface UpTo extends Settling {
  from: number
}

const decoder = new TextDecoder()

export function createPublisher(nc: NatsConnection, opts: { ackLingerMs?: number; cumulativeLingerMs?: number } = {}): Publisher {
  const prefix = `${createInbox()}.`
  const waiting = new Map<string, Waiting>()
  let next = 0
  const lingerMs = opts.ackLingerMs ?? ACK_LINGER_MS
  const cumulativeLingerMs = opts.cumulativeLingerMs ?? CUMULATIVE_LINGER_MS
  let settling: Settling[] = []
  let lingering: ReturnType<typeof setTimeout> | null = null
  /** Cumulative acks by consumer, the newest of each. */
  let upTo = new Map<string, UpTo>()
  let upToLingering: ReturnType<typeof setTimeout> | null = null

  /** The held cumulative acks join the queue, in the order their consumers first had one held. */
  function releaseUpTo(): void {
    if (upTo.size === 0) return
    for (const s of upTo.values()) settling.push(s)
    upTo = new Map()
  }

  function flushUpTo(): void {
    if (upToLingering) {
      clearTimeout(upToLingering)
      upToLingering = null
    }
    releaseUpTo()
    flushAcks()
  }

  function flushAcks(): void {
    if (lingering) {
      clearTimeout(lingering)
      lingering = null
    }
    if (settling.length === 0) return
    const due = settling
    settling = []
    for (const s of due) {
      if (s.still && !s.still()) continue
      try {
        if (s.term) s.m.term()
        else s.m.ack()
      } catch {
        // The connection is closed: the server redelivers or the next start replays, as after a crash.
      }
    }
  }
  function queue(m: JsMsg, term: boolean, still: (() => boolean) | undefined): void {
    // A term keeps its place after the acks queued before it: every held one goes ahead of it.
    if (term) releaseUpTo()
    settling.push({ m, term, still })
    if (!lingering) {
      lingering = setTimeout(flushAcks, lingerMs)
      lingering.unref()
    }
  }

  const sub = nc.subscribe(`${prefix}*`, {
    callback: (err, m) => {
      if (err) return
      settle(m)
    },
  })

  function settle(m: Msg) {
    const token = m.subject.slice(prefix.length)
    const w = waiting.get(token)
    if (!w) return
    waiting.delete(token)
    if (m.headers?.code === 503) return w.reject(new PublishError(`no stream stores ${w.subject} (no responders)`))
    if (m.headers && m.headers.code >= 400) return w.reject(new PublishError(`${m.headers.code} ${m.headers.description}`))
    let reply: { stream?: string; seq?: number; duplicate?: boolean; error?: { code: number; err_code?: number; description: string } }
    try {
      reply = JSON.parse(decoder.decode(m.data))
    } catch {
      return w.reject(new PublishError('unreadable PubAck'))
    }
    if (reply.error) return w.reject(new PublishError(`${reply.error.description} (${reply.error.err_code ?? reply.error.code})`))
    if (!reply.stream) return w.reject(new PublishError('invalid PubAck'))
    w.resolve({ stream: reply.stream, seq: reply.seq ?? 0, duplicate: reply.duplicate === true })
  }

  /**
   * Publishes go out together at the end of the event-loop turn that made them: every scope handled
   * what that turn's reads delivered, so their outputs and the acknowledgements waiting share one
   * socket write (nats.js writes once per microtask checkpoint, and each scope resumes in its own).
   */
  let outgoing: { token: string; subject: string; payload: Uint8Array; msgId: string }[] = []
  let sending: ReturnType<typeof setImmediate> | null = null
  function send(): void {
    sending = null
    flushAcks()
    const due = outgoing
    outgoing = []
    for (const o of due) {
      const h = headers()
      h.set('Nats-Msg-Id', o.msgId)
      try {
        nc.publish(o.subject, o.payload, { reply: prefix + o.token, headers: h })
      } catch (err) {
        const w = waiting.get(o.token)
        waiting.delete(o.token)
        w?.reject(new PublishError((err as Error).message))
      }
    }
  }

  const sweeper = setInterval(() => {
    const now = Date.now()
    for (const [token, w] of waiting) {
      if (w.deadline > now) continue
      waiting.delete(token)
      w.reject(new PublishError(`no PubAck for ${w.subject} in time`))
    }
  }, 250)
  sweeper.unref()

  return {
    publish(subject, payload, msgId, timeoutMs = 10_000) {
      const token = (next++).toString(36)
      return new Promise<PubAck>((resolve, reject) => {
        waiting.set(token, { subject, deadline: Date.now() + timeoutMs, resolve, reject })
        outgoing.push({ token, subject, payload, msgId })
        if (!sending) sending = setImmediate(send)
      })
    },
    ack: (m, still) => queue(m, false, still),
    ackUpTo(m, consumer, still) {
      const from = upTo.get(consumer)?.from ?? m.seq
      upTo.set(consumer, { m, term: false, still, from })
      if (m.seq - from >= CUMULATIVE_MAX_SPAN) flushUpTo()
      else if (!upToLingering) {
        upToLingering = setTimeout(flushUpTo, cumulativeLingerMs)
        upToLingering.unref()
      }
    },
    term: (m, still) => queue(m, true, still),
    flushAcks: flushUpTo,
    close() {
      flushUpTo()
      if (sending) clearImmediate(sending)
      sending = null
      outgoing = []
      clearInterval(sweeper)
      sub.unsubscribe()
      for (const w of waiting.values()) w.reject(new PublishError('publisher closed'))
      waiting.clear()
    },
  }
}
