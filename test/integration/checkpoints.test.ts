// The checkpoint store against a real server: a state whose JSON is past NATS's 1 MB message limit
// (a gate with many ideas waiting, and the bars it looked up) is saved and read back whole, and a
// checkpoint an earlier release wrote as plain JSON is still read; a save writes the state as it was
// when it was called (a scope goes on while it is written), after its check and only if that passes.
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

  it('writes the state as it was at the call, after the check, and nothing when the check fails', async () => {
    const store = await openCheckpoints(jetstream(nc))
    const state = { books: { cash: 100 } }
    let checked = false
    const saving = store.save('paper-executor.main', { version: 1, positions: { x: 1 }, state }, 3, async () => {
      state.books.cash = 75 // the scope goes on during the check…
      checked = true
    })
    state.books.cash = 50 // …and after it
    await saving
    expect(checked).toBe(true)
    expect((await store.load('paper-executor.main'))?.state).toEqual({ books: { cash: 100 } })
    const refused = store.save('paper-executor.main', { version: 1, positions: { x: 2 }, state }, 3, async () => {
      throw new Error('lease lapsed')
    })
    await expect(refused).rejects.toThrow('lease lapsed')
    expect((await store.load('paper-executor.main'))?.positions).toEqual({ x: 1 })
  })

  it('reads a checkpoint stored as plain JSON (written before compression)', async () => {
    const kv = await new Kvm(jetstream(nc)).open(CHECKPOINT_BUCKET)
    const plain = { version: 1, positions: { 'indicators-p3': 9 }, state: { n: 1 } }
    await kv.put('indicators.p3', JSON.stringify(plain))
    expect(await (await openCheckpoints(jetstream(nc))).load('indicators.p3')).toEqual(plain)
  })
})
