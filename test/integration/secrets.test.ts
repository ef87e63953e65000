// No secret in any log line, at any level: a daemon whose NATS_URL and DATABASE_URL carry a user's
// password runs at LOG_LEVEL=trace through a replay, a control request and a shutdown, and neither
// password appears anywhere in what it printed. (The test servers accept any credentials: NATS has
// no auth configured, Postgres trusts local connections.)
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/csv.js'
import { replayBars } from '../../src/replay.js'
import { killSpawned, spawnDaemon } from '../support/process.js'
import { startStack, type Stack } from '../support/stack.js'

const NATS_SECRET = 'N4ts-S3cret-Pass'
const PG_SECRET = 'Pg-S3cret-Pass'

describe('secrets in logs', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(async () => {
    killSpawned()
    await stack?.close()
  })

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
    expect(out).not.toContain(NATS_SECRET)
    expect(out).not.toContain(PG_SECRET)
  }, 90_000)
})
