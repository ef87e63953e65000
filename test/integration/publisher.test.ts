// The runtime's JetStream publisher against a real server: PubAcks, de-duplication by message id,
// a subject no stream stores, a server that does not answer in time, and the acknowledgements it
// sends late (with the next publish, after the linger, on close; never once they must not go), and
// the cumulative ones of AckAll consumers, the newest of each consumer replacing those before it.
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPublisher, PublishError, type Publisher } from '../../src/runtime/publisher.js'
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

  describe('cumulative acknowledgements', () => {
    let n = 0
    /**
     * A fresh AckAll durable with `count` messages delivered to it and none acknowledged, and the
     * acknowledgements the server is sent for it, as seen by a subscriber of its ack subjects.
     */
    async function deliveredAll(count: number) {
      const jsm = await jetstreamManager(nc)
      const name = `cumulative${++n}`
      const stream = name.toUpperCase()
      await jsm.streams.add({ name: stream, subjects: [`${name}.>`] })
      const js = jetstream(nc)
      await Promise.all(Array.from({ length: count }, (_, i) => js.publish(`${name}.x`, Buffer.from(String(i)))))
      await jsm.consumers.add(stream, { durable_name: name, ack_policy: AckPolicy.All, max_ack_pending: 2000 })
      const acks: string[] = []
      // `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.…`: each as its sequence and what it said.
      const seen = nc.subscribe(`$JS.ACK.${stream}.${name}.>`, {
        callback: (_, m) => {
          acks.push(`${m.subject.split('.')[5]} ${m.string()}`)
        },
      })
      await nc.flush()
      const messages: JsMsg[] = []
      const iter = await (await js.consumers.get(stream, name)).fetch({ max_messages: count, expires: 5000 })
      for await (const m of iter) messages.push(m)
      expect(messages).toHaveLength(count)
      const info = async () => {
        const c = await jsm.consumers.info(stream, name)
        return { pending: c.num_ack_pending, floor: c.ack_floor.stream_seq }
      }
      return { messages, acks, info, stop: () => seen.unsubscribe() }
    }
    const settled = async (p: Publisher) => {
      p.close()
      await nc.flush()
    }

    it('send only the newest of a consumer, and not with a publish', async () => {
      const publisher = createPublisher(nc, { ackLingerMs: 0, cumulativeLingerMs: 600_000 })
      const { messages, acks, info, stop } = await deliveredAll(3)
      publisher.ackUpTo(messages[0]!, 'c')
      publisher.ackUpTo(messages[1]!, 'c')
      await publisher.publish('p.ride', Buffer.from('{}'), 'ride-cumulative')
      await nc.flush()
      expect(await info()).toEqual({ pending: 3, floor: 0 })
      publisher.flushAcks()
      await expect.poll(info, { timeout: 5000 }).toEqual({ pending: 1, floor: messages[1]!.seq })
      expect(acks).toEqual([`${messages[1]!.seq} +ACK`])
      await settled(publisher)
      stop()
    })

    it('go out after their own linger', async () => {
      const publisher = createPublisher(nc, { cumulativeLingerMs: 20 })
      const { messages, info, stop } = await deliveredAll(2)
      publisher.ackUpTo(messages[1]!, 'c')
      await expect.poll(info, { timeout: 5000 }).toEqual({ pending: 0, floor: messages[1]!.seq })
      await settled(publisher)
      stop()
    })

    it('go out at once when one would cover too many sequences for the consumer to keep delivering', async () => {
      const publisher = createPublisher(nc, { cumulativeLingerMs: 600_000 })
      const { messages, acks, info, stop } = await deliveredAll(1100)
      const first = messages[0]!.seq
      for (const m of messages) publisher.ackUpTo(m, 'c')
      await nc.flush()
      // The one that reached 1,000 sequences past the first went out; the rest wait for the linger.
      await expect.poll(info, { timeout: 5000 }).toEqual({ pending: 1100 - 1001, floor: first + 1000 })
      expect(acks).toEqual([`${first + 1000} +ACK`])
      await settled(publisher)
      await expect.poll(info, { timeout: 5000 }).toEqual({ pending: 0, floor: messages[1099]!.seq })
      expect(acks).toEqual([`${first + 1000} +ACK`, `${messages[1099]!.seq} +ACK`])
      stop()
    })

    it('are sent before a term queued after them, and on close; dropped once they may not go', async () => {
      const publisher = createPublisher(nc, { ackLingerMs: 600_000, cumulativeLingerMs: 600_000 })
      const a = await deliveredAll(3)
      publisher.ackUpTo(a.messages[0]!, 'a')
      publisher.term(a.messages[1]!)
      publisher.ackUpTo(a.messages[2]!, 'a')
      const b = await deliveredAll(2)
      let held = true
      publisher.ackUpTo(b.messages[1]!, 'b', () => held)
      held = false
      await settled(publisher)
      await expect.poll(a.info, { timeout: 5000 }).toEqual({ pending: 0, floor: a.messages[2]!.seq })
      // The ack, then the term, then the newest ack: in the order they were queued.
      const [s0, s1, s2] = a.messages.map((m) => m.seq)
      expect(a.acks).toEqual([`${s0} +ACK`, `${s1} +TERM`, `${s2} +ACK`])
      expect(await b.info()).toEqual({ pending: 2, floor: 0 })
      expect(b.acks).toHaveLength(0)
      a.stop()
      b.stop()
    })
  })
})
