// The raw JetStream single-hop ceiling, measured the way the pipeline moves a message: publishes
// with a Nats-Msg-Id in windows of 256 in flight (as `replayBars` does) into a file-storage stream,
// while a durable pull consumer in the same process takes them with `consume()` and acks each one
// (explicit ack, fire-and-forget, as the runtime does). Publisher and consumer use separate
// connections, like the replaying client and the daemon.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { injectedBar } from '../src/replay.js'
import { nodeCpuSeconds, procCpuSeconds, type NatsServer, type SyntheticBar } from './support.js'

export interface CeilingResult {
  messages: number
  payloadBytes: number
  window: number
  seconds: number
  publishSeconds: number
  msgsPerSec: number
  cpu: { node: number; natsServer: number | null }
}

const WINDOW = 256
const PULL_BUFFER = 500

export async function measureCeiling(server: NatsServer, bars: SyntheticBar[]): Promise<CeilingResult> {
  const pubNc = await connect({ servers: server.url, name: 'bench ceiling publisher' })
  const subNc = await connect({ servers: server.url, name: 'bench ceiling consumer' })
  try {
    const jsm = await jetstreamManager(pubNc)
    await jsm.streams.add({ name: 'CEILING', subjects: ['ceiling.>'], storage: StorageType.File, retention: RetentionPolicy.Limits, num_replicas: 1 })
    await jsm.consumers.add('CEILING', { durable_name: 'ceiling', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 4000 })
    const payloads = bars.map((b) => injectedBar({ ...b }, '1m'))
    const n = payloads.length
    const payloadBytes = payloads.reduce((s, p) => s + p.byteLength, 0) / n

    const consumer = await jetstream(subNc).consumers.get('CEILING', 'ceiling')
    const messages = await consumer.consume({ max_messages: PULL_BUFFER })
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

    const js = jetstream(pubNc)
    const cpu0 = { node: nodeCpuSeconds(), server: procCpuSeconds(server.pid) }
    const t0 = performance.now()
    let inFlight: Promise<unknown>[] = []
    for (let i = 0; i < n; i++) {
      inFlight.push(js.publish('ceiling.bar', payloads[i]!, { msgID: `ceiling:${i}`, timeout: 10_000 }))
      if (inFlight.length >= WINDOW) {
        await Promise.all(inFlight)
        inFlight = []
      }
    }
    await Promise.all(inFlight)
    const published = performance.now()
    await allConsumed
    const cpu1 = { node: nodeCpuSeconds(), server: procCpuSeconds(server.pid) }
    await messages.close()
    const seconds = (lastConsumed - t0) / 1000
    return {
      messages: n,
      payloadBytes: Math.round(payloadBytes),
      window: WINDOW,
      seconds,
      publishSeconds: (published - t0) / 1000,
      msgsPerSec: n / seconds,
      cpu: { node: cpu1.node - cpu0.node, natsServer: cpu0.server === null || cpu1.server === null ? null : cpu1.server - cpu0.server },
    }
  } finally {
    await Promise.allSettled([pubNc.close(), subNc.close()])
  }
}
