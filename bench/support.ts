// What the benchmark needs around the product: its own nats-server (random port, temp store dir),
// its own Postgres database, a cleanup stack that runs even on failure or Ctrl-C, synthetic bars,
// and a few measuring helpers. Deliberately a small copy of test/support (bench code is compiled
// into dist/ and must not import test code; tests import the synthetic bars from here instead).
import { syntheticBars, type SyntheticBar } from '../src/app/synthetic-bars.js'
import { findOnPath } from '../src/adapters/nats/local-server.js'
import { safeUrl } from '../src/telemetry/log.js'
import { PACKAGE_ROOT } from '../src/config/paths.js'
import { loadConfigFile, parseConfig } from '../src/config/env.js'
import type { ConfigFile } from '../src/core/config-file.js'
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer, connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'

// ---------------------------------------------------------------------------------------------
// Cleanup: a LIFO stack of async steps, each run at most once, errors reported but not fatal.

type Step = { name: string; run: () => Promise<void>; timeoutMs: number; running: Promise<void> | null }

export class Cleanup {
  private steps: Step[] = []
  private late: Promise<void>[] = []
  /** Set once runAll has been called: nothing new should start, and late steps run at once. */
  closed = false

  /** Registers a step; returns a function that runs just this step now (idempotent). */
  add(name: string, run: () => Promise<void>, timeoutMs = 20_000): () => Promise<void> {
    const step: Step = { name, run, timeoutMs, running: null }
    this.steps.push(step)
    if (this.closed) this.late.push(this.runStep(step))
    return () => this.runStep(step)
  }

  /** Runs every step, last registered first. Concurrent callers (a signal handler and a `finally`) wait for the same work. */
  async runAll(): Promise<void> {
    this.closed = true
    for (const step of [...this.steps].reverse()) await this.runStep(step)
    await Promise.all(this.late)
  }

  private runStep(step: Step): Promise<void> {
    step.running ??= withTimeout(step.run(), step.timeoutMs, `cleanup: ${step.name}`).catch((err: Error) => {
      console.error(`bench: cleanup step "${step.name}" failed: ${err.message}`)
    })
    return step.running
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

// ---------------------------------------------------------------------------------------------
// nats-server -js on a random port with a temp store dir.

export interface NatsServer {
  url: string
  /** The running server's pid (a restart changes it). */
  readonly pid: number
  storeDir: string
  /** SIGTERM (SIGKILL after 5 s), then removes the store dir. Idempotent. */
  stop(): Promise<void>
  /** SIGTERM (SIGKILL after 5 s) and start again on the same port and store: JetStream data survives. */
  restart(): Promise<void>
}

// Synchronous last resort: a crash or process.exit() must not leave servers or temp dirs behind.
const liveServers = new Set<{ child: ChildProcess; dir: string }>()
process.once('exit', () => {
  for (const s of liveServers) {
    s.child.kill('SIGKILL')
    // Wait (synchronously, at most 1 s) until it is dead, so it cannot write into the dir we remove.
    for (const until = Date.now() + 1000; Date.now() < until && isAlive(s.child.pid); );
    rmSync(s.dir, { recursive: true, force: true })
  }
})

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

const portIsOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port })
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })

