// The paper executor as its own process (`paperd start --actors paper-executor`), killed with SIGKILL
// twice in the middle of a replay of five strategies with stops, targets, shorts and reversals: once
// restarted, its books and every table must be exactly what an uninterrupted run gives (the
// in-process backtest and the independent reference broker). Working orders survive the kills.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACTOR_NAMES } from '../../src/actor.js'
import { runBacktest } from '../../src/backtest.js'
import { parseConfig } from '../../src/config.js'
import { parseBarsCsv } from '../../src/csv.js'
import { replayBars } from '../../src/replay.js'
import { configOf, LANGUAGE_CASES } from '../support/language-cases.js'
import { killSpawned, spawnDaemon } from '../support/process.js'
import { referenceBroker, type RefBar } from '../support/reference-strategy-broker.js'
import { startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars as RefBar[]
const config = configOf(LANGUAGE_CASES, 'ORCL')
const configFile = join(mkdtempSync(join(tmpdir(), 'paperd-kill-')), 'config.json')
writeFileSync(configFile, JSON.stringify(config))

describe('killing the executor mid-replay', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack(config)
    await stack.start(ACTOR_NAMES.filter((a) => a !== 'paper-executor'))
  })
  afterAll(async () => {
    killSpawned()
    await stack?.close()
  })

  it('twice with SIGKILL: after a restart the tables equal an uninterrupted run', async () => {
    const executor = () => spawnDaemon(stack, ['--actors', 'paper-executor', '--config', configFile])
    const replay = replayBars(stack.client, bars, { symbol: 'ORCL', timeframe: '1d', speed: 150 }) // ~5 s of bars: both kills land while they flow
    for (const after of [250, 400]) {
      const victim = await executor()
      await new Promise((r) => setTimeout(r, after))
      victim.child.kill('SIGKILL')
      expect((await victim.exited).signal).toBe('SIGKILL')
    }
    await replay
    const survivor = await executor()
    await stack.quiesce(90_000)
    survivor.child.kill('SIGTERM')
    expect((await survivor.exited).code).toBe(0)

    const run = await runBacktest(parseConfig(config), [{ symbol: 'ORCL', timeframe: '1d', bars }])
    const daemon = await stack.sql`select trade_id, account, side, qty::float8 as qty, price::float8 as price, commission::float8 as commission, exit_reason from trades order by trade_id`
    expect(daemon.map((t) => ({ ...t }))).toEqual(
      run.fills.map((f) => ({ trade_id: f.id, account: f.account, side: f.side, qty: f.qty, price: f.price, commission: f.commission, exit_reason: f.exit_reason })).sort((a, b) => a.trade_id.localeCompare(b.trade_id)),
    )
    for (const c of LANGUAGE_CASES) {
      const ref = referenceBroker(bars, c.ref)
      const [book] = await stack.sql<{ cash: number }[]>`select cash::float8 as cash from portfolio_state where account = ${c.account}`
      expect(book!.cash, c.account).toBe(ref.cash)
    }
    const positions = await stack.sql`select position_id, status, exit_reason, qty::float8 as qty, realized_pnl::float8 as pnl from positions order by position_id`
    const finalPositions = new Map<string, (typeof run.positions)[number]>()
    for (const p of run.positions) finalPositions.set(p.position_id, p)
    expect(positions.map((p) => ({ ...p }))).toEqual([...finalPositions.values()].map((p) => ({ position_id: p.position_id, status: p.status, exit_reason: p.exit_reason, qty: p.qty, pnl: p.realized_pnl })).sort((a, b) => a.position_id.localeCompare(b.position_id)))
  }, 180_000)
})
