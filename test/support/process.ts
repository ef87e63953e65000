// Child processes for the tests, started one way: `paperd` as operators run it (for tests that signal
// or kill it), and the servers and tools the tests drive (nats-server, postgres, prometheus, promtool).
// Every child is registered until it exits, so a failed test leaves none behind: killSpawned() (or
// children() and stop()) in an after hook, and SIGKILL for any still running when the worker exits.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { TEST_WARM_UP_BARS, type Stack } from './stack.js'
import { freePort } from '../../bench/support.js'

/** A free TCP port below Linux's ephemeral range (see bench/support.ts). */
export { freePort }

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  /** Date.now() when it exited. */
  at: number
}

export interface Child {
  /** 'paperd' for startPaperd, otherwise the command's file name. */
  name: string
  child: ChildProcess
  /** stdout and stderr interleaved as they arrived (only what `capture` collects, the last `keep` characters). */
  output(): string
  stdout(): string
  stderr(): string
  /** Resolves once it has exited, or failed to start (code and signal null). */
  exited: Promise<Exit>
  running(): boolean
  /** `signal`, then SIGKILL if it has not exited within `graceMs`; resolves once it has exited. Nothing if it already has. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>
}

export interface ChildOptions {
  /** The child's whole environment (not merged with process.env); process.env when absent. */
  env?: NodeJS.ProcessEnv
  /** Collect stdout and stderr ('both', the default) or stderr only (stdout ignored). */
  capture?: 'both' | 'stderr'
  /** Keep only the last `keep` characters of each output. */
  keep?: number
  /** A process group of its own, as a shell makes a foreground job. */
  detached?: boolean
  uid?: number
  gid?: number
  /** Written to its stdin, which is then closed; without it stdin is ignored. */
  input?: string
  /** Called after every chunk of output with everything collected so far. */
  onOutput?: (output: string, child: ChildProcess) => void
  name?: string
}

const live = new Set<Child>()
// 'exit' handlers must be synchronous: SIGKILL is all there is time for.
process.once('exit', () => {
  for (const c of live) c.child.kill('SIGKILL')
})

/** Starts `command ARGS…`; see Child. */
export function startChild(command: string, args: string[], opts: ChildOptions = {}): Child {
  const stdio: StdioOptions = [opts.input === undefined ? 'ignore' : 'pipe', opts.capture === 'stderr' ? 'ignore' : 'pipe', 'pipe']
  const child = spawn(command, args, { stdio, env: opts.env ?? process.env, detached: opts.detached ?? false, uid: opts.uid, gid: opts.gid })
  const trim = (s: string) => (opts.keep === undefined ? s : s.slice(-opts.keep))
  let out = ''
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8')
  child.stderr?.setEncoding('utf8')
  child.stdout?.on('data', (d: string) => {
    stdout = trim(stdout + d)
    out = trim(out + d)
    opts.onOutput?.(out, child)
  })
  child.stderr?.on('data', (d: string) => {
    stderr = trim(stderr + d)
    out = trim(out + d)
    opts.onOutput?.(out, child)
  })
  child.stdin?.end(opts.input)
  // TEST_CHILD_LOG_DIR keeps every child's whole output on disk, one file per process: for chasing a
  // failure that only a loaded machine shows, where the kept tail is not enough.
  const logDir = process.env.TEST_CHILD_LOG_DIR
  if (logDir) {
    mkdirSync(logDir, { recursive: true })
    const file = createWriteStream(join(logDir, `${opts.name ?? basename(command)}-${child.pid}.log`))
    file.write(`# ${Date.now()} ${command} ${args.join(' ')}\n`)
    child.stdout?.on('data', (d: string) => file.write(d))
    child.stderr?.on('data', (d: string) => file.write(d))
    child.once('close', () => file.end())
  }
  let done = false
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true
      resolve({ code, signal, at: Date.now() })
    })
    child.once('error', () => {
      done = true
      resolve({ code: null, signal: null, at: Date.now() })
    })
  })
  const running = () => !done && child.exitCode === null && child.signalCode === null
  const handle: Child = {
    name: opts.name ?? basename(command),
    child,
    output: () => out,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    running,
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (running()) {
        child.kill(signal)
        let timer: NodeJS.Timeout | undefined
        const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(r, graceMs, true)))])
        clearTimeout(timer)
        if (timedOut) child.kill('SIGKILL')
      }
      return exited
    },
  }
  live.add(handle)
  void exited.then(() => live.delete(handle))
  return handle
}

export interface Finished extends Exit {
  output: string
  stdout: string
  stderr: string
}

/**
 * Runs `command ARGS…` to its end (SIGKILL after `timeoutMs`, if given): how it exited and all it
 * printed (once its outputs are closed). Rejects if it cannot be started.
 */
export function runChild(command: string, args: string[], opts: ChildOptions & { timeoutMs?: number } = {}): Promise<Finished> {
  const c = startChild(command, args, opts)
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => c.child.kill('SIGKILL'), opts.timeoutMs)
  return new Promise((resolve, reject) => {
    c.child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    c.child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, at: Date.now(), output: c.output(), stdout: c.stdout(), stderr: c.stderr() })
    })
  })
}

const PAPERD = ['--import', 'tsx', 'src/cli.ts']

/** `paperd ARGS…` from the sources, as its own process (env: the whole environment, see ChildOptions). */
export function startPaperd(args: string[], opts: ChildOptions = {}): Child {
  return startChild(process.execPath, [...PAPERD, ...args], { name: 'paperd', ...opts })
}

/** `paperd ARGS…` to its end; see runChild. */
export function runPaperd(args: string[], opts: ChildOptions & { timeoutMs?: number } = {}): Promise<Finished> {
  return runChild(process.execPath, [...PAPERD, ...args], { name: 'paperd', ...opts })
}

/** The registered children still running: all of them, or those called `name`. */
export function children(name?: string): Child[] {
  return [...live].filter((c) => name === undefined || c.name === name)
}

export interface Daemon extends Child {
  port: number
}

/** The command as `npm run build` makes it and users run it (package.json's bin: bundled, ops/bundle-cli.ts). */
const BUILT = JSON.parse(readFileSync('package.json', 'utf8')).bin.paperd as string

/**
 * `paperd start ARGS…` as its own process against the stack's servers; resolves once /readyz says
 * ready. From the sources, or with `built` the built command (npm test builds it first).
 */
export async function spawnDaemon(stack: Stack, args: string[], env: Record<string, string> = {}, opts: { built?: boolean } = {}): Promise<Daemon> {
  const port = await freePort()
  const argv = ['start', ...args]
  const daemon = startChild(process.execPath, opts.built ? [BUILT, ...argv] : [...PAPERD, ...argv], {
    name: 'paperd',
    env: {
      ...process.env,
      NATS_URL: stack.nats.url,
      DATABASE_URL: stack.db.url,
      METRICS_PORT: String(port),
      LOG_LEVEL: process.env.TEST_CHILD_LOG_DIR ? 'debug' : 'info',
      PAPERD_WARM_UP_BARS: TEST_WARM_UP_BARS,
      ...env,
    },
  })
  for (const deadline = Date.now() + 30_000; ; ) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ready) break
    if (daemon.child.exitCode !== null || Date.now() > deadline) throw new Error(`daemon did not become ready:\n${daemon.output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return { ...daemon, port }
}

/** A failed test must not leave a daemon behind, reconnecting forever to a server that is gone. */
export function killSpawned(): void {
  for (const c of children('paperd')) c.child.kill('SIGKILL')
}
