// The test helper itself: if it leaked servers, lost data on restart or skipped silently, every
// integration suite built on it would be quietly wrong.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { afterEach, describe, expect, it } from 'vitest'
import { startNatsServer, type NatsServer } from '../support/nats-server.js'

const servers: NatsServer[] = []
const connections: NatsConnection[] = []

async function start(opts?: { config?: string }): Promise<NatsServer> {
  const server = await startNatsServer(opts)
  servers.push(server)
  return server
}

async function open(url: string, extra: Record<string, unknown> = {}): Promise<NatsConnection> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100, ...extra })
  connections.push(nc)
  return nc
}

afterEach(async () => {
  await Promise.all(connections.splice(0).map((nc) => nc.close()))
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})

describe('startNatsServer', () => {
  it('starts a JetStream server on a random local port and stop() removes its store', async () => {
    const a = await start()
    const b = await start()
    expect(a.url).toBe(`nats://127.0.0.1:${a.port}`)
    expect(b.port).not.toBe(a.port)

    const nc = await open(a.url)
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: 'T', subjects: ['t.>'] })
    const ack = await jetstream(nc).publish('t.x', 'hello')
    expect(ack.seq).toBe(1)
    expect(existsSync(join(a.storeDir, 'jetstream'))).toBe(true)

    await a.stop()
    await a.stop() // idempotent
    expect(existsSync(a.storeDir)).toBe(false)
  })

  it('restart() comes back on the same port with JetStream data intact, and clients reconnect', async () => {
    const server = await start()
    const nc = await open(server.url)
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'] })
    await jetstream(nc).publish('keep.a', 'one')

    await server.restart()
    await server.restart({ kill: true }) // a crash must not lose acknowledged data either

    // Short API timeout: a publish sent while the client is still reconnecting is retried by the poll.
    const js = jetstream(nc, { timeout: 1000 })
    await expect.poll(async () => (await js.publish('keep.b', 'two').catch(() => undefined))?.seq, { timeout: 10_000 }).toBe(2)
    const info = await jsm.streams.info('KEEP')
    expect(info.state.messages).toBe(2)
  })

  it('applies a config file', async () => {
    const server = await start({ config: 'authorization { token: "s3cret" }\n' })
    await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(/authorization/i)
    const nc = await open(server.url, { token: 's3cret' })
    expect(nc.info?.auth_required).toBe(true)
  })

  it('includes the server output when it dies on startup', async () => {
    await expect(startNatsServer({ config: 'this is { not valid' })).rejects.toThrow(
      /^nats-server exited during startup \(code \d+\):\n.*Parse error on line 1/,
    )
  })

  it('throws (never skips) when nats-server is not on PATH', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'paperd-empty-path-'))
    const saved = process.env.PATH
    process.env.PATH = empty
    try {
      await expect(startNatsServer()).rejects.toThrow(
        /^nats-server not found on PATH: run scripts\/setup test .*install it \(apt-get install nats-server.* — tests never skip$/,
      )
    } finally {
      process.env.PATH = saved
      rmSync(empty, { recursive: true, force: true })
    }
  })
})
