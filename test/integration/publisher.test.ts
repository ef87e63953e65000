// The runtime's JetStream publisher against a real server: PubAcks, de-duplication by message id,
// a subject no stream stores, a server that does not answer in time, and the acknowledgements it
// sends late (with the next publish, after the linger, on close; never once they must not go).
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPublisher, PublishError } from '../../src/runtime/publisher.js'
import { startNatsServer, type NatsServer } from '../support/nats-server.js'

describe('publisher', () => {
  let server: NatsServer
  let nc: NatsConnection
  beforeAll(async () => {
    server = await startNatsServer()
    nc = await connect({ servers: server.url })
    await (await jetstreamManager(nc)).streams.add({ name: 'P', subjects: ['p.>'] })
  })
  afterAll(async () => {
    await nc?.close()
    await server?.stop()
  })

  it('resolves with the PubAck, and a re-published id is a duplicate of the first', async () => {
    const publisher = createPublisher(nc)
    const first = await publisher.publish('p.a', Buffer.from('{"n":1}'), 'id-1')
    expect(first).toEqual({ stream: 'P', seq: 1, duplicate: false })
    const again = await publisher.publish('p.a', Buffer.from('{"n":1}'), 'id-1')
    expect(again).toEqual({ stream: 'P', seq: 1, duplicate: true })
    const many = await Promise.all(Array.from({ length: 500 }, (_, i) => publisher.publish(`p.${i % 7}`, Buffer.from(String(i)), `many-${i}`)))
    expect(many.map((a) => a.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 2))
    publisher.close()
  })

  it('rejects when no stream stores the subject', async () => {
    const publisher = createPublisher(nc)
    await expect(publisher.publish('nowhere.x', Buffer.from('{}'), 'id-x')).rejects.toThrow(/no stream stores nowhere\.x/)
    publisher.close()
  })

  it('rejects when no PubAck comes in time, and on close', async () => {
    const silent = nc.subscribe('quiet.x', { callback: () => {} }) // answers nothing
    const publisher = createPublisher(nc)
    const late = publisher.publish('quiet.x', Buffer.from('{}'), 'id-q', 300)
    await expect(late).rejects.toBeInstanceOf(PublishError)
    await expect(late).rejects.toThrow(/no PubAck for quiet\.x in time/)
    const pending = publisher.publish('quiet.x', Buffer.from('{}'), 'id-q2', 60_000)
    publisher.close()
    await expect(pending).rejects.toThrow(/publisher closed/)
    silent.unsubscribe()
  })

  describe('acknowledgements', () => {
    let n = 0
    /** A fresh durable on stream P with one message delivered to it and not acknowledged. */
    async function delivered(): Promise<{ m: JsMsg; pending: () => Promise<number> }> {
      const jsm = await jetstreamManager(nc)
      const name = `acks${++n}`
      await jsm.streams.add({ name: name.toUpperCase(), subjects: [`${name}.>`] })
      await jetstream(nc).publish(`${name}.x`, Buffer.from('{}'))
      await jsm.consumers.add(name.toUpperCase(), { durable_name: name, ack_policy: AckPolicy.Explicit })
      const consumer = await jetstream(nc).consumers.get(name.toUpperCase(), name)
      const m = await consumer.next({ expires: 5000 })
      if (!m) throw new Error('no message delivered')
      return { m, pending: async () => (await jsm.consumers.info(name.toUpperCase(), name)).num_ack_pending }
    }

    it('wait for the next publish and go out with it', async () => {
      const publisher = createPublisher(nc, { ackLingerMs: 600_000 })
      const { m, pending } = await delivered()
      publisher.ack(m)
      await nc.flush()
      expect(await pending()).toBe(1)
      await publisher.publish('p.ride', Buffer.from('{}'), 'ride-1')
      await expect.poll(pending, { timeout: 5000 }).toBe(0)
      publisher.close()
    })

    it('go out after the linger when nothing is published', async () => {
      const publisher = createPublisher(nc, { ackLingerMs: 20 })
      const { m, pending } = await delivered()
      publisher.ack(m)
      await expect.poll(pending, { timeout: 5000 }).toBe(0)
      publisher.close()
    })

    it('are dropped when they may no longer go out (a lease lost, a reconnect), and a close sends the others', async () => {
      const publisher = createPublisher(nc, { ackLingerMs: 600_000 })
      const lost = await delivered()
      const kept = await delivered()
      let held = true
      publisher.ack(lost.m, () => held)
      publisher.term(kept.m, () => true)
      held = false
      publisher.close()
      await expect.poll(kept.pending, { timeout: 5000 }).toBe(0)
      await nc.flush()
      expect(await lost.pending()).toBe(1)
    })
  })
})
