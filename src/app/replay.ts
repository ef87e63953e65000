// `paperd replay`: publishes a CSV of bars on md.in.bar.<SYM>, exactly as an operator's `nats pub`
// would (plain JSON), with a Nats-Msg-Id per bar so replaying the same file twice within the
// duplicate window stores nothing new (and market-snapshots drops re-sent bars after it).
import type { NatsConnection } from '@nats-io/transport-node'
import { inputSubject } from '../core/subjects.js'
import type { CsvBar } from '../core/csv.js'
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

export async function replayBars(nc: NatsConnection, bars: CsvBar[], opts: ReplayOptions): Promise<{ published: number; duplicates: number }> {
  const subject = inputSubject('md.in.bar', opts.symbol)
  const publisher = createPublisher(nc)
  const started = Date.now()
  let duplicates = 0
  let published = 0
  let inFlight: Promise<PubAck>[] = []
  const settle = async () => {
    for (const ack of await Promise.all(inFlight)) if (ack.duplicate) duplicates++
    inFlight = []
  }
  try {
    for (const bar of bars) {
      if (opts.signal?.aborted) break
      inFlight.push(publisher.publish(subject, injectedBar(bar, opts.timeframe), `in:${opts.symbol}:${opts.timeframe}:${bar.ts}`))
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
