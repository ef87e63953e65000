// The operations files name only what exists: every metric the alert rules and the Grafana dashboard
// use is served by a running daemon's /metrics, the promtool tests of the rules feed them series
// with the labels paperd exports, the series the rules read exist from a process's start, and every
// table the dashboard queries is in the database the migrations build.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ACTOR_NAMES } from '../../src/core/actor.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { replayBars } from '../../src/app/replay.js'
import { alpacaStandIn, type StandIn } from '../support/provider-stand-ins.js'
import { CANONICAL, startStack, type Stack } from '../support/stack.js'

const ALERTS = readFileSync('ops/prometheus/alerts.yml', 'utf8')
const DASHBOARD = JSON.parse(readFileSync('ops/grafana/dashboards/paperd.json', 'utf8')) as { panels: { targets: { expr?: string; rawSql?: string }[] }[] }
const exprs = DASHBOARD.panels.flatMap((p) => p.targets.map((t) => t.expr ?? '')).join('\n')
const sqls = DASHBOARD.panels.flatMap((p) => p.targets.map((t) => t.rawSql ?? '')).filter(Boolean)

/** The input series of the promtool tests of the alert rules (ops/prometheus/*.test.yml). */
const RULE_TEST_SERIES = readdirSync('ops/prometheus')
  .filter((f) => f.endsWith('.test.yml'))
  .flatMap((f) => (parse(readFileSync(join('ops/prometheus', f), 'utf8')) as { tests: { input_series: { series: string }[] }[] }).tests)
  .flatMap((t) => t.input_series.map((i) => i.series))
/** Labels a scrape adds (the target's) rather than the process. */
const TARGET_LABELS = new Set(['job', 'instance', 'service'])

/** `name{a="x",b="y"}` → its name and labels. */
function parseSeries(series: string): { name: string; labels: Record<string, string> } {
  const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?$/.exec(series.trim())!
  return { name: m[1]!, labels: Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!])) }
}

/** paperd metric families named in a text (histogram series map to their family). */
const metricNames = (text: string) => [...new Set([...text.matchAll(/\bpaperd_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')))].sort()

describe('ops files name only what exists', () => {
  let stack: Stack
  let alpaca: StandIn
  let metrics = ''
  beforeAll(async () => {
    const bars = parseBarsCsv(readFileSync('test/fixtures/ORCL-daily.csv', 'utf8')).bars.slice(0, 300)
    // A feed (of another symbol) exports the paperd_feed_* series.
    alpaca = await alpacaStandIn({ FEEDX: bars.slice(0, 40) }, { keyId: 'k', secret: 's', pageSize: 1000 })
    // A strategy with a session window (always open) exports paperd_strategy_session_open.
    stack = await startStack({
      ...CANONICAL,
      strategies: CANONICAL.strategies.map((s) => ({ ...s, session_windows: [{}] })),
      feeds: [{ provider: 'alpaca', symbols: ['FEEDX'], start: '2015-01-01' }],
    })
    const daemon = await stack.start(undefined, { APCA_API_KEY_ID: 'k', APCA_API_SECRET_KEY: 's', APCA_API_DATA_URL: alpaca.url })
    await replayBars(stack.client, bars, { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    const scrape = () => fetch(`http://127.0.0.1:${daemon.http!.port}/metrics`).then((r) => r.text())
    for (let i = 0; i < 600 && !/^paperd_feed_bars_behind\{/m.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 50))
      metrics = await scrape()
    }
    await stack.quiesce()
    metrics = await scrape()
  }, 120_000)
  afterAll(async () => {
    await stack?.close()
    await alpaca?.close()
  })

  it('every metric of the alert rules and the dashboard is on /metrics', () => {
    const named = metricNames(`${ALERTS}\n${exprs}`)
    expect(named.length).toBeGreaterThan(10)
    const served = new Set([...metrics.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]))
    expect(named.filter((n) => !served.has(n))).toEqual([])
  })

  it('the account and consumer gauges carry values for the running accounts and durables', () => {
    expect(metrics).toMatch(/^paperd_account_equity\{account="main"\} \d/m)
    expect(metrics).toMatch(/^paperd_account_halted\{account="main"\} 0$/m)
    expect(metrics).toMatch(/^paperd_consumer_pending_messages\{stream="TRADE",consumer="risk-gate-main"\} 0$/m)
    expect(metrics).toMatch(/^paperd_ideas_total\{status="auto_executed"\} [1-9]/m)
  })

  it('the promtool tests of the alert rules use the names and labels paperd exports', () => {
    const served = metrics
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => parseSeries(l.slice(0, l.lastIndexOf(' '))))
    const labelSets = (name: string) => new Set(served.filter((s) => s.name === name).map((s) => Object.keys(s.labels).sort().join(',')))
    const durables = new Set(served.filter((s) => s.name === 'paperd_consumer_pending_messages').map((s) => s.labels.consumer))
    const inTests = RULE_TEST_SERIES.map(parseSeries).filter((s) => s.name !== 'up')
    expect(inTests.length).toBeGreaterThan(100)
    for (const { name, labels } of inTests) {
      const own = Object.keys(labels)
        .filter((l) => !TARGET_LABELS.has(l))
        .sort()
        .join(',')
      expect(labelSets(name), `${name}{${own}}`).toContain(own)
      // A durable of a paperd actor in a test is one paperd creates (other consumers may be anything).
      const consumer = labels.consumer
      if (consumer && ACTOR_NAMES.some((a) => consumer === a || consumer.startsWith(`${a}-`))) expect(durables, consumer).toContain(consumer)
    }
  })

  it('the series the alert rules count exist for every actor a process runs, before their first event', () => {
    for (const actor of ACTOR_NAMES) {
      for (const series of [
        `paperd_dead_letters_total{actor="${actor}"}`,
        `paperd_messages_total{actor="${actor}",outcome="ok"}`,
        `paperd_scopes_owned{actor="${actor}"}`,
        `paperd_scopes_live{actor="${actor}"}`,
      ]) {
        expect(metrics, series).toMatch(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} \\d`, 'm'))
      }
    }
    for (const result of ['ok', 'transient', 'failed'])
      expect(metrics).toMatch(new RegExp(`^paperd_persister_commit_duration_seconds_count\\{result="${result}"\\} \\d`, 'm'))
    expect(metrics).toMatch(/^paperd_strategy_session_open\{strategy="sma-cross"\} 1$/m)
  })

  it('every table the dashboard queries exists', async () => {
    const tables = [...new Set(sqls.flatMap((q) => [...q.matchAll(/\bfrom\s+([a-z0-9_]+)/gi)].map((m) => m[1]!)))]
    expect(tables.length).toBeGreaterThan(5)
    const existing = new Set(
      (await stack.sql<{ table_name: string }[]>`select table_name from information_schema.tables where table_schema = 'public'`).map((r) => r.table_name),
    )
    expect(tables.filter((t) => !existing.has(t))).toEqual([])
  })

  it('every query of the dashboard runs on that database, its macros expanded as Grafana does', async () => {
    for (const q of sqls) {
      const text = q.replace(/\$__timeFilter\((\w+)\)/g, "$1 between now() - interval '1 day' and now()").replace(/\$account\b/g, "'main'")
      await expect(stack.sql.unsafe(text), q).resolves.toBeDefined()
    }
  })
})
