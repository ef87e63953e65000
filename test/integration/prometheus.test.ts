// paperd's metrics, checked by Prometheus's own tools: `promtool check metrics` finds nothing to say
// about the /metrics of either kind of process paperd runs (one thread running every actor; `paperd
// start --threads 2`, whose main thread merges its workers' metrics), both after they traded;
// `promtool check rules` / `check config` accept the alert rules and the docker-compose scrape
// config; and a real prometheus scraping `paperd start` stores the key series, evaluates every
// alert rule without error, and answers queries about them.
// promtool and prometheus missing is a failure with the install command, never a skip.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/core/csv.js'
import { replayBars } from '../../src/app/replay.js'
import { killSpawned, spawnDaemon, type Daemon as Process } from '../support/process.js'
import {
  prometheusBinary,
  promtoolCheckConfig,
  promtoolCheckMetrics,
  promtoolCheckRules,
  startPrometheus,
  type PrometheusServer,
} from '../support/prometheus.js'
import { startStack, type Stack } from '../support/stack.js'

const ALERTS = 'ops/prometheus/alerts.yml'
const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars

/** The value of one sample line of an exposition (`name{labels} value`), or undefined when absent. */
function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** Series (name and labels) that appear more than once: a merge of worker threads gone wrong. */
function duplicateSeries(exposition: string): string[] {
  const seen = new Map<string, number>()
  for (const line of exposition.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const series = line.slice(0, line.lastIndexOf(' '))
    seen.set(series, (seen.get(series) ?? 0) + 1)
  }
  return [...seen].filter(([, n]) => n > 1).map(([s]) => s)
}

