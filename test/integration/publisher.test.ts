// The runtime's JetStream publisher against a real server: PubAcks, de-duplication by message id,
// a subject no stream stores, and a server that does not answer in time.
import { jetstreamManager } from '@nats-io/jetstream'
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
})
