// The deployment files CI cannot run (no Docker engine, no Railway) still have to agree with the
// code and with each other: every file they mount exists, every command parses as paperd would
// parse it, every NATS user they connect as exists in ops/nats/nats-server.conf with a password the
// NATS service is given, Prometheus discovers exactly the paperd services, the images are what
// the README promises (NATS ≥ 2.10, a multi-stage non-root image with a health check), and the
// dashboard and alert queries hold when every actor group is its own process.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ACTOR_NAMES } from '../../src/core/actor.js'
import { DEFAULT_METRICS_PORT, loadConfigFile, parseActorList } from '../../src/config/env.js'
import { subjectMatches } from '../../src/core/subjects.js'
import { CONTROL_OWNERS, CONTROL_SUBJECTS, ownerPermission, ownerSubject, runningSubject } from '../../src/control/requests.js'

interface Service {
  image?: string
  build?: unknown
  command?: string[]
  volumes?: (string | { source: string })[]
  environment?: Record<string, string>
  deploy?: { replicas?: number }
  depends_on?: unknown
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service> }
const natsConf = readFileSync('ops/nats/nats-server.conf', 'utf8')
const paperdServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined)

/** `--flag value` from a paperd command line. */
const flag = (args: string[], name: string) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

/** Users of the NATS config: name → the variable holding its password. */
const natsUsers = new Map([...natsConf.matchAll(/\{\s*user:\s*([\w-]+),\s*password:\s*\$(\w+)/g)].map((m) => [m[1]!, m[2]!]))

/** A user's allow lists in ops/nats/nats-server.conf. */
function natsPermissions(user: string): { publish: string[]; subscribe: string[] } {
  const block = new RegExp(
    `\\{\\s*user:\\s*${user},[^\\n]*\\n\\s*publish: \\{ allow: \\[([^\\]]*)\\] \\}\\n\\s*subscribe: \\{ allow: \\[([^\\]]*)\\] \\}`,
  ).exec(natsConf)
  if (!block) throw new Error(`no permissions for user ${user} in ops/nats/nats-server.conf`)
  const list = (text: string) => [...text.matchAll(/"([^"]+)"/g)].map((m) => m[1]!)
  return { publish: list(block[1]!), subscribe: list(block[2]!) }
}

/** Whether one of the allowed patterns matches the subject. */
const allowed = (patterns: string[], subject: string) => patterns.some((p) => subjectMatches(p, subject))

const versionOf = (image: string) => image.split(':')[1]!.split('-')[0]!.split('.').map(Number)

describe('docker-compose.yml', () => {
  it('mounts only files and folders that exist', () => {
    const sources = Object.values(compose.services)
      .flatMap((s) => s.volumes ?? [])
      .map((v) => (typeof v === 'string' ? v.split(':')[0]! : v.source))
      .filter((src) => src.startsWith('./'))
    expect(sources.length).toBeGreaterThan(3)
    for (const src of sources) expect(existsSync(src), src).toBe(true)
  })

  it('runs NATS as a three-node cluster pinned at 2.10 or later, with JetStream configured by ops/nats', () => {
    const nodes = Object.entries(compose.services).filter(([name]) => /^nats-\d$/.test(name))
    expect(nodes.map(([name]) => name)).toEqual(['nats-1', 'nats-2', 'nats-3'])
    const routes = nodes.map(([name]) => `nats-route://${name}:6222`).join(',')
    for (const [name, nats] of nodes) {
      const [major, minor] = versionOf(nats.image!)
      expect(major! > 2 || (major === 2 && minor! >= 10), nats.image).toBe(true)
      const args = nats.command!
      expect(args.slice(0, 3), name).toEqual(['nats-server', '-c', '/etc/nats/nats-server.conf'])
      expect(flag(args, '--name'), name).toBe(name)
      expect(flag(args, '--cluster_name'), name).toBe('paperd')
      expect(flag(args, '--routes'), name).toBe(routes)
      // Every password the config reads from the environment is given to each node.
      for (const variable of natsUsers.values()) expect(nats.environment, `${name} ${variable}`).toHaveProperty(variable)
    }
    expect(natsConf).toMatch(/^jetstream \{/m)
    expect([...natsUsers.keys()].sort()).toEqual([...ACTOR_NAMES, 'operator', 'paperd'].sort())
  })

  it('lets the users of the control actors take their ctl.* requests and route them (src/control/requests.ts)', () => {
    for (const subject of CONTROL_SUBJECTS) {
      const actor = CONTROL_OWNERS[subject]
      const routed = [ownerSubject(actor, 'main', subject), runningSubject(actor)]
      for (const user of [actor, 'paperd']) {
        const { publish, subscribe } = natsPermissions(user)
        expect(allowed(subscribe, subject), `${user} subscribes ${subject}`).toBe(true)
        for (const s of routed) {
          expect(allowed(publish, s), `${user} publishes ${s}`).toBe(true)
          expect(allowed(subscribe, s), `${user} subscribes ${s}`).toBe(true)
        }
      }
      expect(natsPermissions(actor).publish, actor).toContain(ownerPermission(actor))
      expect(allowed(natsPermissions('operator').publish, subject), `operator publishes ${subject}`).toBe(true)
    }
    // Another actor's user may not answer for these accounts.
    expect(allowed(natsPermissions('strategy').subscribe, ownerSubject('risk-gate', 'main', 'ctl.risk.halt'))).toBe(false)
  })

  it('runs paperd split by actor group, every actor somewhere, each under a NATS user that exists', () => {
    const running = new Set<string>()
    for (const [name, s] of paperdServices) {
      const args = s.command!
      expect(args[0], name).toBe('start')
      const actors = parseActorList(flag(args, '--actors'))
      for (const a of actors) running.add(a)
      const config = flag(args, '--config')
      if (config) expect(() => loadConfigFile(config), name).not.toThrow()
      // Every node of the cluster, credentials on the first; streams and buckets with three copies.
      const urls = s.environment!.NATS_URL!.split(',').map((u) => new URL(u))
      expect(
        urls.map((u) => u.host),
        name,
      ).toEqual(['nats-1:4222', 'nats-2:4222', 'nats-3:4222'])
      expect(s.environment!.PAPERD_STREAM_REPLICAS, name).toBe('3')
      const user = urls[0]!.username
      expect(natsUsers.has(user), `${name}: NATS user ${user}`).toBe(true)
      // A service of one actor connects as that actor's user; several actors need the all-actors user.
      expect(user, name).toBe(actors.length === 1 ? actors[0] : 'paperd')
      if (actors.includes('persister')) expect(s.environment!.DATABASE_URL, name).toMatch(/^postgres:\/\//)
    }
    expect([...running].sort()).toEqual([...ACTOR_NAMES].sort())
    // Every group runs more than one replica: leases share out the scopes.
    for (const [name, s] of paperdServices) expect(s.deploy?.replicas ?? 1, name).toBeGreaterThan(1)
  })

  it('has Prometheus discover exactly the paperd services, on the metrics port they serve', () => {
    const prom = parse(readFileSync('ops/prometheus/prometheus.yml', 'utf8')) as { scrape_configs: { dns_sd_configs: { names: string[]; port: number }[] }[] }
    const sd = prom.scrape_configs.flatMap((c) => c.dns_sd_configs ?? [])
    expect(sd.flatMap((d) => d.names).sort()).toEqual(paperdServices.map(([n]) => n).sort())
    for (const d of sd) expect(paperdServices.every(([, s]) => Number(s.environment!.METRICS_PORT) === d.port)).toBe(true)
  })
})

describe('Dockerfile', () => {
  const text = readFileSync('Dockerfile', 'utf8')
  it('is multi-stage, on an even-numbered (LTS) Node, runs as a non-root user, and has a health check', () => {
    const froms = [...text.matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]))
    expect(froms.length).toBeGreaterThanOrEqual(2)
    for (const major of froms) expect(major % 2, `node:${major}`).toBe(0)
    expect(text).toMatch(/^USER (?!root)\w+/m)
    expect(text).toMatch(/^HEALTHCHECK .*\/healthz/m)
  })

  it('health-checks the port paperd serves: METRICS_PORT, else PORT (Railway sets it), else the default', () => {
    expect(text).toMatch(new RegExp(`^HEALTHCHECK .*process\\.env\\.METRICS_PORT\\|\\|process\\.env\\.PORT\\|\\|${DEFAULT_METRICS_PORT}\\)`, 'm'))
  })

  it('gets a build context without local state: no node_modules, build output or ./data (an embedded database)', () => {
    const ignored = readFileSync('.dockerignore', 'utf8')
      .split('\n')
      .map((l) => l.trim())
    for (const entry of ['.git', 'node_modules', 'dist', 'data']) expect(ignored, entry).toContain(entry)
  })
})

describe('ops/railway', () => {
  const files = readdirSync('ops/railway').filter((f) => f.endsWith('.json'))
  it('gives every paperd service a start command paperd accepts, /readyz, and more draining time than a shutdown takes', () => {
    const running = new Set<string>()
    for (const file of files.filter((f) => f.startsWith('paperd-'))) {
      const { build, deploy } = JSON.parse(readFileSync(join('ops/railway', file), 'utf8'))
      expect(existsSync(build.dockerfilePath), file).toBe(true)
      const args = (deploy.startCommand as string).split(/\s+/)
      expect(args.slice(0, 3), file).toEqual(['node', 'dist/src/cli.js', 'start'])
      for (const a of parseActorList(flag(args, '--actors'))) running.add(a)
      expect(deploy.healthcheckPath, file).toBe('/readyz')
      expect(deploy.drainingSeconds, file).toBeGreaterThan(12) // SHUTDOWN_LIMIT_MS in src/cli.ts
      expect(deploy.numReplicas, file).toBeGreaterThan(1)
    }
    expect([...running].sort()).toEqual([...ACTOR_NAMES].sort())
  })

  it('builds NATS from the same locked-down config, pinned at 2.10 or later', () => {
    const nats = JSON.parse(readFileSync('ops/railway/nats.json', 'utf8'))
    const dockerfile = readFileSync(nats.build.dockerfilePath, 'utf8')
    const image = /^FROM (nats:\S+)/m.exec(dockerfile)![1]!
    const [major, minor] = versionOf(image)
    expect(major! > 2 || (major === 2 && minor! >= 10), image).toBe(true)
    expect(dockerfile).toContain('COPY ops/nats/nats-server.conf /etc/nats/nats-server.conf')
    expect(nats.deploy.startCommand).toBe('nats-server -c /etc/nats/nats-server.conf')
  })
})

describe('the Grafana dashboard and the alert rules', () => {
  const dashboard = JSON.parse(readFileSync('ops/grafana/dashboards/paperd.json', 'utf8')) as {
    panels: { title: string; targets: { expr?: string; legendFormat?: string }[] }[]
  }
  const queries = dashboard.panels.flatMap((p) =>
    p.targets.filter((t) => t.expr !== undefined).map((t) => ({ panel: p.title, expr: t.expr!, legend: t.legendFormat })),
  )
  const alerts = (parse(readFileSync('ops/prometheus/alerts.yml', 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap(
    (g) => g.rules,
  )
  /** The expression without its quoted strings (label values, regexes), so only operators remain. */
  const operators = (expr: string) => expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')

  it('gives every panel a unit, and lets the $account variable choose the accounts of every per-account query', () => {
    const full = JSON.parse(readFileSync('ops/grafana/dashboards/paperd.json', 'utf8')) as {
      templating: { list: { name: string; query: { query: string }; multi: boolean; includeAll: boolean }[] }
      panels: { title: string; fieldConfig?: { defaults?: { unit?: string } }; targets: { expr?: string; rawSql?: string }[] }[]
    }
    expect(full.panels.filter((p) => !p.fieldConfig?.defaults?.unit).map((p) => p.title)).toEqual([])
    const account = full.templating.list.find((v) => v.name === 'account')!
    expect(account).toMatchObject({ multi: true, includeAll: true })
    expect(account.query.query).toMatch(/^label_values\(paperd_\w+, account\)$/)
    for (const p of full.panels)
      for (const t of p.targets) {
        if (t.expr?.includes('by (account)')) expect(t.expr, p.title).toMatch(/\{account=~"\$account"\}/)
        if (t.rawSql && /\baccount\b/.test(t.rawSql)) expect(t.rawSql, p.title).toContain('account in ($account)')
      }
  })

  it('draws one query per series: no panel joins metrics with `or`, which hides one wherever their labels match', () => {
    expect(queries.length).toBeGreaterThan(20)
    expect(queries.filter((q) => /\bor\b/i.test(operators(q.expr))).map((q) => `${q.panel}: ${q.expr}`)).toEqual([])
    // Several queries in a panel: each names its series.
    for (const p of dashboard.panels.filter((p) => p.targets.filter((t) => t.expr).length > 1)) {
      for (const t of p.targets) expect(t.legendFormat, `${p.title}: ${t.expr}`).toBeTruthy()
    }
  })

  it('counts each durable once: every process exports the consumer gauges, so every query takes max by (stream, consumer)', () => {
    const consumerQueries = [...queries.map((q) => q.expr), ...alerts.map((a) => a.expr)].filter((e) => e.includes('paperd_consumer_'))
    expect(consumerQueries.length).toBeGreaterThanOrEqual(4)
    for (const e of consumerQueries) {
      const uses = e.match(/paperd_consumer_[a-z_]+/g)!.length
      const aggregated = e.match(/max by \(stream, consumer\) \((?:delta\()?paperd_consumer_[a-z_]+/g)?.length ?? 0
      expect(aggregated, e).toBe(uses)
    }
  })
})
