// `paperd start` as a separate process, as operators run it, for tests that signal or kill it.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import type { Stack } from './stack.js'

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  await new Promise((r) => server.close(r))
  return port
}

export interface Daemon {
  child: ChildProcess
  port: number
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>
  output: () => string
}

const spawned = new Set<ChildProcess>()

/** `paperd start ARGS…` as its own process against the stack's servers; resolves once /readyz says ready. */
export async function spawnDaemon(stack: Stack, args: string[], env: Record<string, string> = {}): Promise<Daemon> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', ...args], {
    env: { ...process.env, NATS_URL: stack.nats.url, DATABASE_URL: stack.db.url, METRICS_PORT: String(port), LOG_LEVEL: 'info', ...env },
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


/** A failed test must not leave a daemon behind, reconnecting forever to a server that is gone. */
export function killSpawned(): void {
  for (const child of spawned) child.kill('SIGKILL')
}
