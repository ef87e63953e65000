// The persister's store prepares ONE statement per connection, whatever tables a batch has rows
// for: a statement per set of tables was prepared and planned again for every new set (a dozen in a
// daemon's first seconds of ideas and fills), on the cores the pipeline needed. And warm() opens
// the pool's connections and prepares that statement on each before the first batch, writing
// nothing.
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writesOf } from '../../actors/persister.js'
import { migrate } from '../../src/adapters/postgres/migrate.js'
import { createStore, TABLES } from '../../src/adapters/postgres/store.js'
import { inbound } from '../support/actor-spec.js'
import { message } from '../support/messages.js'
import { createTestDatabase, type TestDatabase } from '../support/postgres.js'

/** The batch statements prepared on this session's connection (the one connection of a pool of one). */
const batchStatements = async (sql: postgres.Sql) =>
  (await sql<{ n: number }[]>`select count(*)::int as n from pg_prepared_statements where statement like 'with t0 as (insert into%'`)[0]!.n

describe("the persister's batch statement", () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
    const sql = postgres(db.url, { max: 1, onnotice: () => {} })
    await migrate(sql)
    await sql.end({ timeout: 5 })
  })
  afterAll(async () => {
    await db?.drop()
  })

  it('is one prepared statement whatever tables the batches write', async () => {
    const sql = postgres(db.url, { max: 1, onnotice: () => {} })
    try {
      const store = createStore(sql)
      const bar = writesOf(inbound('md.bar', message('md.bar', { ts: '2024-01-02T00:00:00.000Z' }), { seq: 1 }))
      const idea = writesOf(inbound('trade.idea', message('trade.idea', { id: 'idea:one' }), { seq: 2 }))
      const fill = writesOf(inbound('trade.fill', message('trade.fill', { id: 'fill:one', order_id: 'order:one' }), { seq: 3 }))
      const at = (seq: number) => [{ consumer: 'persister-md', stream: 'MD', seq }]
      await store.commit(bar, at(1))
      await store.commit([...idea, ...fill], [])
      await store.commit([...bar, ...fill], at(2))
      await store.commit([], at(3))
      expect(await batchStatements(sql)).toBe(1)
      // Each batch's rows are there, and the offsets moved to the last one.
      expect((await sql`select 1 from snapshot_market`).length).toBe(1)
      expect((await sql`select 1 from trade_ideas where id = 'idea:one'`).length).toBe(1)
      expect((await sql`select 1 from trades where trade_id = 'fill:one'`).length).toBe(1)
      expect((await sql<{ seq: string }[]>`select stream_seq::text as seq from consumer_offsets where consumer = 'persister-md'`)[0]!.seq).toBe('3')
      // A row of a table the store does not know is refused, as before.
      await expect(store.commit([{ table: 'nowhere', row: {} }], [])).rejects.toThrow('no table nowhere')
    } finally {
      await sql.end({ timeout: 5 })
    }
  })

  it('is prepared by warm() on every pooled connection, writing nothing', async () => {
    const fresh = await createTestDatabase()
    const pool = postgres(fresh.url, { max: 3, onnotice: () => {} })
    try {
      await migrate(pool)
      await createStore(pool).warm()
      // Every connection of the pool is open and has the statement.
      const held = await Promise.all(Array.from({ length: 3 }, () => pool.reserve()))
      try {
        for (const conn of held) expect(await batchStatements(conn as unknown as postgres.Sql)).toBe(1)
      } finally {
        for (const conn of held) conn.release()
      }
      for (const table of [...Object.keys(TABLES), 'consumer_offsets']) expect((await pool.unsafe(`select 1 from ${table} limit 1`)).length, table).toBe(0)
    } finally {
      await pool.end({ timeout: 5 })
      await fresh.drop()
    }
  })
})
