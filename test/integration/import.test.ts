// `paperd import` of each legacy format, twice, against a running persister: the rows appear once,
// in the tables paperd's own trading fills (trades, portfolio_history, portfolio_state, accounts),
// written by the persister from what the command published on NATS.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { traderAiDatabase } from '../support/trader-ai-db.js'
import { startStack, type Stack } from '../support/stack.js'

const dir = mkdtempSync(join(tmpdir(), 'paperd-import-'))

describe('paperd import', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
    await stack.start(['persister'])
    writeFileSync(join(dir, 'local_trading.db'), await traderAiDatabase())
  })
  afterAll(async () => stack?.close())

  const counts = async (account: string) => {
    const [c] = await stack.sql<{ trades: number; history: number; state: number; accounts: number }[]>`select
      (select count(*)::int from trades where account = ${account}) as trades,
      (select count(*)::int from portfolio_history where account = ${account}) as history,
      (select count(*)::int from portfolio_state where account = ${account}) as state,
      (select count(*)::int from accounts where id = ${account}) as accounts`
    return c!
  }

  it.each([
    ['local_trading.db', 'trader-ai', 0, { trades: 6, history: 3, state: 1, accounts: 1 }],
    ['../../test/fixtures/import/migration_export.json', 'bumpy-croc', 1, { trades: 4, history: 2, state: 1, accounts: 1 }],
    ['../../test/fixtures/import/prescient-portfolio.json', 'prescient', 0, { trades: 4, history: 1, state: 1, accounts: 1 }],
    ['../../test/fixtures/import/trades.csv', 'imported', 1, { trades: 3, history: 0, state: 0, accounts: 0 }],
  ])(
    '%s twice: its rows appear once (account %s)',
    async (file, account, code, rows) => {
      const path = file.startsWith('../') ? join(process.cwd(), file.slice(6)) : join(dir, file)
      for (const round of [1, 2]) {
        const run = await stack.cli(['import', path])
        expect(run.code, run.stderr).toBe(code)
        expect(run.stderr).toContain('the persister has stored them')
        if (round === 2) expect(run.stderr).toMatch(/\(\d+ already there\)/)
        expect(await counts(account)).toEqual(rows)
      }
    },
    60_000,
  )

  it('fills the tables as paperd does: the trader-ai books and fills with their Phase-5 factors', async () => {
    const [state] =
      await stack.sql`select cash::float8 as cash, realized_pnl::float8 as realized, trade_count, winning_trades, seq from portfolio_state where account = 'trader-ai'`
    expect(state).toEqual({ cash: 10031.15, realized: 31.15, trade_count: 3, winning_trades: 2, seq: '0' })
    const [account] = await stack.sql`select starting_cash::float8 as cash from accounts where id = 'trader-ai'`
    expect(account!.cash).toBe(10000)
    const fills =
      await stack.sql`select side, intent, ng_score::float8 as ng, is_simulation, fill_model->>'model' as model from trades where account = 'trader-ai' order by ts, trade_id`
    expect(fills[0]).toEqual({ side: 'buy', intent: 'entry', ng: 0.031, is_simulation: true, model: 'imported' })
  })

  it('says what it would import without publishing, and refuses an unknown format by name', async () => {
    const dry = await stack.cli(['import', join(process.cwd(), 'test/fixtures/import/trades.csv'), '--account', 'dry', '--dry-run'])
    expect(dry.stderr).toContain('trades-csv, 3 fills and 0 portfolio snapshots for account dry, 2 records skipped')
    expect(await counts('dry')).toEqual({ trades: 0, history: 0, state: 0, accounts: 0 })
    const bad = await stack.cli(['import', join(process.cwd(), 'README.md')])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/not a format paperd imports; pass --format \(trader-ai-sqlite, migration-export, prescient-json, trades-csv\)/)
  }, 60_000)
})
