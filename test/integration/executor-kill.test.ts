// The risk gate and the paper executor, each its own process (`paperd start --actors risk-gate`,
// `--actors paper-executor`), SIGKILLed in turn while a replay of seven strategies (stops, targets,
// shorts, reversals, risk_pct sizing on an ATR stop, limit and stop-limit entries) is visibly being
// traded: the bars go in five stretches, and after each of the first four a kill lands once new fills
// have appeared since the last one.
// Restarted, they must end exactly like an uninterrupted run: every fill equals the in-process
// backtest's, and every account's cash the independent reference broker's, once `replay --wait`
// returns. (A longer, random version of this is `npm run soak`.)
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBacktest } from '../../src/app/backtest.js'
import { parseConfig } from '../../src/config/env.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { replayBars } from '../../src/app/replay.js'
import { configOf, LANGUAGE_CASES } from '../support/language-cases.js'
import { killSpawned, spawnDaemon, type Daemon } from '../support/process.js'
import { referenceBroker, type RefBar } from '../support/reference-strategy-broker.js'
import { startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars as RefBar[]
const config = configOf(LANGUAGE_CASES, 'ORCL')
const configFile = join(mkdtempSync(join(tmpdir(), 'paperd-kill-')), 'config.json')
writeFileSync(configFile, JSON.stringify(config))

describe('killing the risk gate and the executor mid-replay', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack(config)
    await stack.start(['market-snapshots', 'indicators', 'strategy', 'persister'])
  })
  afterAll(async () => {
    killSpawned()
    await stack?.close()
  })

  const fills = async () => Number((await stack.sql<{ n: string }[]>`select count(*) as n from trades`)[0]!.n)

  it('SIGKILLed in turn while fills come in: afterwards every fill and every cash balance equal an uninterrupted run', async () => {
    const start = {
      'risk-gate': () => spawnDaemon(stack, ['--actors', 'risk-gate', '--config', configFile]),
      'paper-executor': () => spawnDaemon(stack, ['--actors', 'paper-executor', '--config', configFile]),
    }
    const running: Record<keyof typeof start, Daemon> = { 'risk-gate': await start['risk-gate'](), 'paper-executor': await start['paper-executor']() }
    // Five stretches of ~2 s of bars each; after each of the first four, once new fills have
    // appeared (the pipeline still at work on it), one of the two is killed and restarted. Four
    // kills whatever the machine's load: a slow machine only lands them later in the work.
    const kills: string[] = []
    let seen = await fills()
    const victims = ['paper-executor', 'risk-gate', 'paper-executor', 'risk-gate'] as const
    const stretch = Math.ceil(bars.length / (victims.length + 1))
    for (let k = 0; k <= victims.length; k++) {
      const replay = replayBars(stack.client, bars.slice(k * stretch, (k + 1) * stretch), { symbol: 'ORCL', timeframe: '1d', speed: 75 })
      const victim = victims[k]
      if (victim) {
        for (const deadline = Date.now() + 30_000; (await fills()) <= seen && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50))
        seen = await fills()
        running[victim].child.kill('SIGKILL')
        expect((await running[victim].exited).signal).toBe('SIGKILL')
        kills.push(victim)
        running[victim] = await start[victim]()
      }
      await replay
    }
    expect(kills).toEqual([...victims])
    // What an operator runs: the same file again (nothing new is stored) and wait for the deployment.
    const wait = await stack.cli(['replay', CSV, '--symbol', 'ORCL', '--wait', '--timeout', '120', '--config', configFile], 150_000)
    expect(wait.code, wait.stderr).toBe(0)

    const run = await runBacktest(parseConfig(config), [{ symbol: 'ORCL', timeframe: '1d', bars }])
    const daemon =
      await stack.sql`select trade_id, account, side, qty::float8 as qty, price::float8 as price, commission::float8 as commission, exit_reason from trades order by trade_id`
    expect(daemon.map((t) => ({ ...t }))).toEqual(
      run.fills
        .map((f) => ({ trade_id: f.id, account: f.account, side: f.side, qty: f.qty, price: f.price, commission: f.commission, exit_reason: f.exit_reason }))
        .sort((a, b) => a.trade_id.localeCompare(b.trade_id)),
    )
    for (const c of LANGUAGE_CASES) {
      const ref = referenceBroker(bars, c.ref)
      const [book] = await stack.sql<{ cash: number }[]>`select cash::float8 as cash from portfolio_state where account = ${c.account}`
      expect(book!.cash, c.account).toBe(ref.cash)
    }
    const positions =
      await stack.sql`select position_id, status, exit_reason, qty::float8 as qty, realized_pnl::float8 as pnl from positions order by position_id`
    const finalPositions = new Map<string, (typeof run.positions)[number]>()
    for (const p of run.positions) finalPositions.set(p.position_id, p)
    expect(positions.map((p) => ({ ...p }))).toEqual(
      [...finalPositions.values()]
        .map((p) => ({ position_id: p.position_id, status: p.status, exit_reason: p.exit_reason, qty: p.qty, pnl: p.realized_pnl }))
        .sort((a, b) => a.position_id.localeCompare(b.position_id)),
    )
    for (const d of Object.values(running)) {
      d.child.kill('SIGTERM')
      expect((await d.exited).code).toBe(0)
    }
  }, 300_000)
})
