// The checkpoint store against a real server: a state whose JSON is past NATS's 1 MB message limit
// (a gate with many ideas waiting, and the bars it looked up) is saved and read back whole, and a
// checkpoint an earlier release wrote as plain JSON is still read.
import { jetstream } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHECKPOINT_BUCKET, openCheckpoints } from '../../src/runtime/checkpoints.js'
import { startNatsServer, type NatsServer } from '../support/nats-server.js'

describe('checkpoints', () => {
  let server: NatsServer
  let nc: NatsConnection
  beforeAll(async () => {
    server = await startNatsServer()
    nc = await connect({ servers: server.url })
  })
  afterAll(async () => {
    await nc?.close()
    await server?.stop()
  })

  it('a state past the message limit as JSON is saved and loaded whole', async () => {
    const store = await openCheckpoints(jetstream(nc))
    const queue = Array.from({ length: 15_000 }, (_, i) => ({
      idea: { id: `idea:s:SYM${i % 100}:${i}`, bar_seq: i, price: 50 + (i % 7) / 10, reason: 'entry.long' },
    }))
    const checkpoint = { version: 1 as const, stateVersion: 4, positions: { 'risk-gate-main': 123 }, state: { queue } }
    expect(JSON.stringify(checkpoint).length).toBeGreaterThan(1024 * 1024)
    await store.save('risk-gate.main', checkpoint, 7)
    expect(await (await openCheckpoints(jetstream(nc))).load('risk-gate.main')).toEqual({ ...checkpoint, fence: 7 })
  })

  it('reads a checkpoint stored as plain JSON (written before compression)', async () => {
    const kv = await new Kvm(jetstream(nc)).open(CHECKPOINT_BUCKET)
    const plain = { version: 1, positions: { 'indicators-p3': 9 }, state: { n: 1 } }
    await kv.put('indicators.p3', JSON.stringify(plain))
    expect(await (await openCheckpoints(jetstream(nc))).load('indicators.p3')).toEqual(plain)
  })
})
