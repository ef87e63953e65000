// The daemon as operators run it: a separate `paperd start` process. SIGTERM while busy must exit 0
// well within 15 s; SIGKILL at an arbitrary moment must lose nothing and duplicate nothing once it
// is started again.
import { readFileSync } from 'node:fs'
import { jetstream } from '@nats-io/jetstream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/csv.js'
import { replayBars } from '../../src/replay.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { killSpawned, spawnDaemon as spawnPaperd } from '../support/process.js'
import { startStack, type Stack } from '../support/stack.js'

const spawnDaemon = (stack: Stack) => spawnPaperd(stack, ['--config', 'examples/canonical.json'])

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const reference = smaCrossReference(bars, { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 })

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
    const replay = replayBars(stack.client, bars, { symbol: 'ORCL', timeframe: '1d', speed: 2000 })
    await new Promise((r) => setTimeout(r, 150))
    const sent = Date.now()
    daemon.child.kill('SIGTERM')
    const { code, at } = await daemon.exited
    expect(code).toBe(0)
    expect(at - sent).toBeLessThan(15_000)
    expect(daemon.output()).toContain('"msg":"stopped"')
    await replay

    await stack.start()
    await stack.quiesce()
    expect(await stack.trades()).toEqual(reference.fills)
    await stack.stopDaemon()
  })

  it('after SIGKILL at an arbitrary moment and a restart, the trades and the cash equal an uninterrupted run', async () => {
    const daemon = await spawnDaemon(stack)
    const replay = replayBars(stack.client, bars, { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    await new Promise((r) => setTimeout(r, 300))
    daemon.child.kill('SIGKILL')
    const { signal } = await daemon.exited
    expect(signal).toBe('SIGKILL')
    await replay
    const again = await spawnDaemon(stack)
    await stack.quiesce()
    again.child.kill('SIGTERM')
    expect((await again.exited).code).toBe(0)
    expect(await stack.trades()).toEqual(reference.fills)
    const [book] = await stack.sql<{ cash: number }[]>`select cash::float8 as cash from portfolio_state where account = 'main'`
    expect(book!.cash).toBeCloseTo(reference.cash, 6)
  }, 90_000)
})
