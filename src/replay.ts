// `paperd replay`: publishes a CSV of bars on md.in.bar.<SYM>, exactly as an operator's `nats pub`
// would (plain JSON), with a Nats-Msg-Id per bar so replaying the same file twice within the
// duplicate window stores nothing new (and market-snapshots drops re-sent bars after it).
import type { JetStreamClient } from '@nats-io/jetstream'
import { filterOf } from './contracts.js'
import type { CsvBar } from './csv.js'

export interface ReplayOptions {
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

export async function replayBars(js: JetStreamClient, bars: CsvBar[], opts: ReplayOptions): Promise<{ published: number; duplicates: number }> {
  const subject = filterOf('md.in.bar', { symbol: opts.symbol })
  const started = Date.now()
  let duplicates = 0
  let inFlight: Promise<unknown>[] = []
  const settle = async () => {
    for (const ack of await Promise.all(inFlight)) if ((ack as { duplicate: boolean }).duplicate) duplicates++
    inFlight = []
  }
  for (let i = 0; i < bars.length; i++) {
    if (opts.signal?.aborted) break
    const bar = bars[i]!
    inFlight.push(js.publish(subject, injectedBar(bar, opts.timeframe), { msgID: `in:${opts.symbol}:${opts.timeframe}:${bar.ts}`, timeout: 10_000 }))
    if (inFlight.length >= WINDOW || Number.isFinite(opts.speed)) await settle()
    opts.onProgress?.(i + 1)
    if (Number.isFinite(opts.speed)) {
      const due = started + ((i + 1) * 1000) / opts.speed
      const wait = due - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    }
  }
  await settle()
  return { published: bars.length, duplicates }
}
