// `paperd replay --wait` waits for the work of the whole deployment, not only for the durables that
// happen to exist: with the paper-executor never started it fails at --timeout naming it (with the
// config, and without one), and once the executor runs the same replay returns and the trades equal
// the independent reference broker.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACTOR_NAMES } from '../../src/core/actor.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { CANONICAL, startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const reference = smaCrossReference(bars, { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 })
const configFile = join(mkdtempSync(join(tmpdir(), 'paperd-wait-')), 'config.json')
writeFileSync(configFile, JSON.stringify(CANONICAL))

describe('paperd replay --wait with an actor that never ran', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
    await stack.start(ACTOR_NAMES.filter((a) => a !== 'paper-executor'))
  })
  afterAll(async () => stack?.close())

  it('fails at --timeout naming the paper-executor and its missing durables; once the executor runs, the same replay returns and the trades equal the reference', async () => {
    const replay = (timeout: number, ...more: string[]) => stack.cli(['replay', CSV, '--symbol', 'ORCL', '--wait', '--timeout', String(timeout), ...more])

    const absent = await replay(5, '--config', configFile)
    expect(absent.code, absent.stderr).toBe(1)
    expect(absent.stderr).toMatch(
      /^paperd: still processing after 5 s: waiting for (risk-gate: \d+ held in main; )?paper-executor \(no live instance\): durables paper-executor-main-orders, paper-executor-main-bars missing/m,
    )
    expect(absent.stderr).not.toContain('every actor has processed everything')
    expect(await stack.trades()).toEqual([])

    // Without a config it still knows the six actors of every deployment.
    const unconfigured = await replay(3)
    expect(unconfigured.code, unconfigured.stderr).toBe(1)
    expect(unconfigured.stderr).toMatch(/^paperd: still processing after 3 s: waiting for (risk-gate: \d+ held in main; )?paper-executor \(no live instance\)/m)

    // paperd status names the gap too.
    const status = await stack.cli(['status', '--config', configFile])
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toMatch(
      /^gaps\n( {2}risk-gate: \d+ held in main\n)? {2}paper-executor \(no live instance\): durables paper-executor-main-orders, paper-executor-main-bars missing$/m,
    )

    await stack.start(['paper-executor'])
    const run = await replay(60, '--config', configFile)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain('every actor has processed everything')
    expect(await stack.trades()).toEqual(reference.fills)
    const status2 = await stack.cli(['status', '--config', configFile])
    expect(status2.stdout).toMatch(/^gaps\n {2}none/m)
  }, 120_000)
})
