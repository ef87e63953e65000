// NATS_CREDS against a nats-server in operator (JWT) mode: an operator, an account with JetStream and
// its users, all signed with nkeys (test/support/nats-jwt.ts). With a user's creds file a whole paperd
// trades a replay end to end (streams, consumers, KV checkpoints, control); without creds, or with a
// user the server does not know, it is refused at once with one line naming the creds in use.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACTOR_NAMES } from '../../src/core/actor.js'
import { loadEnv, parseConfig } from '../../src/config/env.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { startDaemon, type Daemon } from '../../src/app/daemon.js'
import { createLogger } from '../../src/telemetry/log.js'
import { ensureLocalNats } from '../../src/adapters/nats/local-server.js'
import { connectNats } from '../../src/adapters/nats/connect.js'
import { waitForQuiescence } from '../../src/control/quiesce.js'
import { replayBars } from '../../src/app/replay.js'
import { createOperator, type Operator } from '../support/nats-jwt.js'
import { startNatsServer, type NatsServer } from '../support/nats-server.js'
import { createTestDatabase, type TestDatabase } from '../support/postgres.js'
import { freePort } from '../support/process.js'
import { CANONICAL } from '../support/stack.js'
import postgres from 'postgres'

const quiet = createLogger('silent')

describe('NATS_CREDS (operator/JWT mode)', () => {
  let operator: Operator
  let nats: NatsServer
  let db: TestDatabase
  let dir: string
  let credsPath: string
  let daemon: Daemon | undefined
  const clients: NatsConnection[] = []

  beforeAll(async () => {
    operator = createOperator()
    nats = await startNatsServer({ config: operator.serverConfig() })
    db = await createTestDatabase()
    dir = mkdtempSync(join(tmpdir(), 'paperd-creds-'))
    credsPath = join(dir, 'paperd.creds')
    writeFileSync(credsPath, operator.user('paperd').creds, { mode: 0o600 })
  })
  afterAll(async () => {
    await daemon?.stop()
    for (const c of clients) await c.close()
    await nats?.stop()
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('connectNats with the creds file from NATS_CREDS publishes to JetStream', async () => {
    const env = loadEnv({ NATS_URL: nats.url, NATS_CREDS: credsPath })
    expect(env.nats.credsFile).toBe(credsPath)
    const nc = await connectNats(env.nats, 'creds test', quiet, false)
    clients.push(nc)
    await (await jetstreamManager(nc)).streams.add({ name: 'CREDS_T', subjects: ['creds.>'] })
    const ack = await jetstream(nc).publish('creds.x', '{}', { msgID: 'one' })
    expect(ack).toMatchObject({ stream: 'CREDS_T', seq: 1, duplicate: false })
  })

  it('without credentials the server refuses, in one line, at once (even for a daemon that waits for NATS)', async () => {
    const env = loadEnv({ NATS_URL: nats.url })
    const started = Date.now()
    const err = await connectNats(env.nats, 'no creds', quiet, true).then(
      () => null,
      (e: Error) => e,
    )
    expect(err?.message).toBe('NATS refused the connection (Authorization Violation) with no credentials (set NATS_CREDS or put them in NATS_URL)')
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('a user of an account the server does not trust is refused, naming the creds file but not its secret', async () => {
    const stranger = createOperator().user('mallory')
    const path = join(dir, 'stranger.creds')
    writeFileSync(path, stranger.creds)
    const env = loadEnv({ NATS_URL: nats.url, NATS_CREDS: path })
    const err = await connectNats(env.nats, 'stranger', quiet, true).then(
      () => null,
      (e: Error) => e,
    )
    expect(err?.message).toBe(`NATS refused the connection (Authorization Violation) with the creds file ${path} (NATS_CREDS)`)
    expect(err?.message).not.toContain(stranger.seed)
  })

  it('with credentials or TLS configured, a first run never starts an open local nats-server in their place', async () => {
    const port = await freePort()
    for (const vars of [{ NATS_CREDS: credsPath }, { NATS_URL: `tls://127.0.0.1:${port}` }, { NATS_URL: `nats://t0ken@127.0.0.1:${port}` }]) {
      const env = loadEnv({ NATS_URL: `nats://127.0.0.1:${port}`, ...vars })
      expect(await ensureLocalNats(env.nats, dir, quiet)).toBeNull()
    }
    // Without any, it would (the first-run behaviour): shown here without starting one, by an empty PATH.
    await expect(ensureLocalNats(loadEnv({ NATS_URL: `nats://127.0.0.1:${port}` }).nats, dir, quiet, '')).rejects.toThrow(/no nats-server on PATH/)
  })

  it('a whole paperd with NATS_CREDS trades a replay end to end', async () => {
    const env = loadEnv({ NATS_URL: nats.url, NATS_CREDS: credsPath, DATABASE_URL: db.url, METRICS_PORT: '0', LOG_LEVEL: 'warn' })
    daemon = await startDaemon({ env, actors: [...ACTOR_NAMES], config: parseConfig(CANONICAL), log: createLogger('warn'), waitForNats: false })
    await daemon.live
    // An operator's tool with its own user of the same account.
    const operatorUser = operator.user('operator')
    const nc = await connect({ servers: nats.url, authenticator: credsAuthenticator(new TextEncoder().encode(operatorUser.creds)) })
    clients.push(nc)
    const bars = parseBarsCsv(readFileSync('test/fixtures/ORCL-daily.csv', 'utf8')).bars.slice(0, 200)
    await replayBars(nc, bars, { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    await waitForQuiescence(await jetstreamManager(nc), { timeoutMs: 60_000 })
    const sql = postgres(db.url, { onnotice: () => {}, max: 1 })
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from trades`
    await sql.end()
    expect(row!.n).toBeGreaterThan(0)
    const reply = (await nc.request('ctl.portfolio.get', JSON.stringify({ account: 'main' }), { timeout: 5000 })).json<{ ok: boolean }>()
    expect(reply.ok).toBe(true)
  }, 90_000)
})
