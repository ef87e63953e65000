// The equity curve the database keeps is exact, whatever the interleaving. The executor may publish
// a point in several versions and withdraw points (a fill that reached it after bars it had marked
// makes it value the account again from that bar on; a run that died before its inputs were
// acknowledged may have published marks the next run does not make). The persister keeps, per
// point, the version that knew the most orders, and `equity_points` leaves out what a later fold
// withdrew — in whatever order and batches the persisters wrote them. Checked here against the
// backtest's points (orders always in time), through the persister's own writes: the points, the
// books' latest state, and the daily view over them.
import { readFileSync } from 'node:fs'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writesOf } from '../../actors/persister.js'
import { migrate } from '../../src/adapters/postgres/migrate.js'
import { createStore } from '../../src/adapters/postgres/store.js'
import { runBacktest } from '../../src/app/backtest.js'
import { prng } from '../../src/app/synthetic-bars.js'
import { parseConfig } from '../../src/config/env.js'
import type { Message } from '../../src/core/contracts.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { inbound } from '../support/actor-spec.js'
import { runUpstream, simulate } from '../support/interleavings.js'
import { configOf, LANGUAGE_CASES } from '../support/language-cases.js'
import { createTestDatabase, type TestDatabase } from '../support/postgres.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const config = parseConfig(configOf(LANGUAGE_CASES, 'ORCL'))
const inputs = [{ symbol: 'ORCL', timeframe: '1d', bars }]
const ACCOUNT = 'revpct'

type Portfolio = Message<'trade.portfolio'>

/** Writes portfolio messages as the persister does, `batches` at a time, in the order given. */
async function persist(sql: postgres.Sql, messages: Portfolio[], batch: number): Promise<void> {
  const store = createStore(sql)
  for (let i = 0; i < messages.length; i += batch)
    await store.commit(
      messages.slice(i, i + batch).flatMap((m) => writesOf(inbound('trade.portfolio', m, { seq: 1 }))),
      [],
    )
}

const facts = 'id, ts, cash::float8, equity::float8, realized_pnl::float8, unrealized_pnl::float8, drawdown::float8, daily_pnl::float8'

describe('the equity curve in the database', () => {
  let reference: TestDatabase
  let chaotic: TestDatabase
  let ref: postgres.Sql
  let run: postgres.Sql
  let published: Portfolio[]
  beforeAll(async () => {
    ;[reference, chaotic] = await Promise.all([createTestDatabase(), createTestDatabase()])
    ref = postgres(reference.url, { max: 1, onnotice: () => {} })
    run = postgres(chaotic.url, { max: 1, onnotice: () => {} })
    await Promise.all([migrate(ref), migrate(run)])
    const backtest = await runBacktest(config, inputs)
    await persist(
      ref,
      backtest.portfolios.filter((p) => p.account === ACCOUNT),
      50,
    )
    // Seed 21: the executor runs far ahead of its orders, dies twice, and had published marks of a
    // position a late exit closed (found by the simulator; asserted below).
    const sim = simulate(config, runUpstream(config, inputs), ACCOUNT, { seed: 21, killRate: 0.05 })
    published = sim.trade.filter((m) => m.type === 'trade.portfolio').map((m) => m.data as Portfolio)
    // Written by persisters that see the messages in any order and batching.
    const random = prng(7)
    const shuffled = [...published]
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
    }
    await persist(run, shuffled, 37)
  }, 60_000)
  afterAll(async () => {
    await Promise.all([ref?.end({ timeout: 5 }), run?.end({ timeout: 5 })])
    await Promise.all([reference?.drop(), chaotic?.drop()])
  })

  it('the run published points again and withdrew some: more rows than points', async () => {
    expect(published.some((p) => (p.supersedes_from ?? null) !== null && p.id.includes(':bar:'))).toBe(true)
    const [rows] = await run`select count(*)::int as n from portfolio_history`
    const [standing] = await run`select count(*)::int as n from equity_points`
    expect(rows!.n).toBeGreaterThan(standing!.n)
  })

  it('equity_points are the backtest’s points, every one, to the last digit', async () => {
    const want = await ref.unsafe(`select ${facts} from equity_points order by id`)
    const got = await run.unsafe(`select ${facts} from equity_points order by id`)
    expect(want.length).toBeGreaterThan(200)
    expect(got).toEqual(want)
  })

  it('the books’ latest state and the daily view agree with the backtest’s', async () => {
    const state = `select cash::float8, equity::float8, peak_equity::float8, drawdown::float8, daily_pnl::float8, trade_count, ts, message_id from portfolio_state`
    expect(await run.unsafe(state)).toEqual(await ref.unsafe(state))
    const daily = 'select day::text, equity::float8, daily_return::float8, sharpe::float8, max_drawdown::float8 from performance_metrics order by day'
    const want = await ref.unsafe(daily)
    expect(want.length).toBeGreaterThan(200)
    expect(await run.unsafe(daily)).toEqual(want)
  })
})
