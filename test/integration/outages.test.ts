// Infrastructure failing under a running daemon: NATS restarts (actors reconnect forever and
// carry on), Postgres refuses connections for a while (the persister holds its batch, backs off and
// catches up). Afterwards the books are exactly those of an undisturbed run.
import { readFileSync } from 'node:fs'
import postgres from 'postgres'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/core/csv.js'
import { replayBars } from '../../src/app/replay.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const reference = smaCrossReference(bars, { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 })

/** Publishes the bars, retrying through a NATS outage the way a feed would. */
async function replayThrough(stack: Stack, from: number, to: number) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await replayBars(stack.client, bars.slice(from, to), { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    } catch (err) {
      if (attempt > 40) throw err
      await new Promise((r) => setTimeout(r, 250))
    }
  }
}

describe('outages', () => {
  let stack: Stack
  beforeEach(async () => {
    stack = await startStack()
    await stack.start()
  })
  afterEach(async () => stack?.close())

  it('NATS restarts in the middle of a replay: everything reconnects and the trades equal the reference', async () => {
    await replayThrough(stack, 0, 300)
    await stack.nats.restart()
    await replayThrough(stack, 0, bars.length)
    await stack.quiesce(90_000)
    expect(await stack.trades()).toEqual(reference.fills)
  }, 120_000)

  it('Postgres refuses connections for a while: the persister backs off, loses nothing, and catches up', async () => {
    const admin = postgres(process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres', { max: 1, onnotice: () => {} })
    try {
      await replayThrough(stack, 0, 200)
      await stack.quiesce()
      await admin`alter database ${admin(stack.db.name)} with allow_connections false`
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${stack.db.name} and pid <> pg_backend_pid()`
      await replayThrough(stack, 0, bars.length)
      // The persister has new work it cannot commit: it retries (and keeps the batch) rather than failing.
      const commitRetries = async () =>
        Number(
          /paperd_retries_total\{actor="persister",what="commit"\} (\d+)/.exec(
            await stack.daemon!.metrics.registry.getSingleMetricAsString('paperd_retries_total'),
          )?.[1] ?? 0,
        )
      for (const deadline = Date.now() + 30_000; (await commitRetries()) === 0; await new Promise((r) => setTimeout(r, 100))) {
        expect(Date.now(), 'the persister never retried a commit while Postgres refused connections').toBeLessThan(deadline)
      }
      await admin`alter database ${admin(stack.db.name)} with allow_connections true`
      await stack.quiesce(90_000)
    } finally {
      await admin`alter database ${admin(stack.db.name)} with allow_connections true`
      await admin.end()
    }
    expect(await stack.trades()).toEqual(reference.fills)
    const [dead] = await stack.sql<{ n: number }[]>`select count(*)::int as n from dead_letters`
    expect(dead!.n).toBe(0)
  }, 120_000)
})
