// No secret in any log line, at any level (LOG_LEVEL=trace), working or failing:
// - a daemon whose NATS_URL and DATABASE_URL carry a user's password, through a replay, a control
//   request and a shutdown (the stack's servers accept any credentials: NATS has no auth configured,
//   Postgres trusts local connections);
// - a daemon on a NATS in operator (JWT) mode over mutual TLS, with NATS_CREDS and NATS_TLS_*: neither
//   the creds file (its seed, its JWT) nor the client key appears;
// - the error paths: a wrong token, a wrong NATS password, NATS unreachable, a wrong Postgres password,
//   Postgres unreachable, a server certificate that does not verify — each a one-line error (or a
//   warning while waiting), none with the secret.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/core/csv.js'
import { waitForQuiescence } from '../../src/control/quiesce.js'
import { replayBars } from '../../src/app/replay.js'
import { createOperator } from '../support/nats-jwt.js'
import { startNatsServer, type NatsServer } from '../support/nats-server.js'
import { startPgServer, type PgServer } from '../support/pg-server.js'
import { freePort, killSpawned, runPaperd, spawnDaemon } from '../support/process.js'
import { startStack, type Stack } from '../support/stack.js'
import { createTestCa, type TestCa } from '../support/tls.js'

const NATS_SECRET = 'N4ts-S3cret-Pass'
const PG_SECRET = 'Pg-S3cret-Pass'
const NATS_TOKEN = 'N4ts-T0ken-S3cret'
const WRONG_TOKEN = 'Wr0ng-T0ken-S3cret'

/** `paperd ARGS…` to its end (or SIGTERM once its output contains `until`): exit code and everything it printed. */
async function runCli(args: string[], env: Record<string, string>, until?: string): Promise<{ code: number | null; out: string }> {
  const { code, output } = await runPaperd(args, {
    env: { ...process.env, LOG_LEVEL: 'trace', METRICS_PORT: '0', ...env },
    timeoutMs: 60_000,
    onOutput: (out, child) => {
      if (until !== undefined && out.includes(until)) child.kill('SIGTERM')
    },
  })
  return { code, out: output }
}

