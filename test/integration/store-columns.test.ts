// The persister's column lists are written three times: in the migrations (sql/), in the store's
// table specs (src/adapters/postgres/store.ts: columns, types, conflict keys) and in the rows the
// persister's handler builds (actors/persister.ts). Nothing generates one from another, so this test
// holds them together: every spec'd column exists in the migrated database with the spec'd type,
// every conflict key is a unique index, every column the database requires is written, and every
// row of every message type has exactly the columns of its table.
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import canonical from '../../examples/canonical.json' with { type: 'json' }
import { writesOf } from '../../actors/persister.js'
import { migrate } from '../../src/adapters/postgres/migrate.js'
import { TABLES } from '../../src/adapters/postgres/store.js'
import { syntheticBars } from '../../src/app/synthetic-bars.js'
import { parseConfig } from '../../src/config/env.js'
import type { Inbound } from '../../src/core/actor.js'
import type { Message, MessageType } from '../../src/core/contracts.js'
import { inbound } from '../support/actor-spec.js'
import { runPipeline } from '../support/pipeline.js'
import { createTestDatabase, type TestDatabase } from '../support/postgres.js'

/** information_schema's name for each type the store casts to. */
const PG_NAMES: Record<string, string> = {
  text: 'text',
  numeric: 'numeric',
  timestamptz: 'timestamp with time zone',
  bigint: 'bigint',
  integer: 'integer',
  smallint: 'smallint',
  boolean: 'boolean',
  jsonb: 'jsonb',
}

let db: TestDatabase
let sql: postgres.Sql
let columns: Map<string, Map<string, { type: string; required: boolean }>>
let uniqueKeys: Map<string, string[][]>

beforeAll(async () => {
  db = await createTestDatabase()
  sql = postgres(db.url, { max: 2, onnotice: () => {} })
  await migrate(sql)
  columns = new Map()
  const rows = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string; column_default: string | null }[]>`
    select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns where table_schema = 'public'`
  for (const r of rows) {
    if (!columns.has(r.table_name)) columns.set(r.table_name, new Map())
    columns.get(r.table_name)!.set(r.column_name, { type: r.data_type, required: r.is_nullable === 'NO' && r.column_default === null })
  }
  uniqueKeys = new Map()
  const keys = await sql<{ table_name: string; cols: string[] }[]>`
    select c.relname as table_name, array_agg(a.attname::text order by a.attname) as cols
    from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum = any(i.indkey)
    where n.nspname = 'public' and i.indisunique group by c.relname, i.indexrelid`
  for (const k of keys) uniqueKeys.set(k.table_name, [...(uniqueKeys.get(k.table_name) ?? []), k.cols])
}, 60_000)

afterAll(async () => {
  await sql?.end({ timeout: 5 })
  await db?.drop()
})

describe('store specs against the migrated database', () => {
  it('every spec’d table exists, and every spec’d column has the spec’d type', () => {
    const wrong: string[] = []
    for (const [table, spec] of Object.entries(TABLES)) {
      const actual = columns.get(table)
      if (!actual) {
        wrong.push(`${table}: no such table`)
        continue
      }
      for (const [column, type] of Object.entries(spec.columns)) {
        const got = actual.get(column)
        if (!got) wrong.push(`${table}.${column}: no such column`)
        else if (got.type !== PG_NAMES[type]) wrong.push(`${table}.${column}: the store casts to ${type}, the column is ${got.type}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('every conflict key is a unique index (on conflict needs one)', () => {
    const wrong = Object.entries(TABLES)
      .filter(([table, spec]) => !(uniqueKeys.get(table) ?? []).some((cols) => cols.join(',') === [...spec.key].sort().join(',')))
      .map(([table, spec]) => `${table} (${spec.key.join(', ')})`)
    expect(wrong).toEqual([])
  })

  it('every column the database requires (not null, no default) is one the store writes', () => {
    const wrong: string[] = []
    for (const [table, spec] of Object.entries(TABLES)) {
      for (const [column, c] of columns.get(table) ?? []) if (c.required && !(column in spec.columns)) wrong.push(`${table}.${column}`)
    }
    expect(wrong).toEqual([])
  })
})

describe('persister rows against the store specs', () => {
  it('every message type the persister takes gives rows with exactly the columns of their table, and every table is written by some type', async () => {
    const { streams } = await runPipeline(
      parseConfig(canonical),
      syntheticBars(250, { seed: 7 }).map((b) => ({ symbol: 'ORCL', bar: b })),
    )
    const samples = new Map<MessageType, Inbound>()
    for (const m of streams.log) if (!samples.has(m.type)) samples.set(m.type, m)
    // The types a canonical run does not publish, written out.
    const envelope = { ts: '2024-01-02T00:00:00.000Z', causation_id: 'c', correlation_id: 'c', account: 'main' }
    const extra: { [T in MessageType]?: Message<T> } = {
      'trade.risk_state': {
        ...envelope,
        id: 'risk-state:main:1',
        type: 'trade.risk_state',
        risk: { max_lot_size: 10 },
        halted: false,
        last_halt_reason: null,
        updated_by: 'ops',
        version: 1,
      },
      'trade.strategy': {
        ...envelope,
        id: 'strategy:rsi-dip:v1',
        type: 'trade.strategy',
        strategy_id: 'rsi-dip',
        version: 1,
        action: 'put',
        definition: { id: 'rsi-dip', account: 'main', symbols: ['ORCL'] },
        updated_by: 'alice',
      },
      'metrics.phase5': {
        ...envelope,
        id: 'p5:main:daily:2024-01-02',
        type: 'metrics.phase5',
        trigger: 'daily',
        brier_score: 0.2,
        prediction_count: 3,
        recent_accuracy: 0.5,
        ng_signal_count: 2,
        avg_ng_score: 1,
        high_ng_trades: 0,
        dpi_regime: null,
        avg_dpi_enhancement: 1,
        health_status: 'healthy',
      },
      'strategy.signal': {
        ...envelope,
        id: 'gayed:main:2024-01-02',
        type: 'strategy.signal',
        strategy_id: 'gayed',
        signals: [],
        consensus: 'Mixed',
        confidence: 0.1,
        risk_on_weight: 0,
        risk_off_weight: 0,
        holding: null,
      },
      dlq: {
        id: 'dlq:market-snapshots:MD_IN:9',
        type: 'dlq',
        ts: '2024-01-02T00:00:00.000Z',
        actor: 'market-snapshots',
        reason: 'invalid JSON',
        subject: 'md.in.bar.ORCL',
        stream: 'MD_IN',
        stream_seq: 9,
        deliveries: 1,
        msg_id: null,
        payload: '{',
        payload_bytes: 1,
      },
    }
    for (const [type, data] of Object.entries(extra))
      if (!samples.has(type as MessageType)) samples.set(type as MessageType, inbound(type as MessageType, data as never, { seq: 1 }))

    const written = new Set<string>()
    const wrong: string[] = []
    for (const [type, m] of samples) {
      for (const w of writesOf(m)) {
        written.add(w.table)
        const spec = TABLES[w.table]
        if (!spec) {
          wrong.push(`${type} → ${w.table}: no store spec`)
          continue
        }
        const want = Object.keys(spec.columns).sort().join(', ')
        const got = Object.keys(w.row).sort().join(', ')
        if (got !== want) wrong.push(`${type} → ${w.table}: row has (${got}), the table (${want})`)
      }
    }
    expect(wrong).toEqual([])
    expect(Object.keys(TABLES).filter((t) => !written.has(t))).toEqual([])
  }, 60_000)
})