/**
 * A free TCP port in 20000-31999, below Linux's ephemeral range (32768 and up by default). The OS
 * hands ephemeral ports to outgoing connections: a server restarted on one could find it taken —
 * even by a client of its own, whose reconnect to the closed port connected to itself (TCP's
 * self-connect) — and fail to bind. Down here nothing is handed out, so a restarted server gets its
 * port back. (The tests' servers use it too: test/support/process.ts.)
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    const server = createServer()
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => resolve(true))
    })
    if (free) {
      await new Promise((r) => server.close(r))
      return port
    }
  }
  throw new Error('no free TCP port in 20000-31999')
}

/** One nats-server process on `dir`: spawned, watched, and stopped (SIGTERM, SIGKILL after 5 s). */
function spawnServer(bin: string, dir: string, port: string, extraArgs: string[]) {
  const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', port, '-sd', dir, '--ports_file_dir', dir, ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] })
  const entry = { child, dir }
  liveServers.add(entry)
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (c: string) => (stderr = (stderr + c).slice(-8192)))
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.once('error', () => resolve())
  })
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const late = await Promise.race([exited.then(() => false), sleep(5_000).then(() => true)])
      if (late) {
        child.kill('SIGKILL')
        await exited
      }
    }
    liveServers.delete(entry)
  }
  /** The port it listens on, once it accepts connections. */
  const up = async (): Promise<number> => {
    const deadline = Date.now() + 15_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`nats-server exited during startup:\n${stderr}`)
      if (Date.now() > deadline) throw new Error(`nats-server did not start within 15 s:\n${stderr}`)
      const file = readdirSync(dir).find((f) => f.endsWith(`_${child.pid}.ports`))
      if (file) {
        try {
          const url = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats?: string[] }).nats?.[0]
          const bound = url ? Number(new URL(url).port) : NaN
          if (bound && (await portIsOpen(bound))) return bound
        } catch {
          // half-written ports file; poll again
        }
      }
      await sleep(20)
    }
  }
  return { child, kill, up }
}

/** `extraArgs`: e.g. ['-m', '8222'] to expose the monitoring endpoint while investigating. */
export async function startNatsServer(extraArgs: string[] = []): Promise<NatsServer> {
  const bin = findOnPath('nats-server')
  if (!bin) throw new Error('nats-server not found on PATH (apt-get install nats-server)')
  const dir = mkdtempSync(join(tmpdir(), 'paperd-bench-nats-'))
  // A port below the ephemeral range, not `-p -1`: restarted (chaos), the server must get it back —
  // an ephemeral one can be taken meanwhile, even by a client's reconnect connecting to itself.
  let port = await freePort()
  let run = spawnServer(bin, dir, String(port), extraArgs)
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await run.kill()
    rmSync(dir, { recursive: true, force: true })
  }
  for (let attempt = 1; ; attempt++) {
    try {
      port = await run.up()
      break
    } catch (err) {
      await run.kill()
      if (attempt < 3 && /address already in use/i.test((err as Error).message)) {
        port = await freePort()
        run = spawnServer(bin, dir, String(port), extraArgs)
        continue
      }
      await stop()
      throw err
    }
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    get pid() {
      return run.child.pid!
    },
    storeDir: dir,
    stop,
    async restart() {
      if (stopped) throw new Error('nats-server was stopped; cannot restart it')
      await run.kill()
      // Same port: clients reconnect to the URL they have (Go sets SO_REUSEADDR).
      run = spawnServer(bin, dir, String(port), extraArgs)
      await run.up()
    },
  }
}

// ---------------------------------------------------------------------------------------------
// A fresh database on TEST_DATABASE_URL (or the local default), dropped afterwards.

export const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'

interface Database {
  url: string
  name: string
  drop(): Promise<void>
}

