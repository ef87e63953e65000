// The raw JetStream single-hop ceiling, measured the way the pipeline moves a message: publishes
// with a Nats-Msg-Id through the daemon's publisher, in windows of 256 in flight (as `replayBars` does) into a file-storage stream,
// while a durable pull consumer in the same process takes them with `consume()` and acks each one
// (explicit ack, fire-and-forget, as the runtime does). Publisher and consumer use separate
// connections, like the replaying client and the daemon.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { injectedBar } from '../src/app/replay.js'
import { createPublisher } from '../src/runtime/publisher.js'
import { nodeCpuSeconds, procCpuSeconds, systemBusySeconds, type NatsServer, type SyntheticBar } from './support.js'

export interface CeilingResult {
  messages: number
  payloadBytes: number
  window: number
  seconds: number
  publishSeconds: number
  msgsPerSec: number
  cpu: { node: number; natsServer: number | null; others: number }
}

const WINDOW = 256
const PULL_BUFFER = 500

export async function measureCeiling(server: NatsServer, bars: SyntheticBar[]): Promise<CeilingResult> {
  // Same client settings as the daemon's connectNats (noAsyncTraces), so the ceiling is comparable.
  const pubNc = await connect({ servers: server.url, name: 'bench ceiling publisher', noAsyncTraces: true })
  const subNc = await connect({ servers: server.url, name: 'bench ceiling consumer', noAsyncTraces: true })
  try {
    const payloads = bars.map((b) => injectedBar({ ...b }, '1m'))
    // A short warm-up on its own stream first, so the measured run is not mostly JIT compilation.
    await oneHop(pubNc, subNc, 'WARMUP', payloads.slice(0, 2000))
    const cpu0 = { node: nodeCpuSeconds(), server: procCpuSeconds(server.pid), all: systemBusySeconds() }
    const r = await oneHop(pubNc, subNc, 'CEILING', payloads)
    const cpu1 = { node: nodeCpuSeconds(), server: procCpuSeconds(server.pid), all: systemBusySeconds() }
    return {
      messages: payloads.length,
      payloadBytes: Math.round(payloads.reduce((s, p) => s + p.byteLength, 0) / payloads.length),
      window: WINDOW,
      seconds: r.seconds,
      publishSeconds: r.publishSeconds,
      msgsPerSec: payloads.length / r.seconds,
      cpu: {
        node: cpu1.node - cpu0.node,
        natsServer: cpu0.server === null || cpu1.server === null ? null : cpu1.server - cpu0.server,
        others: Math.max(0, cpu1.all - cpu0.all - (cpu1.node - cpu0.node) - ((cpu1.server ?? 0) - (cpu0.server ?? 0))),
      },
    }
  } finally {
    await Promise.allSettled([pubNc.close(), subNc.close()])
  }
}

/** Publishes every payload (windows of 256 with msgIDs) while a durable consumer acks them all. */
async function oneHop(
  pubNc: NatsConnection,
  subNc: NatsConnection,
  stream: string,
  payloads: Uint8Array[],
): Promise<{ seconds: number; publishSeconds: number }> {
  const jsm = await jetstreamManager(pubNc)
  const subject = `${stream.toLowerCase()}.bar`
  await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.File, retention: RetentionPolicy.Limits, num_replicas: 1 })
  await jsm.consumers.add(stream, { durable_name: 'hop', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 4000 })
  const n = payloads.length
  const messages = await (await jetstream(subNc).consumers.get(stream, 'hop')).consume({ max_messages: PULL_BUFFER })
  let consumed = 0
  let lastConsumed = 0
  const allConsumed = (async () => {
    for await (const m of messages) {
      m.ack()
      if (++consumed === n) {
        lastConsumed = performance.now()
        break
      }
    }
  })()
  // The daemon's own publisher (src/runtime/publisher.ts), so the ceiling moves a message exactly
  // as the pipeline's hops do.
  const publisher = createPublisher(pubNc)
  const t0 = performance.now()
  let inFlight: Promise<unknown>[] = []
  for (let i = 0; i < n; i++) {
    inFlight.push(publisher.publish(subject, payloads[i]!, `${stream}:${i}`))
    if (inFlight.length >= WINDOW) {
      await Promise.all(inFlight)
      inFlight = []
    }
  }
  await Promise.all(inFlight)
  const published = performance.now()
  await allConsumed
  publisher.close()
  await Promise.resolve(messages.close()).catch(() => {})
  await jsm.streams.delete(stream)
  return { seconds: (lastConsumed - t0) / 1000, publishSeconds: (published - t0) / 1000 }
}
