// `paperd replay`: publishes a CSV of bars on md.in.bar.<SYM>, exactly as an operator's `nats pub`
// would (plain JSON), with a Nats-Msg-Id per bar so replaying the same file twice within the
// duplicate window stores nothing new (and market-snapshots drops re-sent bars after it).
import type { NatsConnection } from '@nats-io/transport-node'
import { inputSubject } from '../core/subjects.js'
import type { CsvBar } from '../core/csv.js'
import { backoff, sleep } from '../runtime/backoff.js'
import { createPublisher, type PubAck } from '../runtime/publisher.js'

interface ReplayOptions {
  symbol: string
  timeframe: string
  /** Bars per second; Infinity = as fast as JetStream acknowledges. */
  speed: number
  onProgress?: (done: number) => void
  signal?: AbortSignal
}

const WINDOW = 256
const encoder = new TextEncoder()

export function injectedBar(bar: CsvBar, timeframe: string): Uint8Array {
  const { ts, open, high, low, close, volume } = bar
  return encoder.encode(JSON.stringify({ ts, timeframe, open, high, low, close, volume }))
}

/** The message id of a bar typed in (replay, feeds): the same bar from either is stored once. */
export const barMessageId = (symbol: string, timeframe: string, ts: string): string => `in:${symbol}:${timeframe}:${ts}`

/** How long a bar's publish is retried (a JetStream cluster electing a stream leader, NATS restarting). */
const RETRY_FOR_MS = 60_000

export async function replayBars(nc: NatsConnection, bars: CsvBar[], opts: ReplayOptions): Promise<{ published: number; duplicates: number }> {
  const subject = inputSubject('md.in.bar', opts.symbol)
  const publisher = createPublisher(nc)
  const started = Date.now()
  let duplicates = 0
  let published = 0
  let lastSeq = 0
  let inFlight: { msgId: string; payload: Uint8Array; ack: Promise<PubAck> }[] = []
  const send = (payload: Uint8Array, msgId: string) => {
    const ack = publisher.publish(subject, payload, msgId)
    ack.catch(() => undefined) // observed in settle(); not an unhandled rejection while the window fills
    return ack
  }
  // Failed publishes are sent again with the same message id (the stream drops what it already
  // has), in bar order. A bar must be stored after every earlier one (market-snapshots drops an
  // earlier time as out of order): acks out of sequence mean one failed while a later one got
  // through, and that is said rather than hidden.
  const settle = async () => {
    const results = await Promise.allSettled(inFlight.map((f) => f.ack))
    for (const [i, f] of inFlight.entries()) {
      const r = results[i]!
      const ack = r.status === 'fulfilled' ? r.value : await retry(f.payload, f.msgId, r.reason as Error)
      if (ack.duplicate) duplicates++
      else if (ack.seq < lastSeq) {
        throw new Error(`bar ${f.msgId} was stored after a later bar while NATS failed over; replay the rest of the file from that bar`)
      }
      lastSeq = Math.max(lastSeq, ack.seq)
    }
    inFlight = []
  }
  const retry = async (payload: Uint8Array, msgId: string, first: Error): Promise<PubAck> => {
    const deadline = Date.now() + RETRY_FOR_MS
    for (let attempt = 1; ; attempt++) {
      if (Date.now() > deadline || opts.signal?.aborted) throw first
      await sleep(backoff(attempt, 200, 3000))
      try {
        return await send(payload, msgId)
      } catch {
        // again, until the deadline
      }
    }
  }
  try {
    for (const bar of bars) {
      if (opts.signal?.aborted) break
      const msgId = barMessageId(opts.symbol, opts.timeframe, bar.ts)
      const payload = injectedBar(bar, opts.timeframe)
      inFlight.push({ msgId, payload, ack: send(payload, msgId) })
      published++
      if (inFlight.length >= WINDOW || Number.isFinite(opts.speed)) await settle()
      opts.onProgress?.(published)
      if (Number.isFinite(opts.speed)) {
        const wait = started + (published * 1000) / opts.speed - Date.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      }
    }
    await settle()
  } finally {
    publisher.close()
  }
  return { published, duplicates }
}
