// Snapshot retention (persistence.snapshot_retention_days): the persister keeps snapshot rows for the
// window behind each series' newest bar. A message may come again after its series was pruned (a
// redelivery after ack_wait, a scope rebuilt from an older checkpoint): its row, already outside the
// window, must not stay. Seen on a loaded CI machine: 33 rows of a 30-day window of daily bars.
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../src/adapters/postgres/migrate.js'
import { createStore } from '../../src/adapters/postgres/store.js'
import type { Write } from '../../src/core/actor.js'
import { createTestDatabase, type TestDatabase } from '../support/postgres.js'

let db: TestDatabase
let sql: postgres.Sql

beforeAll(async () => {
  db = await createTestDatabase()
  sql = postgres(db.url, { max: 4, onnotice: () => {} })
  await migrate(sql)
}, 60_000)

afterAll(async () => {
  await sql?.end({ timeout: 5 })
  await db?.drop()
})

const DAY = 86_400_000
const ts = (day: number) => new Date(Date.UTC(2024, 0, 1) + day * DAY).toISOString()
const bar = (symbol: string, day: number): Write => ({
  table: 'snapshot_market',
  row: { symbol, timeframe: '1d', ts: ts(day), open: 1, high: 1, low: 1, close: 1, volume: 1 },
})
const ind = (symbol: string, day: number): Write => ({ table: 'snapshot_indicators', row: { symbol, timeframe: '1d', ts: ts(day), values: { x: day } } })
const days = async (table: string, symbol: string) =>
  (await sql.unsafe(`select ts from ${table} where symbol = $1 order by ts`, [symbol])).map((r) =>
    Math.round(((r.ts as Date).getTime() - Date.UTC(2024, 0, 1)) / DAY),
  )

describe('snapshot retention', () => {
  it('keeps the window behind the newest bar, bar by bar', async () => {
    const store = createStore(sql, { snapshotRetentionDays: 10 })
    for (let d = 0; d < 40; d++) await store.commit([bar('AAA', d), ind('AAA', d)], [])
    expect(await days('snapshot_market', 'AAA')).toEqual(Array.from({ length: 11 }, (_, k) => 29 + k))
    expect(await days('snapshot_indicators', 'AAA')).toEqual(Array.from({ length: 11 }, (_, k) => 29 + k))
  })

  it('does not keep a row that comes again after its series was pruned past it', async () => {
    const store = createStore(sql, { snapshotRetentionDays: 10 })
    for (let d = 0; d < 40; d++) await store.commit([bar('BBB', d), ind('BBB', d)], [])
    // Days 3 and 20 delivered again (and one in the window, 35), the newest bar still day 39.
    await store.commit([bar('BBB', 3), bar('BBB', 20)], [])
    await store.commit([bar('BBB', 35), ind('BBB', 2)], [])
    // On the window's edge (39 - 10): kept, as the prune keeps it.
    await store.commit([bar('BBB', 29)], [])
    expect(await days('snapshot_market', 'BBB')).toEqual(Array.from({ length: 11 }, (_, k) => 29 + k))
    expect(await days('snapshot_indicators', 'BBB')).toEqual(Array.from({ length: 11 }, (_, k) => 29 + k))
  })

  it('prunes again when a batch that was to prune failed and comes again', async () => {
    const store = createStore(sql, { snapshotRetentionDays: 10 })
    for (let d = 0; d < 20; d++) await store.commit([bar('DDD', d)], [])
    // Day 20 in a batch the database refuses (a value that is no number): nothing of it is written.
    const broken: Write = { table: 'snapshot_market', row: { ...bar('DDD', 20).row, open: 'not a number' } }
    await expect(store.commit([bar('DDD', 20), broken], [])).rejects.toThrow()
    await store.commit([bar('DDD', 20)], [])
    expect(await days('snapshot_market', 'DDD')).toEqual(Array.from({ length: 11 }, (_, k) => 10 + k))
  })

  it('keeps everything without a retention', async () => {
    const store = createStore(sql, { snapshotRetentionDays: null })
    for (let d = 0; d < 15; d++) await store.commit([bar('CCC', d)], [])
    await store.commit([bar('CCC', 1)], [])
    expect(await days('snapshot_market', 'CCC')).toHaveLength(15)
  })
})
