// A throwaway nats-server per test file: random port, JetStream in a temp dir.
// Tests never skip when the binary is missing: a silently skipped integration suite looks green and
// hides regressions, so we throw with the exact install command instead.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findOnPath } from '../../src/adapters/nats/local-server.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, startChild, type Child } from './process.js'

export interface NatsServer {
  url: string
  port: number
  storeDir: string
  /** SIGTERM (or SIGKILL with `kill`), SIGKILL after 5 s, then removes the temp dir. Idempotent. */
  stop(opts?: { kill?: boolean }): Promise<void>
  /**
   * Stops and starts again on the same port and store dir (JetStream data survives); with
   * `downUntil`, stays down until it settles (a cluster node kept down while a test runs on).
   */
  restart(opts?: { kill?: boolean; downUntil?: Promise<unknown> }): Promise<void>
}

const STARTUP_TIMEOUT_MS = 15_000
const STOP_GRACE_MS = 5_000
const STDERR_KEEP = 16_384

// Store dirs still there when the test worker exits (a crashed test, a forgotten stop()) would
// otherwise pile up in the temp dir; process.ts kills the servers themselves. 'exit' handlers must be
// synchronous, hence rmSync.
const dirs = new Set<string>()
let exitHookInstalled = false
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })
}

function portIsOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

// nats-server writes `<exe>_<pid>.ports` once its listeners are up: {"nats":["nats://127.0.0.1:N"], …}
function readPortsFile(dir: string, pid: number): number | undefined {
  const file = readdirSync(dir).find((f) => f.endsWith(`_${pid}.ports`))
  if (!file) return undefined
  try {
    const parsed = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats?: string[] }
    const url = parsed.nats?.[0]
    return url ? Number(new URL(url).port) : undefined
  } catch {
    return undefined // half-written; poll again
  }
}

function spawnServer(bin: string, args: string[]): Child {
  return startChild(bin, args, { capture: 'stderr', keep: STDERR_KEEP })
}

async function waitUntilUp(run: Child, dir: string, fixedPort?: number): Promise<number> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  let exited = false
  void run.exited.then(() => {
    exited = true
  })
  while (Date.now() < deadline) {
    if (exited || run.child.exitCode !== null) {
      throw new Error(`nats-server exited during startup (code ${run.child.exitCode}):\n${run.output()}`)
    }
    const port = run.child.pid === undefined ? undefined : readPortsFile(dir, run.child.pid)
    if (port !== undefined && (fixedPort === undefined || port === fixedPort) && (await portIsOpen(port))) {
      return port
    }
    await sleep(25)
  }
  run.child.kill('SIGKILL')
  throw new Error(`nats-server did not accept connections within ${STARTUP_TIMEOUT_MS} ms:\n${run.output()}`)
}

export async function startNatsServer(opts: { config?: string } = {}): Promise<NatsServer> {
  const bin = findOnPath('nats-server')
  if (!bin) {
    throw new Error(
      'nats-server not found on PATH: run scripts/setup test (npm test does), or install it (apt-get install nats-server, brew install nats-server) — tests never skip',
    )
  }
  installExitHook()
  const dir = mkdtempSync(join(tmpdir(), 'paperd-nats-'))
  const baseArgs = ['-js', '-a', '127.0.0.1', '-sd', dir, '--ports_file_dir', dir]
  if (opts.config !== undefined) {
    const configFile = join(dir, 'nats.conf')
    writeFileSync(configFile, opts.config)
    baseArgs.push('-c', configFile)
  }

  dirs.add(dir)
  // A port of our choosing below the ephemeral range (freePort), not `-p -1`: a restart must get it back.
  let port = await freePort()
  let run = spawnServer(bin, [...baseArgs, '-p', String(port)])
  for (let attempt = 1; ; attempt++) {
    try {
      await waitUntilUp(run, dir, port)
      break
    } catch (err) {
      await run.stop('SIGKILL', STOP_GRACE_MS)
      // Someone took the port between our check and the bind: another one.
      if (attempt < 3 && /address already in use/i.test((err as Error).message)) {
        port = await freePort()
        run = spawnServer(bin, [...baseArgs, '-p', String(port)])
        continue
      }
      dirs.delete(dir)
      rmSync(dir, { recursive: true, force: true })
      throw err
    }
  }

  let stopped = false
  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: dir,
    async stop(stopOpts = {}) {
      if (stopped) return
      stopped = true
      await run.stop(stopOpts.kill ? 'SIGKILL' : 'SIGTERM', STOP_GRACE_MS)
      dirs.delete(dir)
      rmSync(dir, { recursive: true, force: true })
    },
    async restart(restartOpts = {}) {
      if (stopped) throw new Error('nats-server was stopped; cannot restart it')
      await run.stop(restartOpts.kill ? 'SIGKILL' : 'SIGTERM', STOP_GRACE_MS)
      await restartOpts.downUntil?.catch(() => undefined)
      // Same port so clients reconnect to the URL they already have; Go sets SO_REUSEADDR, so
      // TIME_WAIT sockets from the previous process do not block the bind.
      run = spawnServer(bin, [...baseArgs, '-p', String(port)])
      await waitUntilUp(run, dir, port)
    },
  }
  return server
}
