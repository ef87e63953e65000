// ops/nats/nats-server.conf: it passes `nats-server -t`; with it an actor's user is refused when it
// publishes another actor's subject, the operator can inject bars and call ctl.*, a whole paperd
// running as its user trades a replay end to end (JetStream API, checkpoints, micro, control replies),
// and the risk-gate and executor running as their own users take and route control requests.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACTOR_NAMES } from '../../src/core/actor.js'
import { loadEnv, parseConfig } from '../../src/config/env.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { startDaemon, type Daemon } from '../../src/app/daemon.js'
import { createLogger } from '../../src/telemetry/log.js'
import { waitForQuiescence } from '../../src/control/quiesce.js'
import { replayBars } from '../../src/app/replay.js'
import { startNatsServer, type NatsServer } from '../support/nats-server.js'
import { createTestDatabase, type TestDatabase } from '../support/postgres.js'
import { CANONICAL } from '../support/stack.js'

const CONF = 'ops/nats/nats-server.conf'
const PASSWORDS: Record<string, string> = {
  PAPERD_MARKET_SNAPSHOTS_PASSWORD: 'ms-secret',
  PAPERD_INDICATORS_PASSWORD: 'ind-secret',
  PAPERD_STRATEGY_PASSWORD: 'st-secret',
  PAPERD_RISK_GATE_PASSWORD: 'rg-secret',
  PAPERD_PAPER_EXECUTOR_PASSWORD: 'ex-secret',
  PAPERD_PERSISTER_PASSWORD: 'pe-secret',
  PAPERD_PASSWORD: 'all-secret',
  PAPERD_OPERATOR_PASSWORD: 'op-secret',
}

/** A client, with every error the server sent it (a refused publish comes back as one), in order. */
interface Client {
  nc: NatsConnection
  errors: string[]
}

/** A subject no actor user may publish. */
const PROBE = 'paperd.test.probe'

/**
 * Publishes `subject` and reports the permission error the server sent back, if any. The server
 * answers a connection's messages in order, so `subject` is followed by a probe every actor user is
 * refused: once the probe's refusal is back, a refusal of `subject` would be back too.
 */
async function publishRefused({ nc, errors }: Client, subject: string): Promise<string | null> {
  const seen = errors.length
  nc.publish(subject, '{}')
  nc.publish(PROBE, '{}')
  await nc.flush()
  for (const deadline = Date.now() + 10_000; !errors.slice(seen).some((e) => e.includes(`"${PROBE}"`)); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > deadline) throw new Error(`no refusal of the probe ${PROBE} within 10 s; errors: ${errors.slice(seen).join(' | ')}`)
  }
  return errors.slice(seen).find((e) => e.includes(`"${subject}"`)) ?? null
}

