// A daemon's warm-up, before its scopes consume: a few thousand synthetic bars of the deployment's
// own strategies through the very handlers (a backtest, every output checked against its contract),
// every message they made through the codec both ways, and a burst of them through the NATS client
// to an inbox of its own and back (publish with headers, the parser, the dispatch). Nothing is
// stored: no JetStream subject is touched, no state kept.
//
// Why: V8 compiles hot code on background threads while it runs. A daemon that met its first
// 1,000 bars/s cold spent its first two or three seconds at 1.6-1.9 cores of node (against 1.1
// once warm) on a 2-core machine it shares with nats-server: the bars queued, and the first
// seconds' fills made the whole run's bar -> fill p99. Warmed, most of that compiling is done before
// the first live bar.
import { createInbox, headers, type NatsConnection } from '@nats-io/transport-node'
import type { ConfigFile } from '../core/config-file.js'
import type { Outbound } from '../core/actor.js'
import type { Codec, Encoded } from '../runtime/codec.js'
import { runBacktest } from './backtest.js'
import { syntheticBars } from './synthetic-bars.js'

/** Symbols of the config's strategies warmed on (each another random walk). */
const SYMBOLS = 4
/** Messages sent through the client and back, at most. */
const LOOPBACK = 4000
/** The longest the loopback waits for its messages to come back (a warm-up never holds a start up). */
const LOOPBACK_LIMIT_MS = 5000
/** In flight before the loopback waits for the server (a flush). */
const WINDOW = 256

interface WarmedUp {
  bars: number
  /** Messages the handlers made, each encoded, decoded and (up to LOOPBACK) sent and received. */
  messages: number
  ms: number
}

/** The (symbol, timeframe) pairs to warm on: the first SYMBOLS of the strategies that name symbols. */
export function warmUpSeries(config: ConfigFile): { symbol: string; timeframe: string }[] {
  const out: { symbol: string; timeframe: string }[] = []
  for (const s of config.strategies) {
    if (!('symbols' in s)) continue
    for (const symbol of s.symbols) if (out.length < SYMBOLS && !out.some((o) => o.symbol === symbol)) out.push({ symbol, timeframe: s.timeframe })
  }
  return out
}

export async function warmUp(config: ConfigFile, codec: Codec, nc: NatsConnection, barsPerSymbol: number): Promise<WarmedUp | null> {
  const series = warmUpSeries(config)
  if (barsPerSymbol <= 0 || series.length === 0) return null
  const t0 = performance.now()
  const run = await runBacktest(
    config,
    series.map(({ symbol, timeframe }, i) => ({
      symbol,
      timeframe,
      // Daily bars skip weekends, as a daily strategy's calendar expects; anything shorter, minutes.
      bars: syntheticBars(barsPerSymbol, { seed: i + 1, ...(timeframe === '1d' ? {} : { stepMs: 60_000 }) }),
    })),
    { validate: true },
  )
  const made: Outbound[] = [
    ...run.fills.map((data): Outbound => ({ type: 'trade.fill', data })),
    ...run.portfolios.map((data): Outbound => ({ type: 'trade.portfolio', data })),
    ...run.positions.map((data): Outbound => ({ type: 'trade.position', data })),
    ...run.statuses.map((data): Outbound => ({ type: 'trade.idea_status', data })),
  ]
  const encoded = made.map((o) => codec.encode(o))
  encoded.forEach((e, i) => codec.decode(e.subject, e.payload, { seq: i + 1, msgId: undefined }))
  await loopback(nc, codec, encoded.slice(0, LOOPBACK))
  return { bars: run.bars, messages: encoded.length, ms: performance.now() - t0 }
}

/** Each message to an inbox of this connection and back, with a message id, as the runtime publishes and reads them. */
async function loopback(nc: NatsConnection, codec: Codec, messages: Encoded[]): Promise<void> {
  if (messages.length === 0) return
  const subject = `${createInbox()}.warm-up`
  let received = 0
  const sub = nc.subscribe(subject, {
    callback: (err, m) => {
      if (err) return
      const e = messages[received]!
      if (m.headers?.get('Nats-Msg-Id') === e.id) codec.decode(e.subject, m.data, { seq: received + 1, msgId: undefined })
      if (++received === messages.length) sub.unsubscribe()
    },
  })
  for (let i = 0; i < messages.length; i++) {
    const h = headers()
    h.set('Nats-Msg-Id', messages[i]!.id)
    nc.publish(subject, messages[i]!.payload, { headers: h, reply: `${subject}.ack` })
    if ((i + 1) % WINDOW === 0) await nc.flush()
  }
  await nc.flush()
  // Everything has reached the server; what the client has not read within the limit is not waited for.
  const limit = setTimeout(() => sub.unsubscribe(), LOOPBACK_LIMIT_MS)
  await sub.closed
  clearTimeout(limit)
}
