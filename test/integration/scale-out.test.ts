// Three identical `paperd start` processes — same config, every actor — share the work by leases:
// every scope has exactly one owner and each process owns some. While three daily series are
// replayed, a random process is SIGKILLed and restarted every few seconds, and one is frozen
// (SIGSTOP) for longer than a lease lives, then resumed. After `replay --wait`, every fill and every
// point of the equity curve equals an uninterrupted backtest's, every account's cash the independent
// reference broker's, and each scope again has exactly one owner.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstream } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBacktest } from '../../src/app/backtest.js'
import { replayBars } from '../../src/app/replay.js'
import { prng } from '../../src/app/synthetic-bars.js'
import { parseConfig } from '../../src/config/env.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { LEASE_BUCKET } from '../../src/runtime/leases.js'
import { configOf, LANGUAGE_CASES } from '../support/language-cases.js'
import { killSpawned, spawnDaemon, type Daemon } from '../support/process.js'
import { referenceBroker, type RefBar } from '../support/reference-strategy-broker.js'
import { startStack, type Stack } from '../support/stack.js'

const TTL_MS = 2000
const CSV = 'test/fixtures/ORCL-daily.csv'
const orcl = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars as RefBar[]
// Three series in three partitions: the real one, and two others made from it (prices scaled, so
// sizes, cash and costs differ; the shape — and so the signals — stays real market data).
const SERIES = [
  { symbol: 'ORCL', scale: 1 },
  { symbol: 'ORCB', scale: 0.37 },
  { symbol: 'ORCC', scale: 2.9 },
].map(({ symbol, scale }) => ({
  symbol,
  bars: orcl.map((b) => ({ ...b, open: round(b.open * scale), high: round(b.high * scale), low: round(b.low * scale), close: round(b.close * scale) })),
}))
function round(x: number) {
  return Math.round(x * 10_000) / 10_000
}

// Every language case on every series: one account each.
const cases = SERIES.flatMap((s) => LANGUAGE_CASES.map((c) => ({ ...c, account: `${c.account}-${s.symbol.toLowerCase()}`, series: s })))
const config = {
  accounts: cases.flatMap((c) => configOf([c], c.series.symbol).accounts),
  strategies: cases.flatMap((c) => configOf([c], c.series.symbol).strategies),
}
const dir = mkdtempSync(join(tmpdir(), 'paperd-scale-'))
const configFile = join(dir, 'config.json')
writeFileSync(configFile, JSON.stringify(config))
const csvOf = (s: (typeof SERIES)[number]) => {
  const file = join(dir, `${s.symbol}.csv`)
  writeFileSync(
    file,
    `Date,Open,High,Low,Close,Volume\n${s.bars.map((b) => `${b.ts.slice(0, 10)},${b.open},${b.high},${b.low},${b.close},${b.volume}`).join('\n')}\n`,
  )
  return file
}

