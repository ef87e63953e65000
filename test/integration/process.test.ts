// The daemon as operators run it: a separate `paperd start` process. SIGTERM while busy must exit 0
// well within 15 s; SIGKILL in the middle of the work must lose nothing and duplicate nothing once
// it is started again. Both signals come when the work is observably under way (Postgres shows some
// of it, and more is still to come), never after a guessed delay.
import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/core/csv.js'
import { replayBars } from '../../src/app/replay.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { killSpawned, spawnDaemon as spawnPaperd } from '../support/process.js'
import { startStack, type Stack } from '../support/stack.js'

const spawnDaemon = (stack: Stack) => spawnPaperd(stack, ['--config', 'examples/canonical.json'])

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const reference = smaCrossReference(bars, { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 })
/** The bars go out in two halves: the second only after the kill has been decided. */
const HALF = bars.length / 2
const firstHalf = bars.slice(0, HALF)
const secondHalf = bars.slice(HALF)

/** Polls until `table` has rows (the daemon has observably done some of the work); how many. */
async function someRows(stack: Stack, table: 'snapshot_market' | 'trades'): Promise<number> {
  for (const deadline = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 20))) {
    const [row] = await stack.sql<{ n: number }[]>`select count(*)::int as n from ${stack.sql(table)}`
    if (row!.n > 0) return row!.n
    expect(Date.now(), `no rows in ${table} within 60 s`).toBeLessThan(deadline)
  }
}

describe('paperd start as a process', () => {
  let stack: Stack
  beforeEach(async () => {
    stack = await startStack()
  })
  afterEach(async () => {
    // A failed test must not leave a daemon behind, reconnecting forever to a server that is gone.
    killSpawned()
    await stack?.close()
  })

  it('exits 0 within 15 s of SIGTERM while bars are flowing, and a restart finishes the work exactly', async () => {
    const daemon = await spawnDaemon(stack)
    const metrics = await fetch(`http://127.0.0.1:${daemon.port}/metrics`).then((r) => r.text())
    expect(metrics).toContain('paperd_messages_total')
    // Half the bars; once Postgres shows some of them (at most that half), the rest start flowing
    // and SIGTERM comes with them.
    const first = replayBars(stack.client, firstHalf, { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    const [, rows] = await Promise.all([first, someRows(stack, 'snapshot_market')])
    expect(rows).toBeLessThanOrEqual(HALF)
    const rest = replayBars(stack.client, secondHalf, { symbol: 'ORCL', timeframe: '1d', speed: 1000 })
    const sent = Date.now()
    daemon.child.kill('SIGTERM')
    const { code, at } = await daemon.exited
    expect(code).toBe(0)
    expect(at - sent).toBeLessThan(15_000)
    expect(daemon.output()).toContain('"msg":"stopped"')
    await rest

    await stack.start()
    await stack.quiesce()
    expect(await stack.trades()).toEqual(reference.fills)
    await stack.stopDaemon()
  }, 90_000)

  it('after SIGKILL in the middle of the work and a restart, the trades and the cash equal an uninterrupted run', async () => {
    const daemon = await spawnDaemon(stack)
    // Half the bars (half the fills: some, never all), killed as soon as the first fills are in
    // Postgres, with the rest of that half still being worked through.
    const firstHalfFills = reference.fills.filter((f) => f.ts < secondHalf[0]!.ts).length
    expect(firstHalfFills).toBeGreaterThan(0)
    expect(firstHalfFills).toBeLessThan(reference.fills.length)
    const first = replayBars(stack.client, firstHalf, { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    const fills = await someRows(stack, 'trades')
    daemon.child.kill('SIGKILL')
    const { signal } = await daemon.exited
    expect(signal).toBe('SIGKILL')
    expect(fills).toBeLessThanOrEqual(firstHalfFills)
    await first
    await replayBars(stack.client, secondHalf, { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    const again = await spawnDaemon(stack)
    await stack.quiesce()
    again.child.kill('SIGTERM')
    expect((await again.exited).code).toBe(0)
    expect(await stack.trades()).toEqual(reference.fills)
    const [book] = await stack.sql<{ cash: number }[]>`select cash::float8 as cash from portfolio_state where account = 'main'`
    expect(book!.cash).toBeCloseTo(reference.cash, 6)
  }, 90_000)
})