describe("paperd's metrics pass Prometheus's own tools", () => {
  let stack: Stack
  let single = ''
  let threaded = ''
  let daemon: Process
  let prometheus: PrometheusServer | undefined

  beforeAll(async () => {
    // First, so a machine without them fails here with the install command.
    prometheusBinary('promtool')
    prometheusBinary('prometheus')
    stack = await startStack()

    // One thread running every actor (what `paperd start --threads 1` runs), after it traded.
    const inProcess = await stack.start()
    await replayBars(stack.client, bars.slice(0, 300), { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    await stack.quiesce()
    single = await fetch(`http://127.0.0.1:${inProcess.http!.port}/metrics`).then((r) => r.text())
    await stack.stopDaemon()

    // `paperd start --threads 2` as operators run it (the built command, bundled, its workers too): it
    // resumes from the checkpoints and trades the next bars, fed at 200 a second so most fills are
    // decided by their bar, as in a live run.
    daemon = await spawnDaemon(stack, ['--config', 'examples/canonical.json', '--threads', '2'], {}, { built: true })
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${daemon.port}`], scrapeInterval: '1s', ruleFiles: [resolve(ALERTS)] })
    await replayBars(stack.client, bars.slice(300, 600), { symbol: 'ORCL', timeframe: '1d', speed: 200 })
    await stack.quiesce()
    threaded = await fetch(`http://127.0.0.1:${daemon.port}/metrics`).then((r) => r.text())
  }, 180_000)

  afterAll(async () => {
    await prometheus?.stop()
    killSpawned()
    await stack?.close()
  })

  it('promtool check metrics is clean on a daemon running every actor in one thread, after it traded', async () => {
    const { problems } = await promtoolCheckMetrics(single)
    expect(problems).toEqual([])
    expect(duplicateSeries(single)).toEqual([])
    // What was measured is there: fills, rows, scopes, consumer lag.
    expect(
      (sample(single, 'paperd_bar_to_fill_seconds_count{trigger="orders"}') ?? 0) + (sample(single, 'paperd_bar_to_fill_seconds_count{trigger="bars"}') ?? 0),
    ).toBeGreaterThan(0)
    expect(sample(single, 'paperd_persister_rows_total{table="trades"}')).toBeGreaterThan(0)
    expect(sample(single, 'paperd_persister_commit_duration_seconds_count{result="ok"}')).toBeGreaterThan(0)
    expect(sample(single, 'paperd_scopes_owned{actor="indicators"}')).toBe(16)
    expect(sample(single, 'paperd_scopes_live{actor="indicators"}')).toBe(16)
    expect(sample(single, 'paperd_consumer_pending_messages{stream="TRADE",consumer="risk-gate-main"}')).toBe(0)
    expect(single).toMatch(/^paperd_process_cpu_seconds_total /m)
  })

  it('promtool check metrics is clean on paperd start --threads 2: worker threads merged, consumer gauges and process metrics once', async () => {
    const { problems } = await promtoolCheckMetrics(threaded)
    expect(problems).toEqual([])
    expect(duplicateSeries(threaded)).toEqual([])
    for (const gauge of ['paperd_consumer_pending_messages', 'paperd_consumer_ack_pending_messages', 'paperd_consumer_redelivered_messages']) {
      expect(sample(threaded, `${gauge}{stream="TRADE",consumer="risk-gate-main"}`), gauge).toBe(0)
      expect(sample(threaded, `${gauge}{stream="MD",consumer="paper-executor-main-bars"}`), gauge).toBe(0)
    }
    expect(threaded.match(/^# TYPE paperd_process_cpu_seconds_total /gm)).toHaveLength(1)
    for (const actor of ['market-snapshots', 'indicators', 'strategy', 'risk-gate', 'paper-executor', 'persister']) {
      expect(sample(threaded, `paperd_scopes_live{actor="${actor}"}`), actor).toBe(sample(threaded, `paperd_scopes_owned{actor="${actor}"}`))
    }
    const fills =
      (sample(threaded, 'paperd_bar_to_fill_seconds_count{trigger="bars"}') ?? 0) +
      (sample(threaded, 'paperd_bar_to_fill_seconds_count{trigger="orders"}') ?? 0)
    const seconds =
      (sample(threaded, 'paperd_bar_to_fill_seconds_sum{trigger="bars"}') ?? 0) + (sample(threaded, 'paperd_bar_to_fill_seconds_sum{trigger="orders"}') ?? 0)
    expect(fills).toBeGreaterThan(0)
    // Wall time from a stored message to the fill's PubAck on one machine: positive, well under 10 s.
    expect(seconds / fills).toBeGreaterThan(0)
    expect(seconds / fills).toBeLessThan(10)
    expect(sample(threaded, 'paperd_persister_rows_total{table="trades"}')).toBeGreaterThan(0)
  })

  it('promtool check rules accepts ops/prometheus/alerts.yml', async () => {
    const result = await promtoolCheckRules(ALERTS)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/SUCCESS: \d+ rules found/)
  })

  it('promtool check config accepts the docker-compose scrape config (ops/prometheus/prometheus.yml) with its rules', async () => {
    // docker-compose mounts alerts.yml at /etc/prometheus/alerts.yml; here it is read where it is.
    const config = readFileSync('ops/prometheus/prometheus.yml', 'utf8').replace('/etc/prometheus/alerts.yml', resolve(ALERTS))
    expect(config).toContain(resolve(ALERTS))
    const result = await promtoolCheckConfig(config)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/SUCCESS: 1 rule files found/)
  })

  it('a real prometheus scrapes paperd start, stores the key series and evaluates every alert rule without error', async () => {
    const p = prometheus!
    const up = await p.waitFor('up{job="paperd"} == 1')
    expect(up).toHaveLength(1)
    await p.waitFor('sum(paperd_messages_total{actor="paper-executor"}) > 0')
    const equity = await p.waitFor('paperd_account_equity{account="main"}')
    expect(Number(equity[0]!.value[1])).toBeGreaterThan(0)
    await p.waitFor('paperd_consumer_pending_messages{stream="TRADE",consumer="risk-gate-main"} == 0')
    await p.waitFor('paperd_consumer_ack_pending_messages{consumer="persister-trade"}')
    await p.waitFor('sum(paperd_bar_to_fill_seconds_count) > 0')
    await p.waitFor('paperd_persister_rows_total{table="trades"} > 0')
    await p.waitFor('sum(paperd_scopes_owned) > 0 and sum(paperd_scopes_owned) == sum(paperd_scopes_live)')
    // Every rule has been evaluated against these series, and none failed (a bad expression, a
    // many-to-many match) — health "ok".
    for (const deadline = Date.now() + 20_000; ; ) {
      const body = (await fetch(`${p.url}/api/v1/rules`).then((r) => r.json())) as {
        data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] }
      }
      const rules = body.data.groups.flatMap((g) => g.rules)
      const notOk = rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`.trim())
      if (rules.length > 10 && notOk.length === 0) break
      if (Date.now() > deadline) expect(notOk).toEqual([])
      await new Promise((r) => setTimeout(r, 250))
    }
    // Everything healthy and live: no alert fires.
    const firing = await p.query('ALERTS{alertstate="firing"}')
    expect(firing.map((s) => s.metric.alertname)).toEqual([])
  })
})