describe('three identical processes under leases', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack(config)
  })
  afterAll(async () => {
    killSpawned()
    await stack?.close()
  })

  const start = () =>
    spawnDaemon(stack, ['--config', configFile, '--threads', '1'], {
      PAPERD_LEASE_TTL_MS: String(TTL_MS),
      LOG_LEVEL: process.env.TEST_CHILD_LOG_DIR ? 'debug' : 'warn',
    })

  /** actor.scope → owner, from the lease bucket. */
  async function owners(): Promise<Map<string, string>> {
    const kv = await new Kvm(jetstream(stack.client)).open(LEASE_BUCKET)
    const out = new Map<string, string>()
    const keys: string[] = []
    for await (const k of await kv.keys('scope.>')) keys.push(k)
    for (const k of keys) {
      const e = await kv.get(k)
      if (e?.operation === 'PUT') out.set(k.slice('scope.'.length), e.json<{ instance: string }>().instance)
    }
    return out
  }
  /** Every scope of the deployment: 16 partitions of market-snapshots, indicators and strategy, one per account for the gate and the executor. */
  const SCOPES = 1 + 16 * 3 + cases.length * 2 // the market-data router, three actors × 16 partitions, the gate and the executor per account

  async function everyScopeOwned(processes: number, ms = 60_000): Promise<Map<string, string>> {
    for (const deadline = Date.now() + ms; ; ) {
      const o = await owners()
      if (o.size === SCOPES && new Set(o.values()).size === processes) return o
      if (Date.now() > deadline) throw new Error(`${o.size}/${SCOPES} scopes owned, by ${new Set(o.values()).size} instances`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  it('share every scope, survive kills and a freeze, and trade exactly like one uninterrupted run', async () => {
    const procs: Daemon[] = [await start(), await start(), await start()]
    await everyScopeOwned(3)

    // The bars go in five stretches; in each of the first four, a second into it, a random process
    // is SIGKILLed and restarted — or, once, frozen for longer than a lease lives and resumed. The
    // count of kills does not depend on the machine's speed: a slow one only lands them later.
    const rnd = prng(13) // the same kills in the same order on every run
    const plan = ['kill', 'freeze', 'kill', 'kill'] as const
    const events: string[] = []
    const stretch = Math.ceil(orcl.length / (plan.length + 1))
    for (let k = 0; k <= plan.length; k++) {
      const replays = Promise.all(
        SERIES.map((s) => replayBars(stack.client, s.bars.slice(k * stretch, (k + 1) * stretch), { symbol: s.symbol, timeframe: '1d', speed: 60 })),
      )
      const what = plan[k]
      if (what) {
        await new Promise((r) => setTimeout(r, 1000))
        const i = Math.floor(rnd() * procs.length)
        if (what === 'freeze') {
          // The others take its scopes; resumed, it must act on none of them.
          procs[i]!.child.kill('SIGSTOP')
          await new Promise((r) => setTimeout(r, TTL_MS * 2.5))
          procs[i]!.child.kill('SIGCONT')
        } else {
          procs[i]!.child.kill('SIGKILL')
          await procs[i]!.exited
          procs[i] = await start()
        }
        events.push(`${what} ${i}`)
      }
      await replays
    }
    expect(events).toHaveLength(plan.length)

    // What an operator runs: each file again (nothing new is stored), waiting for the deployment.
    for (const s of SERIES) {
      const wait = await stack.cli(['replay', csvOf(s), '--symbol', s.symbol, '--wait', '--timeout', '120', '--config', configFile], 150_000)
      expect(wait.code, wait.stderr).toBe(0)
    }

    const run = await runBacktest(
      parseConfig(config),
      SERIES.map((s) => ({ symbol: s.symbol, timeframe: '1d', bars: s.bars })),
    )
    const daemon =
      await stack.sql`select trade_id, account, side, qty::float8 as qty, price::float8 as price, commission::float8 as commission from trades order by trade_id`
    expect(daemon.map((t) => ({ ...t }))).toEqual(
      run.fills
        .map((f) => ({ trade_id: f.id, account: f.account, side: f.side, qty: f.qty, price: f.price, commission: f.commission }))
        .sort((a, b) => a.trade_id.localeCompare(b.trade_id)),
    )
    expect(daemon.length).toBeGreaterThan(100)
    for (const c of cases) {
      const ref = referenceBroker(c.series.bars, c.ref)
      const [book] = await stack.sql<{ cash: number }[]>`select cash::float8 as cash from portfolio_state where account = ${c.account}`
      expect(book!.cash, c.account).toBe(ref.cash)
    }
    // And the equity curve — every mark between fills — is the backtest's, point for point: the
    // executors ran ahead of their orders, died and were frozen, and published points again.
    const points = await stack.sql`select id, account, ts, cash::float8 as cash, equity::float8 as equity, unrealized_pnl::float8 as unrealized_pnl,
      drawdown::float8 as drawdown, daily_pnl::float8 as daily_pnl from equity_points order by id collate "C"`
    expect(points.map((p) => ({ ...p, ts: (p.ts as Date).toISOString() }))).toEqual(
      run.portfolios
        .map((p) => ({
          id: p.id,
          account: p.account,
          ts: p.ts,
          cash: p.cash,
          equity: p.equity,
          unrealized_pnl: p.unrealized_pnl,
          drawdown: p.drawdown,
          daily_pnl: p.daily_pnl,
        }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    )
    const states = await stack.sql`select account, equity::float8 as equity, peak_equity::float8 as peak, message_id from portfolio_state order by account`
    const last = new Map(run.portfolios.map((p) => [p.account, p]))
    expect(states.map((s) => ({ ...s }))).toEqual(
      [...last.values()]
        .map((p) => ({ account: p.account, equity: p.equity, peak: p.peak_equity, message_id: p.id }))
        .sort((a, b) => (a.account < b.account ? -1 : 1)),
    )
    // Afterwards, every scope has exactly one owner again, among the three running processes.
    await everyScopeOwned(3)
    for (const p of procs) {
      p.child.kill('SIGTERM')
      expect((await p.exited).code).toBe(0)
    }
  }, 400_000)
})
