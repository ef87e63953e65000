// paperd on a three-node JetStream cluster (nats-server 2.9, routes on loopback) with
// PAPERD_STREAM_REPLICAS=3: streams, durables and the KV buckets are replicated, NATS_URL lists every
// server, and when the node leading the MD stream is SIGKILLed mid-replay and kept down, the replay
// still completes (`replay --wait` returns); the node then comes back, the rest of the series goes
// in, and every fill and every cash balance equal the reference broker's.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/core/csv.js'
import { configOf, LANGUAGE_CASES } from '../support/language-cases.js'
import { startNatsServer, type NatsServer } from '../support/nats-server.js'
import { createTestDatabase, type TestDatabase } from '../support/postgres.js'
import { freePort, killSpawned, runPaperd, startPaperd } from '../support/process.js'
import { referenceBroker, type RefBar } from '../support/reference-strategy-broker.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars as RefBar[]
const cases = LANGUAGE_CASES.slice(0, 4)
const dir = mkdtempSync(join(tmpdir(), 'paperd-cluster-'))
const configFile = join(dir, 'config.json')
writeFileSync(configFile, JSON.stringify(configOf(cases, 'ORCL')))

describe('a three-node JetStream cluster', () => {
  const servers: { name: string; server: NatsServer }[] = []
  let db: TestDatabase
  let url: string
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    const routes = await Promise.all([freePort(), freePort(), freePort()])
    const started = await Promise.all(
      routes.map((port, i) =>
        startNatsServer({
          config: [
            `server_name: n${i}`,
            `cluster { name: paperd, listen: "127.0.0.1:${port}", routes: [${routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(', ')}] }`,
          ].join('\n'),
        }),
      ),
    )
    started.forEach((server, i) => servers.push({ name: `n${i}`, server }))
    url = servers.map((s) => s.server.url).join(',')
    db = await createTestDatabase()
    env = { ...process.env, NATS_URL: url, DATABASE_URL: db.url, PAPERD_STREAM_REPLICAS: '3', PAPERD_LEASE_TTL_MS: '3000', LOG_LEVEL: 'info' }
    // The cluster elects its JetStream meta leader after the routes connect.
    const nc = await connect({ servers: url.split(',') })
    try {
      for (const deadline = Date.now() + 30_000; ; ) {
        try {
          await (await jetstreamManager(nc)).getAccountInfo()
          break
        } catch (err) {
          if (Date.now() > deadline) throw err
          await new Promise((r) => setTimeout(r, 250))
        }
      }
    } finally {
      await nc.close()
    }
  }, 60_000)
  afterAll(async () => {
    killSpawned()
    for (const s of servers) await s.server.stop()
    await db?.drop()
  })

  it('keeps trading while the MD stream leader is killed mid-replay and kept down, and after it is back', async () => {
    const port = await freePort()
    const daemon = startPaperd(['start', '--config', configFile, '--threads', '1'], { env: { ...env, METRICS_PORT: String(port) } })
    for (
      const deadline = Date.now() + 60_000;
      !(await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      ));
    ) {
      if (!daemon.running() || Date.now() > deadline) throw new Error(`paperd did not become ready:\n${daemon.output()}`)
      await new Promise((r) => setTimeout(r, 200))
    }
    const nc = await connect({ servers: url.split(',') })
    const jsm = await jetstreamManager(nc)
    const md = await jsm.streams.info('MD')
    expect(md.config.num_replicas).toBe(3)
    expect((await jsm.streams.info('TRADE')).config.num_replicas).toBe(3)
    expect((await jsm.streams.info('KV_paperd_leases')).config.num_replicas).toBe(3)

    // The first two thirds of the series go in while the MD leader is killed and kept down; the rest
    // after it is back, so both halves of the promise are exercised.
    const partial = join(dir, 'ORCL-first.csv')
    const lines = readFileSync(CSV, 'utf8').trimEnd().split('\n')
    writeFileSync(partial, `${lines.slice(0, 1 + Math.floor((bars.length * 2) / 3)).join('\n')}\n`)
    const replay = runPaperd(['replay', partial, '--symbol', 'ORCL', '--speed', '150'], { env, timeoutMs: 120_000 })
    // Mid-replay: once a good part of the bars is stored.
    for (const deadline = Date.now() + 60_000; ((await jsm.streams.info('MD_IN').catch(() => null))?.state.messages ?? 0) < 200; ) {
      if (Date.now() > deadline) throw new Error('the replay did not start')
      await new Promise((r) => setTimeout(r, 100))
    }
    const leader = (await jsm.streams.info('MD')).cluster?.leader
    const victim = servers.find((s) => s.name === leader)!
    expect(victim).toBeDefined()
    await nc.close()
    let bringBack!: () => void
    const back = victim.server.restart({ kill: true, downUntil: new Promise<void>((r) => (bringBack = r)) })
    try {
      const first = await replay
      expect(first.code, first.output).toBe(0)
      const waited = await runPaperd(['replay', partial, '--symbol', 'ORCL', '--wait', '--timeout', '90', '--config', configFile], { env, timeoutMs: 150_000 })
      expect(waited.code, `${waited.output}\n--- daemon:\n${daemon.output().slice(-6000)}`).toBe(0)
    } finally {
      bringBack()
      await back
    }

    const rest = await runPaperd(['replay', CSV, '--symbol', 'ORCL', '--speed', '150', '--wait', '--timeout', '90', '--config', configFile], {
      env,
      timeoutMs: 150_000,
    })
    expect(rest.code, `${rest.output}\n--- daemon:\n${daemon.output().slice(-6000)}`).toBe(0)

    const sql = postgres(db.url, { max: 1, onnotice: () => {} })
    try {
      for (const c of cases) {
        const ref = referenceBroker(bars, c.ref)
        const trades = await sql<{ n: string }[]>`select count(*) as n from trades where account = ${c.account}`
        expect(Number(trades[0]!.n), c.account).toBe(ref.fills.length)
        const [book] = await sql<{ cash: number }[]>`select cash::float8 as cash from portfolio_state where account = ${c.account}`
        expect(book!.cash, c.account).toBe(ref.cash)
      }
    } finally {
      await sql.end()
    }
    await daemon.stop('SIGTERM', 20_000)
  }, 300_000)
})
