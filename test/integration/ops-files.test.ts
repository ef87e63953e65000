// The operations files name only what exists: every metric the alert rules and the Grafana dashboard
// use is served by a running daemon's /metrics, and every table the dashboard queries is in the
// database the migrations build.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/csv.js'
import { replayBars } from '../../src/replay.js'
import { startStack, type Stack } from '../support/stack.js'

const ALERTS = readFileSync('ops/prometheus/alerts.yml', 'utf8')
const DASHBOARD = JSON.parse(readFileSync('ops/grafana/dashboards/paperd.json', 'utf8')) as { panels: { targets: { expr?: string; rawSql?: string }[] }[] }
const exprs = DASHBOARD.panels.flatMap((p) => p.targets.map((t) => t.expr ?? '')).join('\n')
const sqls = DASHBOARD.panels.flatMap((p) => p.targets.map((t) => t.rawSql ?? '')).filter(Boolean)

/** paperd metric families named in a text (histogram series map to their family). */
const metricNames = (text: string) => [...new Set([...text.matchAll(/\bpaperd_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')))].sort()

describe('ops files name only what exists', () => {
  let stack: Stack
  let metrics = ''
  beforeAll(async () => {
    stack = await startStack()
    const daemon = await stack.start()
    const bars = parseBarsCsv(readFileSync('test/fixtures/ORCL-daily.csv', 'utf8')).bars.slice(0, 300)
    await replayBars(stack.client, bars, { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    await stack.quiesce()
    metrics = await fetch(`http://127.0.0.1:${daemon.http!.port}/metrics`).then((r) => r.text())
  })
  afterAll(async () => stack?.close())

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

  it('every table the dashboard queries exists', async () => {
    const tables = [...new Set(sqls.flatMap((q) => [...q.matchAll(/\bfrom\s+([a-z0-9_]+)/gi)].map((m) => m[1]!)))]
    expect(tables.length).toBeGreaterThan(5)
    const existing = new Set((await stack.sql<{ table_name: string }[]>`select table_name from information_schema.tables where table_schema = 'public'`).map((r) => r.table_name))
    expect(tables.filter((t) => !existing.has(t))).toEqual([])
  })
})
