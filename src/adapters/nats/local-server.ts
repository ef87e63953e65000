// First run without a NATS server: when NATS_URL points at this machine and nothing answers there,
// `paperd start` starts `nats-server -js` from PATH on that port, with its store under the data
// directory (so a restart finds its streams again), and stops it on exit. Anywhere else, or with no
// nats-server installed, it says in one line what to do.
// Only on a first run: a server that answered there once and was not paperd's (no live process in
// paperd's pid file) is remembered in the data directory, and while it is away — restarting, say —
// paperd waits for it rather than taking its port with an empty store of its own.
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { delimiter, join } from 'node:path'
import { ConfigError, type NatsOptions } from '../../config/env.js'
import type { Logger } from '../../telemetry/log.js'

const LOCAL = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/** Whether something accepts TCP connections at host:port (a quick probe, no NATS protocol). */
function answers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: host.replace(/^\[|\]$/g, ''), port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** The first executable `name` on PATH. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue
    try {
      accessSync(join(dir, name), constants.X_OK)
      return join(dir, name)
    } catch {
      // not here; keep looking
    }
  }
  return null
}

/** The local server started for this process, if one had to be. */
interface LocalNats {
  stop(): Promise<void>
}

export async function ensureLocalNats(nats: NatsOptions, dataDir: string, log: Logger, path?: string): Promise<LocalNats | null> {
  const servers = Array.isArray(nats.servers) ? nats.servers : [nats.servers ?? '127.0.0.1:4222']
  if (servers.length !== 1) return null
  // Credentials or TLS mean a secured server is expected there: never stand in for it with an open one.
  if (nats.credsFile !== undefined || nats.tls !== undefined || nats.token !== undefined || nats.user !== undefined) return null
  const m = /^(?:tls:\/\/)?(\[[^\]]+\]|[^:]+):(\d+)$/.exec(servers[0]!)
  if (!m || !LOCAL.has(m[1]!)) return null
  const host = m[1]!
  const port = Number(m[2])
  const store = join(dataDir, 'nats')
  const pidFile = join(store, 'nats-server.pid')
  const remembered = join(dataDir, `nats-elsewhere-${port}`)
  if (await answers(host, port)) {
    // Ours, left running by a paperd that was killed, or someone else's: remembered, to wait for it.
    if (!ownServerRuns(pidFile)) {
      mkdirSync(dataDir, { recursive: true })
      writeFileSync(remembered, `${host}:${port}\n`)
    }
    return null
  }
  if (existsSync(remembered)) {
    log.warn(
      { nats: `${host}:${port}`, remembered },
      `nothing answers at ${host}:${port}, where a NATS that is not paperd's answered before: waiting for it (delete ${remembered} to let paperd start its own)`,
    )
    return null
  }
  const bin = findOnPath('nats-server', path)
  if (!bin) {
    throw new ConfigError(
      `no NATS at ${host}:${port} and no nats-server on PATH: install one (apt-get install nats-server, brew install nats-server, or a release from https://github.com/nats-io/nats-server/releases) or set NATS_URL`,
    )
  }
  mkdirSync(store, { recursive: true })
  // Its own process group: a Ctrl-C at the terminal reaches paperd alone, which then stops the server
  // after its actors have drained and checkpointed (in paperd's group, the server would quit at once,
  // in the middle of that shutdown).
  const child: ChildProcess = spawn(bin, ['-js', '-a', host.replace(/^\[|\]$/g, ''), '-p', String(port), '-sd', store, '-P', pidFile], {
    stdio: 'ignore',
    detached: true,
  })
  log.info({ bin, port, store }, 'no NATS answering: started a local nats-server -js')
  for (const deadline = Date.now() + 15_000; !(await answers(host, port)); ) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new ConfigError(`the local nats-server (${bin}) did not start on ${host}:${port}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  // paperd may also leave by process.exit (a second Ctrl-C, a lost worker, a shutdown that took too
  // long): the server it started goes with it rather than living on, orphaned, holding the port.
  const orphanGuard = () => child.kill('SIGTERM')
  process.once('exit', orphanGuard)
  return {
    async stop() {
      process.off('exit', orphanGuard)
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
    },
  }
}

/** Whether the nats-server paperd started (its pid file in the store) still runs. */
function ownServerRuns(pidFile: string): boolean {
  let pid: number
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim())
  } catch {
    return false
  }
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nats-server')
  } catch {
    return true // no /proc (macOS): a live process of that pid is taken for it
  }
}