describe('secrets in logs', () => {
  let stack: Stack
  let ca: TestCa
  let dir: string
  let secure: NatsServer // operator (JWT) mode, mutual TLS
  let tokenNats: NatsServer // authorization { token }
  let pg: PgServer // password authentication
  let creds: { path: string; text: string; seed: string }
  let client: { cert: string; key: string }
  const clients: NatsConnection[] = []

  beforeAll(async () => {
    ca = createTestCa()
    const server = ca.issue('nats-server')
    client = ca.issue('paperd', { client: true })
    const operator = createOperator()
    dir = mkdtempSync(join(tmpdir(), 'paperd-secrets-'))
    const user = operator.user('paperd')
    creds = { path: join(dir, 'paperd.creds'), text: user.creds, seed: user.seed }
    writeFileSync(creds.path, user.creds, { mode: 0o600 })
    const tls = `tls {\n  cert_file: "${server.cert}"\n  key_file: "${server.key}"\n  ca_file: "${ca.ca}"\n  verify: true\n}\n`
    ;[stack, secure, tokenNats, pg] = await Promise.all([
      startStack(),
      startNatsServer({ config: operator.serverConfig() + tls }),
      startNatsServer({ config: `authorization { token: "${NATS_TOKEN}" }\n` }),
      startPgServer({ passwordUser: { name: 'paperd', password: PG_SECRET } }),
    ])
  })
  afterAll(async () => {
    killSpawned()
    for (const c of clients) await c.close()
    await Promise.all([stack?.close(), secure?.stop(), tokenNats?.stop(), pg?.stop()])
    ca?.remove()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Every secret this file hands out; none may appear in `out`. */
  function expectNoSecret(out: string): void {
    for (const secret of [NATS_SECRET, PG_SECRET, NATS_TOKEN, WRONG_TOKEN, creds.seed]) expect(out).not.toContain(secret)
    // The creds file's JWT and seed lines, and every line of the client's private key.
    for (const line of creds.text.split('\n').filter((l) => l.length > 40)) expect(out).not.toContain(line)
    for (const line of ca.secretLines(client.key)) expect(out).not.toContain(line)
  }

  it('never appear, at trace level, through start, work, a control request and stop', async () => {
    const natsUrl = stack.nats.url.replace('nats://', `nats://ops:${NATS_SECRET}@`)
    const dbUrl = stack.db.url.replace('postgres://postgres@', `postgres://postgres:${PG_SECRET}@`)
    expect(dbUrl).toContain(PG_SECRET)
    const daemon = await spawnDaemon(stack, ['--config', 'examples/canonical.json'], { NATS_URL: natsUrl, DATABASE_URL: dbUrl, LOG_LEVEL: 'trace' })
    const bars = parseBarsCsv(readFileSync('test/fixtures/ORCL-daily.csv', 'utf8')).bars.slice(0, 120)
    await replayBars(stack.client, bars, { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    await stack.quiesce()
    await stack.client.request('ctl.portfolio.get', JSON.stringify({ account: 'main' }), { timeout: 5000 })
    daemon.child.kill('SIGTERM')
    expect((await daemon.exited).code).toBe(0)
    const out = daemon.output()
    expect(out.split('\n').length).toBeGreaterThan(50) // trace level really logged
    expect(out).toContain('nats://***@') // the user is masked too
    expect(out).toContain('postgres:***@')
    expectNoSecret(out)
  }, 90_000)

  it('neither the creds file nor the TLS key appears, for a daemon on NATS in JWT mode over mutual TLS', async () => {
    const env = {
      NATS_URL: `tls://localhost:${secure.port}`,
      NATS_CREDS: creds.path,
      NATS_TLS_CA: ca.ca,
      NATS_TLS_CERT: client.cert,
      NATS_TLS_KEY: client.key,
      DATABASE_URL: stack.db.url.replace('postgres://postgres@', `postgres://postgres:${PG_SECRET}@`),
      LOG_LEVEL: 'trace',
    }
    const daemon = await spawnDaemon(stack, ['--config', 'examples/canonical.json'], env)
    // An operator's tool on the same server (as the same user: any user of the account would do).
    const nc = await connect({
      servers: `localhost:${secure.port}`,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds.text)),
      tls: { caFile: ca.ca, certFile: client.cert, keyFile: client.key },
    })
    clients.push(nc)
    const bars = parseBarsCsv(readFileSync('test/fixtures/ORCL-daily.csv', 'utf8')).bars.slice(0, 120)
    await replayBars(nc, bars, { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    await waitForQuiescence(await jetstreamManager(nc), { timeoutMs: 60_000 })
    expect((await nc.request('ctl.portfolio.get', JSON.stringify({ account: 'main' }), { timeout: 5000 })).json<{ ok: boolean }>().ok).toBe(true)
    daemon.child.kill('SIGTERM')
    expect((await daemon.exited).code).toBe(0)
    const out = daemon.output()
    expect(out.split('\n').length).toBeGreaterThan(50)
    expectNoSecret(out)
  }, 90_000)

  it('never appear on the error paths: wrong token or password, unreachable servers, a certificate that does not verify', async () => {
    const unreachable = await freePort() // nothing listens there; 127.0.0.2 so paperd does not start a local nats-server
    const config = ['--config', 'examples/canonical.json']
    const pgUrl = (user: string, password: string, port = pg.port) => `postgres://${user}:${password}@127.0.0.1:${port}/postgres`
    const runs = await Promise.all([
      // NATS: a wrong token, a wrong user and password.
      runCli(['start', ...config], { NATS_URL: `nats://${WRONG_TOKEN}@127.0.0.1:${tokenNats.port}`, DATABASE_URL: stack.db.url }),
      runCli(['start', ...config], { NATS_URL: `nats://ops:${NATS_SECRET}@127.0.0.1:${tokenNats.port}`, DATABASE_URL: stack.db.url }),
      // NATS not reachable: the daemon waits (and says so); a one-shot command gives up.
      runCli(['start', ...config], { NATS_URL: `nats://${NATS_TOKEN}@127.0.0.2:${unreachable}`, DATABASE_URL: stack.db.url }, 'NATS is not reachable yet'),
      runCli(['status'], { NATS_URL: `nats://ops:${NATS_SECRET}@127.0.0.2:${unreachable}` }),
      // Postgres: a wrong password, and nothing listening.
      runCli(['start', '--actors', 'persister'], { NATS_URL: stack.nats.url, DATABASE_URL: pgUrl('paperd', `x${PG_SECRET}`) }),
      runCli(['migrate'], { DATABASE_URL: pgUrl('paperd', PG_SECRET, unreachable) }),
      // TLS: the server's certificate without NATS_TLS_CA, with the creds file in use.
      runCli(['status'], { NATS_URL: `tls://localhost:${secure.port}`, NATS_CREDS: creds.path, NATS_TLS_CERT: client.cert, NATS_TLS_KEY: client.key }),
    ])
    const [wrongToken, wrongPassword, natsDown, natsDownOneShot, pgWrongPassword, pgDown, badCa] = runs
    const lastLine = (out: string) => out.trim().split('\n').at(-1)
    expect(wrongToken!.code).toBe(1)
    expect(lastLine(wrongToken!.out)).toBe('paperd: NATS refused the connection (Authorization Violation) with the token from NATS_URL')
    expect(wrongPassword!.code).toBe(1)
    expect(lastLine(wrongPassword!.out)).toBe('paperd: NATS refused the connection (Authorization Violation) with user ops and its password from NATS_URL')
    expect(natsDown!.out).toContain('NATS is not reachable yet; retrying every second')
    expect(natsDownOneShot!.code).toBe(1)
    expect(lastLine(natsDownOneShot!.out)).toBe(`paperd: cannot reach NATS at nats://***@127.0.0.2:${unreachable}: connection refused`)
    expect(pgWrongPassword!.code).toBe(1)
    expect(lastLine(pgWrongPassword!.out)).toBe('paperd: password authentication failed for user "paperd"')
    expect(pgDown!.code).toBe(1)
    expect(lastLine(pgDown!.out)).toBe(`paperd: connect ECONNREFUSED 127.0.0.1:${unreachable}`)
    expect(badCa!.code).toBe(1)
    expect(lastLine(badCa!.out)).toMatch(/^paperd: cannot reach NATS at tls:\/\/localhost:\d+: TLS with NATS failed: unable to verify the first certificate/)
    for (const run of runs) expectNoSecret(run.out)
  }, 90_000)
})