async function withAdmin<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(BASE_DATABASE_URL, { max: 1, connect_timeout: 5, idle_timeout: 1, onnotice: () => {} })
  try {
    return await fn(sql)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/**
 * Creates the database. Its drop is registered on `cleanup` before the CREATE is sent and waits for
 * it, so an interrupt at any point cannot leave the database behind.
 */
export async function createDatabase(cleanup: Cleanup): Promise<Database> {
  if (cleanup.closed) throw new Error('interrupted')
  const name = `paperd_bench_${randomBytes(5).toString('hex')}`
  const created = withAdmin((sql) => sql`create database ${sql(name)}`)
  let dropped = false
  const drop = async () => {
    if (dropped) return
    dropped = true
    try {
      await created
    } catch {
      return // never created
    }
    await withAdmin((sql) => sql`drop database if exists ${sql(name)} with (force)`)
  }
  cleanup.add(`drop database ${name}`, drop)
  try {
    await created
  } catch (err) {
    throw new Error(`cannot create a database on ${safeUrl(BASE_DATABASE_URL)}: ${(err as Error).message} (set TEST_DATABASE_URL)`, { cause: err })
  }
  const u = new URL(BASE_DATABASE_URL)
  u.pathname = `/${name}`
  return { url: u.toString(), name, drop }
}

// ---------------------------------------------------------------------------------------------
// Synthetic bars: the seeded random walk of src/app/synthetic-bars.ts, one bar a minute.

export type { SyntheticBar } from '../src/app/synthetic-bars.js'

/** One-minute bars starting at `start`. */
export function minuteBars(n: number, seed: number, start = '2024-01-02T00:00:00Z', price = 50): SyntheticBar[] {
  return syntheticBars(n, { seed, start, price, stepMs: 60_000 })
}

/** `bars` as the CSV `paperd backtest --data` reads (and backtrader, in bench/backtrader_sma.py). */
export function barsCsv(bars: readonly SyntheticBar[]): string {
  const lines = ['ts,open,high,low,close,volume']
  for (const b of bars) lines.push(`${b.ts},${b.open},${b.high},${b.low},${b.close},${b.volume}`)
  return `${lines.join('\n')}\n`
}

/** The canonical config, its strategies watching `syms` on 1m bars; cash raised so it never binds. */
export function canonicalFor(syms: string[]): ConfigFile {
  const base = loadConfigFile(join(PACKAGE_ROOT, 'examples', 'canonical.json'))
  return parseConfig(
    {
      ...base,
      accounts: base.accounts.map((a) => ({ ...a, starting_cash: 1_000_000 })),
      strategies: base.strategies.map((s) => ({ ...s, symbols: syms, timeframe: '1m' })),
    },
    'bench config',
  )
}

// ---------------------------------------------------------------------------------------------
// Measuring helpers.

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

const CLK_TCK = 100

/** utime+stime (+ children's when `children`) of a process, in seconds; null when it is gone. */
export function procCpuSeconds(pid: number, children = false): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after "(comm)": state is field 3; utime 14, stime 15, cutime 16, cstime 17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0)
    return ticks / CLK_TCK
  } catch {
    return null
  }
}

/** CPU seconds of the Postgres processes that serve `dbName` plus the shared background writers. */
export function postgresCpuSeconds(dbName: string): number {
  let total = 0
  let dirs: string[]
  try {
    dirs = readdirSync('/proc').filter((d) => /^\d+$/.test(d))
  } catch {
    return NaN
  }
  for (const d of dirs) {
    let cmd: string
    try {
      cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ')
    } catch {
      continue
    }
    if (!cmd.startsWith('postgres:')) continue
    if (cmd.includes(` ${dbName} `) || /walwriter|background writer|checkpointer/.test(cmd)) total += procCpuSeconds(Number(d)) ?? 0
  }
  return total
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
export function systemBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal
    return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) / CLK_TCK
  } catch {
    return NaN
  }
}

export const nodeCpuSeconds = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

export const round = (x: number, digits = 0) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x)

// ---------------------------------------------------------------------------------------------
// `paperd ARGS…` as a process of its own (the built CLI), on a bench's server and database.

export function spawnPaperd(args: string[], target: { natsUrl: string; dbUrl: string; env?: Record<string, string>; stdio?: StdioOptions }): ChildProcess {
  return spawn(process.execPath, [join(PACKAGE_ROOT, 'dist/src/cli.js'), ...args], {
    env: { ...process.env, NATS_URL: target.natsUrl, DATABASE_URL: target.dbUrl, METRICS_PORT: '0', ...target.env },
    stdio: target.stdio ?? 'ignore',
  })
}
