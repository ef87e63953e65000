// A process starting up makes sure every durable exists, while the owner of a scope may be
// repositioning that durable (delete, then add at a start sequence). Seen in a fresh-clone CI run of
// the scale-out test: the starter found the durable missing, added it as configured, and its add
// met the owner's — "deliver policy can not be updated" — and the starting process exited. Here
// both run against each other, many times: neither fails, and the owner's position stands.
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { paperExecutor } from '../../actors/paper-executor.js'
import { parseConfig } from '../../src/config/env.js'
import { consumerConfig, ensureScopeConsumer, ensureStreams, resetConsumer } from '../../src/runtime/topology.js'
import { startNatsServer, type NatsServer } from '../support/nats-server.js'

const config = parseConfig({ accounts: [{ id: 'main', starting_cash: 10_000 }] })

describe('a durable made sure of by a starting process while its owner repositions it', () => {
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

  it('fails neither, and ends where the owner put it', async () => {
    const jsm = await jetstreamManager(nc)
    await ensureStreams(jsm, 1)
    const def = paperExecutor(config.accounts)
    const scope = def.scopes[0]!
    const input = scope.inputs.find((i) => i.stream === 'TRADE')!
    const cfg = consumerConfig(def, scope, input)
    // A second connection for the starter: two processes, two sockets.
    const other = await connect({ servers: server.url })
    try {
      const starter = await jetstreamManager(other)
      for (let round = 1; round <= 40; round++) {
        await Promise.all([resetConsumer(jsm, 'TRADE', cfg, 100 + round), ensureScopeConsumer(starter, def, scope, input)])
        const info = await jsm.consumers.info('TRADE', cfg.durable_name)
        expect(info.config.opt_start_seq, `round ${round}`).toBe(100 + round)
      }
    } finally {
      await other.close()
    }
  }, 60_000)
})
