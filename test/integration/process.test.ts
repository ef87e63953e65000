// The daemon as operators run it: a separate `paperd start` process. SIGTERM while busy must exit 0
// well within 15 s; SIGKILL at an arbitrary moment must lose nothing and duplicate nothing once it
// is started again.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { jetstream } from '@nats-io/jetstream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/csv.js'
import { replayBars } from '../../src/replay.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const reference = smaCrossReference(bars, { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 })

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  await new Promise((r) => server.close(r))
  return port
}

interface Daemon {
  child: ChildProcess
  port: number
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>
  output: () => string
}

const spawned = new Set<ChildProcess>()

async function spawnDaemon(stack: Stack): Promise<Daemon> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--config', 'examples/canonical.json'], {
    env: { ...process.env, NATS_URL: stack.nats.url, DATABASE_URL: stack.db.url, METRICS_PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  spawned.add(child)
  child.once('exit', () => spawned.delete(child))
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })))
  for (const deadline = Date.now() + 30_000; ; ) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)
    if (ready) break
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`daemon did not become ready:\n${out}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return { child, port, exited, output: () => out }
}

describe('paperd start as a process', () => {
  let stack: Stack
  beforeEach(async () => {
    stack = await startStack()
  })
  afterEach(async () => {
    // A failed test must not leave a daemon behind, reconnecting forever to a server that is gone.
    for (const child of spawned) child.kill('SIGKILL')
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
