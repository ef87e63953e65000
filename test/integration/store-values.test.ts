// What the persister's store writes is what the messages said: every number with the exact digits
// JavaScript prints, jsonb columns as the nested values (an object with a `type` key included),
// booleans, nulls, and text — a lone UTF-16 surrogate (JSON.parse of "\ud800") stored as U+FFFD
// rather than refusing the batch. Rows of a table go to Postgres as one JSON parameter.
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writesOf } from '../../actors/persister.js'
import { migrate } from '../../src/adapters/postgres/migrate.js'
import { createStore } from '../../src/adapters/postgres/store.js'
import { inbound } from '../support/actor-spec.js'
import { message } from '../support/messages.js'
import { createTestDatabase, type TestDatabase } from '../support/postgres.js'

describe('the store writes what the messages say', () => {
  let db: TestDatabase
  let sql: postgres.Sql
  beforeAll(async () => {
    db = await createTestDatabase()
    sql = postgres(db.url, { max: 2, onnotice: () => {} })
    await migrate(sql)
  })
  afterAll(async () => {
    await sql?.end({ timeout: 5 })
    await db?.drop()
  })

  it('numbers to the last digit, nested jsonb, booleans, nulls and text', async () => {
    const prices = [0.1 + 0.2, 1e-7, 123456789.12345679, 5e-324, 1.7976931348623157e308, 7]
    const fills = prices.map((price, i) =>
      message('trade.fill', {
        id: `fill:order:${i}`,
        order_id: `order:${i}`,
        price,
        commission: i === 0 ? 0 : price / 3,
        fill_model: { type: 'next_open', slippage_bps: 1.5, commission_pct: 0.001, commission_per_share: 0, commission_min: 0, volume_cap_pct: null },
        exit_reason: null,
      }),
    )
    const idea = message('trade.idea', { id: 'idea:odd', reason: 'lone \ud800 surrogate, pair 😀, quote " and backslash \\ud800' })
    const writes = [...fills.map((f) => inbound('trade.fill', f, { seq: 1 })), inbound('trade.idea', idea, { seq: 2 })].flatMap((m) => writesOf(m))
    await createStore(sql).commit(writes, [])
    const rows = await sql<{ trade_id: string; price: string; commission: string; fill_model: unknown; is_simulation: boolean; exit_reason: string | null }[]>`
      select trade_id, price::text, commission::text, fill_model, is_simulation, exit_reason from trades order by trade_id`
    expect(rows).toHaveLength(prices.length)
    for (const r of rows) {
      const f = fills.find((x) => x.id === r.trade_id)!
      expect(Number(r.price)).toBe(f.price)
      expect(Number(r.commission)).toBe(f.commission)
      expect(r.fill_model).toEqual(f.fill_model)
      expect(r.is_simulation).toBe(true)
      expect(r.exit_reason).toBeNull()
    }
    const [stored] = await sql<{ reason: string }[]>`select reason from trade_ideas where id = 'idea:odd'`
    expect(stored!.reason).toBe('lone \ufffd surrogate, pair 😀, quote " and backslash \\ud800')
  })
})
