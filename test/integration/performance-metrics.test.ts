// Which points of the books a report believes. The executor writes a version of the books (seq) for
// every fill and every mark; an order that reached it after it had marked later bars fills at its
// own, earlier bar, and the marks written before it lacked that fill. Both readers — the view
// performance_metrics and `paperd report` (currentPoints) — leave such superseded points out.
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../src/adapters/postgres/migrate.js'
import { currentPoints } from '../../src/app/live-report.js'
import { createTestDatabase, type TestDatabase } from '../support/postgres.js'

// Day 1: a mark (seq 1). Day 3: a mark written before the late order was heard of (seq 2, still
// holding nothing new). Then the late exit fills on day 2 (seq 3): the books' latest truth, 9000.
const WRITTEN = [
  { id: 'pf:a:bar:1', ts: '2024-01-01T00:00:00.000Z', seq: 1, cash: 5000, equity: 10_000 },
  { id: 'pf:a:bar:3', ts: '2024-01-03T00:00:00.000Z', seq: 2, cash: 5000, equity: 10_400 },
  { id: 'pf:fill:late', ts: '2024-01-02T00:00:00.000Z', seq: 3, cash: 9000, equity: 9000 },
]

describe('superseded points of the books', () => {
  let db: TestDatabase
  let sql: postgres.Sql
  beforeAll(async () => {
    db = await createTestDatabase()
    sql = postgres(db.url, { max: 1, onnotice: () => {} })
    await migrate(sql)
    await sql`insert into accounts (id, starting_cash) values ('a', 10000)`
    for (const p of WRITTEN)
      await sql`insert into portfolio_history (id, account, ts, seq, cash, equity, realized_pnl, unrealized_pnl, drawdown)
        values (${p.id}, 'a', ${p.ts}, ${p.seq}, ${p.cash}, ${p.equity}, 0, 0, 0)`
  })
  afterAll(async () => {
    await sql?.end({ timeout: 5 })
    await db?.drop()
  })

  it('the view ends on the books as they are, not on a mark written before a late fill', async () => {
    const rows = await sql`select day::text as day, equity::float8 as equity from performance_metrics where account = 'a' order by day`
    expect(rows).toEqual([
      { day: '2024-01-01', equity: 10_000 },
      { day: '2024-01-02', equity: 9000 },
    ])
  })

  it('paperd report keeps the same points, in time order', () => {
    const kept = currentPoints(WRITTEN.map((p) => ({ ...p, ts: new Date(p.ts), seq: String(p.seq) })))
    expect(kept.map((p) => p.id)).toEqual(['pf:a:bar:1', 'pf:fill:late'])
  })
})
