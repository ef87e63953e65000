// An idea's row and an order's row are written by several messages (the idea or order, its statuses,
// its fill), which the persister — or several persisters — may see in any order and any batching.
// The rows must come out the same whatever that order and batching: the chaos run (npm run chaos)
// once found orders and ideas whose order_type or exit reason depended on which message came first.
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import canonical from '../../examples/canonical.json' with { type: 'json' }
import { writesOf } from '../../actors/persister.js'
import { migrate } from '../../src/adapters/postgres/migrate.js'
import { createStore } from '../../src/adapters/postgres/store.js'
import { prng, syntheticBars } from '../../src/app/synthetic-bars.js'
import { parseConfig } from '../../src/config/env.js'
import type { Write } from '../../src/core/actor.js'
import { runPipeline } from '../support/pipeline.js'
import { createTestDatabase, type TestDatabase } from '../support/postgres.js'

const TABLES = ['trade_ideas', 'orders'] as const

let db: TestDatabase
let sql: postgres.Sql
let writes: Write[]

beforeAll(async () => {
  db = await createTestDatabase()
  sql = postgres(db.url, { max: 4, onnotice: () => {} })
  await migrate(sql)
  const { streams } = await runPipeline(
    parseConfig(canonical),
    syntheticBars(800, { seed: 11 }).map((b) => ({ symbol: 'ORCL', bar: b })),
  )
  writes = streams.log.filter((m) => m.type.startsWith('trade.')).flatMap((m) => writesOf(m).filter((w) => (TABLES as readonly string[]).includes(w.table)))
}, 60_000)

afterAll(async () => {
  await sql?.end({ timeout: 5 })
  await db?.drop()
})

/**
 * The tables after committing `batches` into empty tables, every column but the clock: one after
 * another, or all at once on the pool's connections (the persister commits several batches side by side).
 */
async function written(batches: Write[][], together = false): Promise<Record<string, unknown[]>> {
  await sql`truncate trade_ideas, orders`
  const store = createStore(sql)
  // Each batch moves the positions of two durables, named in either order.
  const offsets = (i: number) => {
    const both = [
      { consumer: 'persister-trade', stream: 'TRADE', seq: i },
      { consumer: 'persister-md', stream: 'MD', seq: i },
    ]
    return i % 2 ? both : both.reverse()
  }
  if (together) await Promise.all(batches.map((b, i) => store.commit(b, offsets(i + 1))))
  else for (const b of batches) await store.commit(b, [])
  const out: Record<string, unknown[]> = {}
  for (const t of TABLES) {
    const rows = await sql.unsafe(`select * from ${t} order by 1`)
    out[t] = rows.map(({ updated_at: _, ...r }) => r)
  }
  return out
}

describe('rows merged from several messages', () => {
  it('come out the same in any order and any batching', async () => {
    expect(writes.filter((w) => w.table === 'orders').length).toBeGreaterThan(30)
    const inOrder = await written([writes])
    expect(inOrder.orders!.length).toBeGreaterThan(5)
    // The idea's own facts survive its statuses, the status its idea.
    expect(inOrder.trade_ideas!.some((r) => (r as { order_type: string | null }).order_type !== null)).toBe(true)
    expect(await written(writes.map((w) => [w]))).toEqual(inOrder)
    expect(await written([[...writes].reverse()])).toEqual(inOrder)
    expect(await written([...writes].reverse().map((w) => [w]))).toEqual(inOrder)
    const rnd = prng(5)
    for (let k = 0; k < 4; k++) {
      const shuffled = [...writes]
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1))
        ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
      }
      const batches: Write[][] = []
      for (let i = 0; i < shuffled.length; ) {
        const n = 1 + Math.floor(rnd() * 8)
        batches.push(shuffled.slice(i, i + n))
        i += n
      }
      expect(await written(batches)).toEqual(inOrder)
      // Committed side by side, sharing rows (and the offsets' row): they wait for one another and
      // merge the same, and no two deadlock (rows are locked in one order).
      const larger: Write[][] = []
      for (let i = 0; i < shuffled.length; i += 40) larger.push(shuffled.slice(i, i + 40))
      expect(await written(larger, true)).toEqual(inOrder)
    }
  }, 60_000)

  it('committed side by side, batches sharing only the consumer positions do not deadlock either', async () => {
    await sql`truncate snapshot_market, consumer_offsets`
    const store = createStore(sql)
    const row = (i: number): Write => ({
      table: 'snapshot_market',
      row: {
        symbol: 'ORCL',
        timeframe: '1d',
        ts: new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString(),
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        volume: 1,
      },
    })
    const positions = (i: number) => {
      const both = [
        { consumer: 'persister-trade', stream: 'TRADE', seq: i },
        { consumer: 'persister-md', stream: 'MD', seq: i },
      ]
      return i % 2 ? both : both.reverse()
    }
    for (let round = 0; round < 5; round++)
      await Promise.all(Array.from({ length: 40 }, (_, k) => store.commit([row(round * 40 + k)], positions(round * 40 + k + 1))))
    const [n] = await sql<{ n: number }[]>`select count(*)::int as n from snapshot_market`
    expect(n!.n).toBe(200)
    expect(await sql`select consumer, stream_seq::int as seq from consumer_offsets order by consumer`).toEqual([
      { consumer: 'persister-md', seq: 200 },
      { consumer: 'persister-trade', seq: 200 },
    ])
  })
})
