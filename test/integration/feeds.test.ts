// A feed that runs by itself: a daemon whose config has an Alpaca feed for ORCL, pointed at a
// stand-in speaking Alpaca's Market Data v2 (key headers, pages with next_page_token, one 429 with
// Retry-After), fetches the history, publishes it as md.in.bar.ORCL and trades it: the fills equal the
// independent reference broker's on the same bars. Restarted, it asks only for what follows its last
// bar, publishes nothing twice and the books do not change; the secret never reaches the log.
import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { jetstreamManager } from '@nats-io/jetstream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACTOR_NAMES } from '../../src/core/actor.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { loadEnv } from '../../src/config/env.js'
import { startDaemon, type Daemon } from '../../src/app/daemon.js'
import { replayBars } from '../../src/app/replay.js'
import { createLogger } from '../../src/telemetry/log.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { alpacaStandIn, type StandIn } from '../support/provider-stand-ins.js'
import { CANONICAL, startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const reference = smaCrossReference(bars, { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 })
const KEY_ID = 'PKTESTKEYID0001'
const SECRET = 'sEcReT-never-in-a-log-0123456789'
const FEEDS = [{ provider: 'alpaca', symbols: ['ORCL', 'BADX'], timeframe: '1d', start: '1995-01-01' }]
// A second symbol in the same requests, one of whose bars the provider got wrong (high below low).
const BADX = [
  { ts: '2015-01-02T00:00:00.000Z', open: 10, high: 11, low: 9, close: 10.5, volume: 100 },
  { ts: '2015-01-05T00:00:00.000Z', open: 10, high: 9, low: 11, close: 10.5, volume: 100 },
]

describe('an Alpaca feed', () => {
  let stack: Stack
  let alpaca: StandIn
  const logs: string[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk))
      done()
    },
  })
  const startWithFeed = async (): Promise<Daemon> => {
    const env = loadEnv({
      NATS_URL: stack.nats.url,
      DATABASE_URL: stack.db.url,
      METRICS_PORT: '0',
      APCA_API_KEY_ID: KEY_ID,
      APCA_API_SECRET_KEY: SECRET,
      APCA_API_DATA_URL: alpaca.url,
    })
    const daemon = await startDaemon({ env, actors: [...ACTOR_NAMES], config: stack.config, log: createLogger('debug', { stream: sink }), waitForNats: false })
    await daemon.live
    stack.daemons.push(daemon)
    return daemon
  }
  const storedBars = async () => {
    const info = await (await jetstreamManager(stack.client)).streams.info('MD_IN', { subjects_filter: 'md.in.bar.ORCL' })
    return info.state.subjects?.['md.in.bar.ORCL'] ?? 0
  }
  const waitForBars = async (n: number) => {
    const deadline = Date.now() + 60_000
    while ((await storedBars()) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  }

  beforeAll(async () => {
    stack = await startStack({ ...CANONICAL, feeds: FEEDS })
    alpaca = await alpacaStandIn({ ORCL: bars, BADX }, { keyId: KEY_ID, secret: SECRET, pageSize: 200 })
  })
  afterAll(async () => {
    await stack?.close()
    await alpaca?.close()
  })

  it('fetches the history by itself, pages and a 429 included, and trades it as the reference broker does', async () => {
    await startWithFeed()
    await waitForBars(bars.length)
    await stack.quiesce()
    expect(await storedBars()).toBe(bars.length)
    expect(await stack.trades()).toEqual(reference.fills)

    // The documented request: both key headers, 1Day, the config's start, then pages by token.
    const first = alpaca.requests[0]!
    expect(first.path).toBe('/v2/stocks/bars')
    expect(first.query).toMatchObject({ symbols: 'ORCL,BADX', timeframe: '1Day', start: '1995-01-01', adjustment: 'raw', sort: 'asc' })
    expect(first.headers['apca-api-key-id']).toBe(KEY_ID)
    const paged = alpaca.requests.filter((r) => r.query.page_token)
    expect(paged.length).toBeGreaterThanOrEqual(Math.ceil(bars.length / 200)) // the 429 was asked again
    expect(logs.join('')).toMatch(/provider busy or down; asking again/)
  }, 120_000)

  it('passes a bar the provider got wrong on, and market-snapshots dead-letters it with the reason', async () => {
    const dead = await stack.sql`select actor, subject, reason from dead_letters`
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({ actor: 'market-snapshots', subject: 'md.in.bar.BADX' })
    expect(dead[0]!.reason).toMatch(/high/)
  })

  it('refuses to start without the credentials its feeds need, naming the variables', async () => {
    const env = loadEnv({ NATS_URL: stack.nats.url, DATABASE_URL: stack.db.url, METRICS_PORT: '0', APCA_API_KEY_ID: KEY_ID })
    await expect(startDaemon({ env, actors: [...ACTOR_NAMES], config: stack.config, log: createLogger('silent'), waitForNats: false })).rejects.toThrow(
      "the config's feeds need APCA_API_SECRET_KEY (feed alpaca-0)",
    )
  })

  it('restarted, asks only for what follows its last bar, publishes nothing twice and leaves the books as they were', async () => {
    const before = await stack.trades()
    const seen = alpaca.requests.length
    await stack.stopDaemon()
    await startWithFeed()
    const deadline = Date.now() + 30_000
    while (alpaca.requests.length === seen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    const next = new Date(Date.parse(bars.at(-1)!.ts) + 86_400_000).toISOString().slice(0, 10)
    expect(alpaca.requests[seen]?.query.start).toBe(next)
    await stack.quiesce()
    expect(await storedBars()).toBe(bars.length)
    expect(await stack.trades()).toEqual(before)
  }, 120_000)

  it('paperd status shows each series of the feed with its last bar and the bars it lacks', async () => {
    const status = await stack.cli(['status'])
    expect(status.code, status.stderr).toBe(0)
    const last = bars.at(-1)!.ts
    expect(status.stdout).toMatch(new RegExp(`^alpaca-0 +alpaca +ORCL +1d +${last.replace(/[.]/g, '\\.')} +\\d+$`, 'm'))
    expect(status.stdout).toMatch(/^feeds +alpaca-0 +\w+/m) // its lease: who polls it
  }, 60_000)

  it('never writes the secret to the log', () => {
    expect(logs.length).toBeGreaterThan(0)
    expect(logs.join('')).not.toContain(SECRET)
  })
})