describe('ops/nats/nats-server.conf', () => {
  let nats: NatsServer
  let db: TestDatabase
  let daemon: Daemon | undefined
  const split: Daemon[] = []
  const clients: NatsConnection[] = []
  const as = async (user: string, password: string): Promise<Client> => {
    const nc = await connect({ servers: nats.url, user, pass: password })
    clients.push(nc)
    const errors: string[] = []
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(s.error.message)
    })()
    return { nc, errors }
  }
  beforeAll(async () => {
    Object.assign(process.env, PASSWORDS)
    // The file's monitoring port and store are for a deployment; the test server picks its own.
    nats = await startNatsServer({
      config: readFileSync(CONF, 'utf8')
        .replace(/^http:.*$/m, '')
        .replace(/^\s*store_dir:.*$/m, ''),
    })
    db = await createTestDatabase()
  })
  afterAll(async () => {
    for (const d of split) await d.stop()
    await daemon?.stop()
    for (const c of clients) await c.close()
    await nats?.stop()
    await db?.drop()
  })

  it('passes nats-server -t', () => {
    const r = spawnSync('nats-server', ['-t', '-c', CONF], { env: { ...process.env, ...PASSWORDS }, encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).toContain(`configuration file ${CONF} is valid`)
  })

  it('an actor cannot publish another actor’s outputs, but may publish its own', async () => {
    const strategy = await as('strategy', PASSWORDS.PAPERD_STRATEGY_PASSWORD!)
    expect(await publishRefused(strategy, 'trade.fill.main')).toMatch(/Permissions Violation for Publish to "trade.fill.main"/)
    expect(await publishRefused(strategy, 'md.in.bar.ORCL')).toMatch(/Permissions Violation/)
    expect(await publishRefused(strategy, 'trade.idea.main')).toBeNull()
    const executor = await as('paper-executor', PASSWORDS.PAPERD_PAPER_EXECUTOR_PASSWORD!)
    expect(await publishRefused(executor, 'trade.order.main')).toMatch(/Permissions Violation/)
    expect(await publishRefused(executor, 'trade.fill.main')).toBeNull()
  })

  it('refuses a wrong password', async () => {
    await expect(connect({ servers: nats.url, user: 'strategy', pass: 'nope', reconnect: false })).rejects.toThrow(/Authorization/i)
  })

  it('a whole paperd as user paperd trades a replay the operator injects, and the operator can call ctl.*', async () => {
    const env = loadEnv({
      NATS_URL: nats.url.replace('nats://', `nats://paperd:${PASSWORDS.PAPERD_PASSWORD}@`),
      DATABASE_URL: db.url,
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
    })
    daemon = await startDaemon({ env, actors: [...ACTOR_NAMES], config: parseConfig(CANONICAL), log: createLogger('warn'), waitForNats: false })
    await daemon.live
    const { nc: operator } = await as('operator', PASSWORDS.PAPERD_OPERATOR_PASSWORD!)
    const bars = parseBarsCsv(readFileSync('test/fixtures/ORCL-daily.csv', 'utf8')).bars.slice(0, 200)
    await replayBars(operator, bars, { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    await waitForQuiescence(await jetstreamManager(operator), { timeoutMs: 60_000 })
    const sql = postgres(db.url, { onnotice: () => {}, max: 1 })
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from trades`
    await sql.end()
    expect(row!.n).toBeGreaterThan(0)
    const reply = (await operator.request('ctl.risk.get', JSON.stringify({ account: 'main' }), { timeout: 5000 })).json<{ ok: boolean; halted: boolean }>()
    expect(reply).toMatchObject({ ok: true, halted: false })
  })

  it("the risk-gate and the executor as their own users take control requests and route them to the account's process", async () => {
    // Account "split" runs in two processes of one actor each, under the actors' users; "main" runs in the whole paperd above.
    const env = (user: string, password: string) =>
      loadEnv({ NATS_URL: nats.url.replace('nats://', `nats://${user}:${password}@`), METRICS_PORT: '0', LOG_LEVEL: 'warn' })
    const config = parseConfig({ accounts: [{ id: 'split', starting_cash: 5000 }] })
    for (const [actor, password] of [
      ['risk-gate', PASSWORDS.PAPERD_RISK_GATE_PASSWORD!],
      ['paper-executor', PASSWORDS.PAPERD_PAPER_EXECUTOR_PASSWORD!],
    ] as const) {
      const d = await startDaemon({ env: env(actor, password), actors: [actor], config, log: createLogger('warn'), waitForNats: false })
      split.push(d)
      await d.live
    }
    const { nc: operator } = await as('operator', PASSWORDS.PAPERD_OPERATOR_PASSWORD!)
    const ask = async (subject: string, body: unknown) =>
      (await operator.request(subject, JSON.stringify(body), { timeout: 15_000 })).json<Record<string, unknown>>()
    // Enough requests that both front doors of each queue group take some, for both accounts.
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const account = i % 2 ? 'split' : 'main'
        return i % 4 < 2
          ? ask('ctl.risk.get', { account }).then((r) => [r.ok, r.account])
          : ask('ctl.portfolio.get', { account }).then((r) => [r.ok, r.account])
      }),
    )
    expect(replies).toEqual(Array.from({ length: 40 }, (_, i) => [true, i % 2 ? 'split' : 'main']))
    expect(await ask('ctl.risk.halt', { account: 'split', by: 'ops', reason: 'permissions' })).toMatchObject({ ok: true, halted: true })
    expect(await ask('ctl.risk.resume', { account: 'split', by: 'ops' })).toMatchObject({ ok: true, halted: false })
    expect(await ask('ctl.portfolio.get', { account: 'split' })).toMatchObject({ ok: true, cash: 5000 })
  })
})
