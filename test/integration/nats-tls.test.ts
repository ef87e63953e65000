// NATS over TLS: a CA and certificates made with openssl for the test (test/support/tls.ts), a
// nats-server with a tls {} block. With NATS_TLS_CA the client verifies the server and connects;
// without it the server's certificate does not verify and the connection is refused at once, in one
// line that says which variable to set. With `verify: true` (mutual TLS) the server wants a client
// certificate: NATS_TLS_CERT + NATS_TLS_KEY. A tls:// URL refuses a server that offers no TLS.
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACTOR_NAMES } from '../../src/core/actor.js'
import { loadEnv, parseConfig } from '../../src/config/env.js'
import { startDaemon, type Daemon } from '../../src/app/daemon.js'
import { createLogger } from '../../src/telemetry/log.js'
import { connectNats } from '../../src/adapters/nats/connect.js'
import { startNatsServer, type NatsServer } from '../support/nats-server.js'
import { createTestCa, type CertFiles, type TestCa } from '../support/tls.js'
import { CANONICAL } from '../support/stack.js'

const quiet = createLogger('silent')

describe('NATS TLS (NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY)', () => {
  let ca: TestCa
  let server: CertFiles
  let client: CertFiles
  let tlsNats: NatsServer
  let mtlsNats: NatsServer
  let plainNats: NatsServer
  let daemon: Daemon | undefined
  const clients: NatsConnection[] = []
  const attempt = async (vars: Record<string, string>, connectTimeoutMs?: number) => {
    try {
      const nc = await connectNats(loadEnv(vars).nats, 'tls test', quiet, true, connectTimeoutMs)
      clients.push(nc)
      return { nc, error: null }
    } catch (err) {
      return { nc: null, error: (err as Error).message }
    }
  }

  beforeAll(async () => {
    ca = createTestCa()
    server = ca.issue('nats-server')
    client = ca.issue('paperd', { client: true })
    const tlsBlock = (verify: boolean) => `tls {\n  cert_file: "${server.cert}"\n  key_file: "${server.key}"\n  ca_file: "${ca.ca}"\n  verify: ${verify}\n}\n`
    ;[tlsNats, mtlsNats, plainNats] = await Promise.all([
      startNatsServer({ config: tlsBlock(false) }),
      startNatsServer({ config: tlsBlock(true) }),
      startNatsServer(),
    ])
  })
  afterAll(async () => {
    await daemon?.stop()
    for (const c of clients) await c.close()
    await Promise.all([tlsNats?.stop(), mtlsNats?.stop(), plainNats?.stop()])
    ca?.remove()
  })

  it('with NATS_TLS_CA the client verifies the server, connects encrypted and uses JetStream', async () => {
    for (const url of [`tls://localhost:${tlsNats.port}`, `nats://127.0.0.1:${tlsNats.port}`]) {
      const { nc, error } = await attempt({ NATS_URL: url, NATS_TLS_CA: ca.ca })
      expect(error).toBeNull()
      expect(nc!.info?.tls_required).toBe(true)
      await (await jetstreamManager(nc!)).streams.add({ name: `TLS_${clients.length}`, subjects: [`tls${clients.length}.>`] })
      expect((await jetstream(nc!).publish(`tls${clients.length}.x`, '{}')).seq).toBe(1)
    }
  })

  it('without the CA the server certificate does not verify: refused at once, in one line naming NATS_TLS_CA', async () => {
    const started = Date.now()
    const { error } = await attempt({ NATS_URL: `tls://localhost:${tlsNats.port}` })
    expect(error).toBe(
      "TLS with NATS failed: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE); NATS_TLS_CA must name the CA that signed the server's certificate",
    )
    expect(Date.now() - started).toBeLessThan(5000)
    // nats:// too: the client upgrades to TLS because the server requires it, and verifies it the same way.
    expect((await attempt({ NATS_URL: `nats://127.0.0.1:${tlsNats.port}` })).error).toMatch(/^TLS with NATS failed: unable to verify the first certificate/)
  })

  it('a server certificate from another CA is refused', async () => {
    const other = createTestCa('another CA')
    try {
      const { error } = await attempt({ NATS_URL: `tls://localhost:${tlsNats.port}`, NATS_TLS_CA: other.ca })
      expect(error).toMatch(/^TLS with NATS failed: .*NATS_TLS_CA must name the CA/)
    } finally {
      other.remove()
    }
  })

  it('mutual TLS: with NATS_TLS_CERT and NATS_TLS_KEY the server accepts the client; without them it refuses it', async () => {
    const ok = await attempt({ NATS_URL: `tls://localhost:${mtlsNats.port}`, NATS_TLS_CA: ca.ca, NATS_TLS_CERT: client.cert, NATS_TLS_KEY: client.key })
    expect(ok.error).toBeNull()
    // TLS 1.3: the server's refusal comes after the handshake, so the client sees it only after its connect timeout.
    const refused = await attempt({ NATS_URL: `tls://localhost:${mtlsNats.port}`, NATS_TLS_CA: ca.ca }, 2000)
    expect(refused.error).toMatch(
      /^TLS with NATS failed: the server refused this client \(TLS alert "[a-z ]+"\); it wants a client certificate it trusts \(NATS_TLS_CERT, NATS_TLS_KEY\)$/,
    )
  })

  it('tls:// refuses a server that offers no TLS', async () => {
    const { error } = await attempt({ NATS_URL: `tls://127.0.0.1:${plainNats.port}` })
    expect(error).toBe('the NATS server does not offer TLS, which this client requires (tls:// in NATS_URL or NATS_TLS_*)')
  })

  it('a daemon (every actor but the persister) runs over mutual TLS', async () => {
    const env = loadEnv({
      NATS_URL: `tls://localhost:${mtlsNats.port}`,
      NATS_TLS_CA: ca.ca,
      NATS_TLS_CERT: client.cert,
      NATS_TLS_KEY: client.key,
      METRICS_PORT: '0',
    })
    daemon = await startDaemon({
      env,
      actors: ACTOR_NAMES.filter((a) => a !== 'persister'),
      config: parseConfig(CANONICAL),
      log: createLogger('warn'),
      waitForNats: false,
    })
    await daemon.live
    expect(await daemon.readiness()).toEqual({})
  })
})