describe('a feed whose provider refuses it', () => {
  let stack: Stack
  let alpaca: StandIn
  const logs: string[] = []
  beforeAll(async () => {
    stack = await startStack({ ...CANONICAL, feeds: FEEDS })
    alpaca = await alpacaStandIn({ ORCL: bars }, { keyId: 'the-real-key', secret: SECRET, pageSize: 200 })
  })
  afterAll(async () => {
    await stack?.close()
    await alpaca?.close()
  })

  it('is a log line and paperd_feed_up 0, never a crash: the daemon stays ready and trades what else comes in', async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk))
        done()
      },
    })
    const env = loadEnv({
      NATS_URL: stack.nats.url,
      DATABASE_URL: stack.db.url,
      METRICS_PORT: '0',
      APCA_API_KEY_ID: 'a-revoked-key',
      APCA_API_SECRET_KEY: SECRET,
      APCA_API_DATA_URL: alpaca.url,
    })
    const daemon = await startDaemon({ env, actors: [...ACTOR_NAMES], config: stack.config, log: createLogger('info', { stream: sink }), waitForNats: false })
    stack.daemons.push(daemon)
    await daemon.live
    const deadline = Date.now() + 20_000
    while (!logs.join('').includes('feed poll failed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(logs.join('')).toMatch(/"msg":"feed poll failed; asking again later"/)
    expect(logs.join('')).toMatch(/HTTP 401/)
    expect(alpaca.requests).toHaveLength(1) // refused credentials are not asked again at once
    const metrics = await fetch(`http://127.0.0.1:${daemon.http!.port}/metrics`).then((r) => r.text())
    expect(metrics).toMatch(/^paperd_feed_up\{feed="alpaca-0",provider="alpaca"\} 0$/m)
    expect(await daemon.readiness()).toEqual({})
    // The rest of paperd goes on: a replayed file trades as ever.
    await replayBars(stack.client, bars, { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    await stack.quiesce()
    expect(await stack.trades()).toEqual(reference.fills)
    expect(logs.join('')).not.toContain(SECRET)
  }, 120_000)
})
