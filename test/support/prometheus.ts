// Prometheus's own tools for the tests: `promtool check metrics` / `check rules` / `test rules`, and a real
// `prometheus` on a free port with its storage in a temp dir (never the packaged service on 9090).
// Like nats-server and Postgres, a missing binary is an error with the install command, never a skip.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { findOnPath } from '../../src/adapters/nats/local-server.js'
import { freePort, runChild, startChild } from './process.js'

const INSTALL =
  'run scripts/setup test (npm test does), or install it: apt-get install --no-install-recommends prometheus (Debian/Ubuntu), brew install prometheus — tests never skip'

export function prometheusBinary(name: 'promtool' | 'prometheus'): string {
  const bin = findOnPath(name)
  if (!bin) throw new Error(`${name} not found on PATH: ${INSTALL}`)
  return bin
}

export interface ToolResult {
  code: number | null
  stdout: string
  stderr: string
}

async function run(bin: string, args: string[], stdin?: string): Promise<ToolResult> {
  const { code, stdout, stderr } = await runChild(bin, args, { input: stdin ?? '' })
  return { code, stdout, stderr }
}

/**
 * `promtool check metrics` on an exposition: every lint problem it prints ("<metric> <problem>"),
 * one per line; empty when clean. A failure to parse is a problem too.
 */
export async function promtoolCheckMetrics(exposition: string): Promise<{ problems: string[]; result: ToolResult }> {
  const result = await run(prometheusBinary('promtool'), ['check', 'metrics'], exposition)
  const problems = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  if (result.code !== 0 && problems.length === 0) problems.push(`promtool exited ${result.code} without saying why`)
  return { problems, result }
}

export async function promtoolCheckRules(file: string): Promise<ToolResult> {
  return run(prometheusBinary('promtool'), ['check', 'rules', file])
}

/** `promtool test rules` on rule unit-test files (each names its rule files relative to itself). */
export async function promtoolTestRules(files: string[]): Promise<ToolResult> {
  return run(prometheusBinary('promtool'), ['test', 'rules', ...files])
}

/** `promtool check config` on a Prometheus config given as text (it also checks its rule files). */
export async function promtoolCheckConfig(config: string): Promise<ToolResult> {
  const dir = mkdtempSync(join(tmpdir(), 'paperd-promtool-'))
  try {
    writeFileSync(join(dir, 'prometheus.yml'), config)
    return await run(prometheusBinary('promtool'), ['check', 'config', join(dir, 'prometheus.yml')])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface PrometheusServer {
  url: string
  /** An instant query through /api/v1/query: the result vector (empty when nothing matches yet). */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>
  /** Polls `expr` until it returns at least one sample, or throws with what Prometheus said. */
  waitFor(expr: string, timeoutMs?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]>
  output(): string
  stop(): Promise<void>
}

/** A real prometheus scraping `targets` (host:port) every `scrapeInterval`, as job "paperd". */
export async function startPrometheus(opts: { targets: string[]; scrapeInterval?: string; ruleFiles?: string[] }): Promise<PrometheusServer> {
  const bin = prometheusBinary('prometheus')
  const dir = mkdtempSync(join(tmpdir(), 'paperd-prometheus-'))
  const interval = opts.scrapeInterval ?? '1s'
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    `rule_files: ${JSON.stringify(opts.ruleFiles ?? [])}`,
    'scrape_configs:',
    '  - job_name: paperd',
    '    static_configs:',
    `      - targets: ${JSON.stringify(opts.targets)}`,
    '',
  ].join('\n')
  writeFileSync(join(dir, 'prometheus.yml'), config)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const server = startChild(
    bin,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { keep: 16_384 },
  )
  const stop = async () => {
    await server.stop('SIGTERM', 5000)
    rmSync(dir, { recursive: true, force: true })
  }

  for (const deadline = Date.now() + 30_000; ; ) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    )
    if (ready) break
    if (server.child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`prometheus did not become ready (exit code ${server.child.exitCode}):\n${server.output()}`)
    }
    await sleep(100)
  }

  const query: PrometheusServer['query'] = async (expr) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)
    const body = (await res.json()) as {
      status: string
      error?: string
      data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }
    }
    if (body.status !== 'success') throw new Error(`prometheus query ${expr}: ${body.error ?? res.status}`)
    return body.data!.result
  }
  return {
    url,
    query,
    async waitFor(expr, timeoutMs = 30_000) {
      for (const deadline = Date.now() + timeoutMs; ; ) {
        const result = await query(expr)
        if (result.length) return result
        if (Date.now() > deadline) {
          const targets = await fetch(`${url}/api/v1/targets`).then(
            (r) => r.text(),
            (err) => String(err),
          )
          throw new Error(`prometheus returned nothing for ${expr} within ${timeoutMs} ms; targets: ${targets}\n${server.output()}`)
        }
        await sleep(250)
      }
    },
    output: server.output,
    stop,
  }
}
