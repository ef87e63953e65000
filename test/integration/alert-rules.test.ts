// The alert rules can fire: `promtool test rules` runs the unit tests beside them
// (ops/prometheus/*.test.yml, one per layout: every actor in one process, and split by actor group
// as docker-compose and Railway run it), and every alert of ops/prometheus/alerts.yml is shown there
// firing and staying silent, in each layout — a new alert without both fails here.
// promtool missing is a failure with the install command, never a skip.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ACTOR_NAMES } from '../../src/core/actor.js'
import { prometheusBinary, promtoolTestRules } from '../support/prometheus.js'

const DIR = 'ops/prometheus'

interface RuleTests {
  rule_files: string[]
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[]
}

const rules = (parse(readFileSync(join(DIR, 'alerts.yml'), 'utf8')) as { groups: { rules: { alert?: string; expr: string }[] }[] }).groups.flatMap(
  (g) => g.rules,
)
const alertNames = rules.flatMap((r) => (r.alert ? [r.alert] : []))
const expr = (alert: string) => rules.find((r) => r.alert === alert)!.expr
const testFiles = readdirSync(DIR)
  .filter((f) => f.endsWith('.test.yml'))
  .sort()
const testsOf = (file: string) => parse(readFileSync(join(DIR, file), 'utf8')) as RuleTests

/** Alert names with an expectation in the file: firing (some alert expected) or silent (none). */
function expectations(file: string): { firing: Set<string>; silent: Set<string> } {
  const checks = testsOf(file).tests.flatMap((t) => t.alert_rule_test ?? [])
  return {
    firing: new Set(checks.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname)),
    silent: new Set(checks.filter((c) => (c.exp_alerts ?? []).length === 0).map((c) => c.alertname)),
  }
}

describe('the alert rules fire when they should, in every layout', () => {
  beforeAll(() => {
    prometheusBinary('promtool') // first, so a machine without it fails with the install command
  })

  it('has a promtool test file per layout, each on alerts.yml', () => {
    expect(testFiles).toEqual(['alerts-single-process.test.yml', 'alerts-split.test.yml'])
    for (const file of testFiles) expect(testsOf(file).rule_files, file).toEqual(['alerts.yml'])
    expect(alertNames.length).toBeGreaterThan(10)
  })

  it('promtool test rules passes on them', async () => {
    const result = await promtoolTestRules(testFiles.map((f) => join(DIR, f)))
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/FAILED/)
    expect(result.code).toBe(0)
    expect(result.stdout.match(/SUCCESS/g)).toHaveLength(testFiles.length)
  })

  it('every alert is shown firing, and silent on healthy series, in each layout', () => {
    for (const file of testFiles) {
      const { firing, silent } = expectations(file)
      expect(
        alertNames.filter((a) => !firing.has(a)),
        `${file}: alerts never shown firing`,
      ).toEqual([])
      expect(
        alertNames.filter((a) => !silent.has(a)),
        `${file}: alerts never shown silent`,
      ).toEqual([])
      // …and no test expects an alert that no longer exists (it would pass vacuously when silent).
      expect(
        [...firing, ...silent].filter((a) => !alertNames.includes(a)),
        file,
      ).toEqual([])
    }
  })

  it('the rules that name actors name every one of them', () => {
    const notRunning = [...expr('PaperdActorNotRunning').matchAll(/absent\(paperd_scopes_owned\{actor="([a-z-]+)"\}\)/g)].map((m) => m[1])
    expect(notRunning.sort()).toEqual([...ACTOR_NAMES].sort())
    // The durable → actor pattern of PaperdConsumerStalled: the selector and label_replace agree.
    const patterns = [...expr('PaperdConsumerStalled').matchAll(/"\(([a-z|-]+)\)\(-\.\+\)\?"/g)].map((m) => m[1]!.split('|').sort())
    expect(patterns).toHaveLength(2)
    for (const p of patterns) expect(p).toEqual([...ACTOR_NAMES].sort())
  })
})
