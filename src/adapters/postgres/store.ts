// The persister's store: commits a batch of row writes and the consumer positions in ONE
// transaction. Rows of a table go in one `insert … select from json_to_recordset($i)` (one
// parameter whatever the batch size), and the tables and the offsets in one statement of
// data-modifying CTEs: one round trip. A batch with snapshot rows to prune (once a day per symbol)
// is an explicit transaction of those statements and the deletes.
// Conflicts are resolved by each table's natural key; state tables only move forward.
import type { Sql } from 'postgres'
import type { ConsumerPosition, Write } from '../../core/actor.js'
import { TransientCommitError } from '../../runtime/sink.js'

type PgType = 'text' | 'numeric' | 'timestamptz' | 'bigint' | 'integer' | 'smallint' | 'boolean' | 'jsonb'

interface TableSpec {
  columns: Record<string, PgType>
  key: string[]
  /** Everything after `on conflict (key)`. */
  conflict: string
  /** When two rows of a batch share a key, the one that wins (the default: the later one). */
  prefer?: (a: Record<string, unknown>, b: Record<string, unknown>) => boolean
  /** Or: how two rows of a batch sharing a key become one, as `conflict` merges across batches. */
  merge?: (existing: Record<string, unknown>, incoming: Record<string, unknown>) => Record<string, unknown>
}

/** Compares (a, b) by each of `keys` in turn (null as −1); true when a is the newer or the same. */
const newerBy =
  (...keys: string[]) =>
  (a: Record<string, unknown>, b: Record<string, unknown>) => {
    for (const k of keys) {
      const x = Number(a[k] ?? -1)
      const y = Number(b[k] ?? -1)
      if (x !== y) return x > y
    }
    return true
  }
const newerSeq = newerBy('seq')
/** An equity point's version: the orders its valuation knew, then the books version. */
const newerPoint = newerBy('orders_seq', 'seq')
const POINT_GUARD = '($t.orders_seq, $t.seq) < (excluded.orders_seq, excluded.seq)'
/** The account's latest point: of the newest knowledge, the last in the fold. */
const newerState = newerBy('orders_seq', 'fold_seq', 'seq')
const STATE_GUARD = '($t.orders_seq, coalesce($t.fold_seq, -1), $t.seq) < (excluded.orders_seq, coalesce(excluded.fold_seq, -1), excluded.seq)'
const updateAll = (table: string, columns: string[], guard: string) =>
  `do update set ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}, updated_at = now() where ${guard.replace(/\$t/g, table)}`
/**
 * Rows that carry a status (ideas, orders) are written by several messages — the idea or order
 * itself, its statuses, its fill — which a persister (or several) may see in any order and in any
 * batching. The merge must not depend on it: each column takes the value of the row with the
 * highest status rank (`highest`: the status, its reason, the latest time) or the lowest
 * (`lowest`: what the idea or order itself said), falling back to the other row where that one is
 * null. The same merge runs in SQL across batches and in memory within one.
 */
interface RankedMerge {
  lowest: string[]
  highest: string[]
}
const rankedConflict = (table: string, m: RankedMerge) => {
  const pick = (c: string, op: '>' | '<') =>
    `${c} = case when excluded.status_rank ${op} ${table}.status_rank then coalesce(excluded.${c}, ${table}.${c}) else coalesce(${table}.${c}, excluded.${c}) end`
  return `do update set ${[...m.lowest.map((c) => pick(c, '<')), ...m.highest.map((c) => pick(c, '>'))].join(', ')}, status_rank = greatest(excluded.status_rank, ${table}.status_rank), updated_at = now()`
}
const rankedMerge =
  (m: RankedMerge) =>
  (existing: Record<string, unknown>, incoming: Record<string, unknown>): Record<string, unknown> => {
    const rank = (r: Record<string, unknown>) => Number(r.status_rank)
    const out: Record<string, unknown> = { ...existing, status_rank: Math.max(rank(existing), rank(incoming)) }
    for (const c of m.lowest) out[c] = rank(incoming) < rank(existing) ? (incoming[c] ?? existing[c]) : (existing[c] ?? incoming[c])
    for (const c of m.highest) out[c] = rank(incoming) > rank(existing) ? (incoming[c] ?? existing[c]) : (existing[c] ?? incoming[c])
    return out
  }
const ORDER_MERGE: RankedMerge = {
  lowest: ['account', 'idea_id', 'strategy_id', 'symbol', 'side', 'intent', 'qty', 'order_type', 'ref_price', 'exit_reason'],
  highest: ['status', 'reason', 'ts'],
}
const IDEA_MERGE: RankedMerge = {
  lowest: [
    'account',
    'strategy_id',
    'symbol',
    'side',
    'intent',
    'confidence',
    'ts',
    'order_type',
    'exit_reason',
    'entry_price',
    'stop_price',
    'take_profit_price',
    'rationale',
    'timeframe',
    'bar_id',
    'bar_seq',
  ],
  highest: ['status', 'reason', 'qty'],
}

export const TABLES: Record<string, TableSpec> = {
  accounts: { columns: { id: 'text', starting_cash: 'numeric' }, key: ['id'], conflict: 'do nothing' },
  portfolio_state: {
    columns: {
      account: 'text',
      cash: 'numeric',
      equity: 'numeric',
      realized_pnl: 'numeric',
      unrealized_pnl: 'numeric',
      peak_equity: 'numeric',
      drawdown: 'numeric',
      daily_pnl: 'numeric',
      trade_count: 'integer',
      winning_trades: 'integer',
      open_positions: 'integer',
      seq: 'bigint',
      orders_seq: 'bigint',
      fold_seq: 'bigint',
      ts: 'timestamptz',
      message_id: 'text',
    },
    key: ['account'],
    conflict: updateAll(
      'portfolio_state',
      [
        'cash',
        'equity',
        'realized_pnl',
        'unrealized_pnl',
        'peak_equity',
        'drawdown',
        'daily_pnl',
        'trade_count',
        'winning_trades',
        'open_positions',
        'seq',
        'orders_seq',
        'fold_seq',
        'ts',
        'message_id',
      ],
      STATE_GUARD,
    ),
    prefer: newerState,
  },
  portfolio_history: {
    columns: {
      id: 'text',
      account: 'text',
      ts: 'timestamptz',
      seq: 'bigint',
      cash: 'numeric',
      equity: 'numeric',
      realized_pnl: 'numeric',
      unrealized_pnl: 'numeric',
      drawdown: 'numeric',
      daily_pnl: 'numeric',
      fold_seq: 'bigint',
      orders_seq: 'bigint',
      supersedes_from: 'bigint',
    },
    key: ['id'],
    // A point published again (a fold that knew more orders) replaces the version it revises.
    conflict: `do update set ${[
      'ts',
      'seq',
      'cash',
      'equity',
      'realized_pnl',
      'unrealized_pnl',
      'drawdown',
      'daily_pnl',
      'fold_seq',
      'orders_seq',
      'supersedes_from',
    ]
      .map((c) => `${c} = excluded.${c}`)
      .join(', ')} where ${POINT_GUARD.replace(/\$t/g, 'portfolio_history')}`,
    prefer: newerPoint,
  },
  portfolio_supersessions: {
    columns: { account: 'text', from_fold_seq: 'bigint', orders_seq: 'bigint' },
    key: ['account', 'from_fold_seq', 'orders_seq'],
    conflict: 'do nothing',
  },
  positions: {
    columns: {
      position_id: 'text',
      account: 'text',
      symbol: 'text',
      side: 'text',
      qty: 'numeric',
      avg_price: 'numeric',
      realized_pnl: 'numeric',
      status: 'text',
      exit_reason: 'text',
      opened_at: 'timestamptz',
      closed_at: 'timestamptz',
      seq: 'bigint',
      stop_price: 'numeric',
      target_price: 'numeric',
    },
    key: ['position_id'],
    conflict: updateAll(
      'positions',
      ['side', 'qty', 'avg_price', 'realized_pnl', 'status', 'exit_reason', 'closed_at', 'seq', 'stop_price', 'target_price'],
      '$t.seq < excluded.seq',
    ),
    prefer: newerSeq,
  },
  trades: {
    columns: {
      trade_id: 'text',
      account: 'text',
      strategy_id: 'text',
      symbol: 'text',
      side: 'text',
      qty: 'numeric',
      price: 'numeric',
      commission: 'numeric',
      ts: 'timestamptz',
      intent: 'text',
      position_id: 'text',
      order_id: 'text',
      idea_id: 'text',
      fill_model: 'jsonb',
      exit_reason: 'text',
      is_simulation: 'boolean',
      ng_score: 'numeric',
      ng_multiplier: 'numeric',
      brier_adjustment: 'numeric',
      dpi_enhancement: 'numeric',
    },
    key: ['trade_id'],
    conflict: 'do nothing',
  },
  orders: {
    columns: {
      order_id: 'text',
      account: 'text',
      idea_id: 'text',
      strategy_id: 'text',
      symbol: 'text',
      side: 'text',
      intent: 'text',
      qty: 'numeric',
      order_type: 'text',
      ref_price: 'numeric',
      status: 'text',
      status_rank: 'smallint',
      reason: 'text',
      ts: 'timestamptz',
      exit_reason: 'text',
    },
    key: ['order_id'],
    conflict: rankedConflict('orders', ORDER_MERGE),
    merge: rankedMerge(ORDER_MERGE),
  },
  trade_ideas: {
    columns: {
      id: 'text',
      account: 'text',
      strategy_id: 'text',
      symbol: 'text',
      side: 'text',
      intent: 'text',
      qty: 'numeric',
      confidence: 'numeric',
      status: 'text',
      status_rank: 'smallint',
      reason: 'text',
      ts: 'timestamptz',
      order_type: 'text',
      exit_reason: 'text',
      entry_price: 'numeric',
      stop_price: 'numeric',
      take_profit_price: 'numeric',
      rationale: 'text',
      timeframe: 'text',
      bar_id: 'text',
      bar_seq: 'bigint',
    },
    key: ['id'],
    conflict: rankedConflict('trade_ideas', IDEA_MERGE),
    merge: rankedMerge(IDEA_MERGE),
  },
  decision_history: {
    columns: {
      id: 'text',
      occurred_at: 'timestamptz',
      account: 'text',
      symbol: 'text',
      action: 'text',
      status: 'text',
      risk_check_result: 'text',
      rationale: 'text',
      idea_id: 'text',
      strategy_id: 'text',
      causation_id: 'text',
      correlation_id: 'text',
      human_override: 'boolean',
      requested_by: 'text',
      confidence: 'numeric',
    },
    key: ['id'],
    conflict: 'do nothing',
  },
  snapshot_market: {
    columns: { symbol: 'text', timeframe: 'text', ts: 'timestamptz', open: 'numeric', high: 'numeric', low: 'numeric', close: 'numeric', volume: 'numeric' },
    key: ['symbol', 'timeframe', 'ts'],
    conflict: 'do nothing',
  },
  snapshot_indicators: {
    columns: { symbol: 'text', timeframe: 'text', ts: 'timestamptz', values: 'jsonb' },
    key: ['symbol', 'timeframe', 'ts'],
    conflict: 'do nothing',
  },
  risk_config: {
    columns: { account: 'text', risk: 'jsonb', halted: 'boolean', last_halt_reason: 'text', updated_by: 'text', version: 'integer', ts: 'timestamptz' },
    key: ['account'],
    conflict: updateAll('risk_config', ['risk', 'halted', 'last_halt_reason', 'updated_by', 'version', 'ts'], '$t.version < excluded.version'),
    prefer: (a, b) => Number(a.version) >= Number(b.version),
  },
  risk_config_history: {
    columns: {
      id: 'text',
      account: 'text',
      version: 'integer',
      risk: 'jsonb',
      halted: 'boolean',
      last_halt_reason: 'text',
      updated_by: 'text',
      ts: 'timestamptz',
    },
    key: ['id'],
    conflict: 'do nothing',
  },
  strategies: {
    columns: {
      strategy_id: 'text',
      version: 'integer',
      account: 'text',
      action: 'text',
      definition: 'jsonb',
      updated_by: 'text',
      ts: 'timestamptz',
      message_id: 'text',
    },
    key: ['strategy_id', 'version'],
    conflict: 'do nothing',
  },
  phase5_metrics: {
    columns: {
      id: 'text',
      account: 'text',
      ts: 'timestamptz',
      trigger: 'text',
      brier_score: 'numeric',
      prediction_count: 'integer',
      recent_accuracy: 'numeric',
      ng_signal_count: 'integer',
      avg_ng_score: 'numeric',
      high_ng_trades: 'integer',
      dpi_regime: 'text',
      avg_dpi_enhancement: 'numeric',
      health_status: 'text',
    },
    key: ['id'],
    conflict: 'do nothing',
  },
  strategy_signals: {
    columns: {
      id: 'text',
      account: 'text',
      strategy_id: 'text',
      ts: 'timestamptz',
      consensus: 'text',
      confidence: 'numeric',
      risk_on_weight: 'numeric',
      risk_off_weight: 'numeric',
      holding: 'text',
      signals: 'jsonb',
    },
    key: ['id'],
    conflict: 'do nothing',
  },
  dead_letters: {
    columns: {
      id: 'text',
      actor: 'text',
      reason: 'text',
      subject: 'text',
      stream: 'text',
      stream_seq: 'bigint',
      deliveries: 'integer',
      msg_id: 'text',
      payload: 'text',
      payload_bytes: 'integer',
      ts: 'timestamptz',
    },
    key: ['id'],
    conflict: 'do nothing',
  },
}

const statements = new Map(
  Object.entries(TABLES).map(([table, spec]) => {
    const cols = Object.keys(spec.columns)
    const list = cols.map(quote).join(', ')
    const shape = cols.map((c) => `${quote(c)} ${spec.columns[c]}`).join(', ')
    return [
      table,
      `insert into ${table} (${list}) select ${list} from json_to_recordset($1::text::json) as r(${shape}) on conflict (${spec.key.join(', ')}) ${spec.conflict}`,
    ]
  }),
)

const offsets = (first: number) => `insert into consumer_offsets (consumer, stream, stream_seq)
  select * from unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::bigint[])
  on conflict (consumer, stream) do update set stream_seq = greatest(consumer_offsets.stream_seq, excluded.stream_seq), updated_at = now()`
const OFFSETS = offsets(1)

/**
 * Every table's rows and the offsets as ONE statement: each insert a data-modifying CTE, its rows
 * in parameter $i (`[]` for a table the batch has no rows of, the offsets' arrays empty when it
 * moves none). A single statement is atomic on its own, so a batch is one round trip and one socket
 * write instead of BEGIN, the statements and COMMIT — three round trips, and a write per statement
 * over 1 KB (postgres.js sends those at once), each a loopback TCP write whose kernel work is most
 * of a persister's CPU at a steady flow. Its sub-statements see one snapshot and none reads
 * another's table, so they cannot see each other's rows and need not.
 * Always every table, never the ones a batch has: a statement per set of tables was prepared and
 * planned again for each new set on each pooled connection (~5 ms of Postgres apiece, and five
 * custom plans after), and a daemon meeting its first ideas and fills met a dozen new sets in its
 * first two seconds, on the cores the pipeline needed. An empty table's CTE costs next to nothing.
 */
/** The tables in the one order every batch writes them in. */
const TABLE_ORDER = Object.keys(TABLES)
const BATCH = `with ${[...TABLE_ORDER.map((table, i) => `t${i} as (${statements.get(table)!.replace('$1::', `$${i + 1}::`)})`), `o as (${offsets(TABLE_ORDER.length + 1)})`].join(',\n')}\nselect 1`
const NO_ROWS = '[]'

function quote(column: string): string {
  return column === 'values' ? '"values"' : column
}

/**
 * A table's rows of a batch as one JSON parameter (typed text: postgres.js would JSON-encode a
 * string given for a json parameter once more), read by the statement with json_to_recordset:
 * one JSON.stringify per table instead of a text array per column escaped value by value. Numbers
 * keep the exact digits JavaScript prints (JSON writes them as String does, and Postgres reads a
 * JSON number into numeric from its text); jsonb columns are the nested values themselves. Rows
 * sharing a key collapse to the one the table prefers, or merge.
 */
function rowsOf(table: string, rows: Record<string, unknown>[]): string {
  const spec = TABLES[table]
  if (!spec) throw new Error(`no table ${table}`)
  if (rows.length === 1) return json(rows)
  const byKey = new Map<string, Record<string, unknown>>()
  for (const row of rows) {
    const key = spec.key.length === 1 ? String(row[spec.key[0]!]) : spec.key.map((k) => String(row[k])).join('\u0000')
    const seen = byKey.get(key)
    if (seen && spec.merge) byKey.set(key, spec.merge(seen, row))
    else if (!seen || !spec.prefer || spec.prefer(row, seen)) byKey.set(key, row)
  }
  // In key order, and the tables in one order (commit): batches committed side by side lock the
  // rows they share in the same order, so they wait for each other instead of deadlocking.
  return json([...byKey.keys()].sort().map((k) => byKey.get(k)!))
}

/**
 * JSON text Postgres reads: a lone UTF-16 surrogate (a string from JSON.parse of "\ud800") is
 * written by JSON.stringify as an escape Postgres refuses; it is stored as U+FFFD, as a UTF-8
 * parameter would have it. Rare, so looked for in the text before anything is redone.
 */
function json(rows: Record<string, unknown>[]): string {
  const text = JSON.stringify(rows)
  return LONE_SURROGATE_ESCAPE.test(text) ? JSON.stringify(rows, (_, v: unknown) => (typeof v === 'string' ? v.replace(LONE_SURROGATE, '\ufffd') : v)) : text
}
const LONE_SURROGATE_ESCAPE = /\\ud[89a-f]/i
const LONE_SURROGATE = /\p{Cs}/gu

const SNAPSHOT_TABLES = ['snapshot_market', 'snapshot_indicators'] as const

const prune = (table: string) =>
  `delete from ${table} where symbol = $1 and timeframe = $2 and ts < $3::timestamptz - make_interval(secs => $4::double precision)`

interface StoreOptions {
  /** Keep snapshot rows this many days behind the newest bar of their symbol and timeframe; null = forever. */
  snapshotRetentionDays?: number | null
}

/**
 * Snapshot retention, measured in bar time (the newest bar of a series), never the clock: a replay of
 * old data keeps its own window. A series is pruned once per bar-time day per process, and again
 * whenever a batch brings one of its rows from behind the window of the newest bar already seen: a
 * message delivered again after its series was pruned past it (a redelivery after ack_wait, a scope
 * rebuilt from an older checkpoint) would otherwise put back a row no later prune of that day removes.
 */
function retention(days: number | null | undefined) {
  const prunedDay = new Map<string, string>()
  /** The newest bar time written per table and series. */
  const newestSeen = new Map<string, string>()
  const windowMs = (days ?? 0) * 86_400_000
  const plan = (byTable: Map<string, Record<string, unknown>[]>) => {
    if (!days) return []
    const due: { table: string; symbol: string; timeframe: string; newest: string; mark: string; day: string }[] = []
    for (const table of SNAPSHOT_TABLES) {
      const batch = new Map<string, { symbol: string; timeframe: string; newest: string; oldest: string }>()
      for (const r of byTable.get(table) ?? []) {
        const key = `${r.symbol as string}|${r.timeframe as string}`
        const ts = r.ts as string
        const seen = batch.get(key)
        if (!seen) batch.set(key, { symbol: r.symbol as string, timeframe: r.timeframe as string, newest: ts, oldest: ts })
        else if (ts > seen.newest) seen.newest = ts
        else if (ts < seen.oldest) seen.oldest = ts
      }
      for (const [key, n] of batch) {
        const mark = `${table}|${key}`
        const before = newestSeen.get(mark)
        const newest = before !== undefined && before > n.newest ? before : n.newest
        newestSeen.set(mark, newest)
        // Strictly older, as the prune's own comparison: a row on the window's edge stays.
        const behind = Date.parse(n.oldest) < Date.parse(newest) - windowMs
        const day = newest.slice(0, 10)
        if ((prunedDay.get(mark) ?? '') >= day && !behind) continue
        due.push({ table, symbol: n.symbol, timeframe: n.timeframe, newest, mark, day })
      }
    }
    return due
  }
  /** Records the prunes of a batch once it is committed: a batch that failed prunes again when it is retried. */
  const done = (due: readonly { mark: string; day: string }[]) => {
    for (const p of due) if ((prunedDay.get(p.mark) ?? '') < p.day) prunedDay.set(p.mark, p.day)
  }
  return { due: plan, done }
}

export function createStore(sql: Sql, options: StoreOptions = {}) {
  const pruning = retention(options.snapshotRetentionDays)
  const retentionSecs = String((options.snapshotRetentionDays ?? 0) * 86_400)
  return {
    /**
     * Opens the pool's connections and prepares the batch statement on each, writing nothing (no
     * rows, no offsets), before the first batch: a daemon's first seconds of traffic otherwise
     * also paid for the connections, the statement's preparation and its first plans on each.
     */
    async warm(): Promise<void> {
      const nothing = [...TABLE_ORDER.map(() => NO_ROWS), [], [], []] as never[]
      // As many at once as the pool holds, so each connection is opened and prepares it; six
      // rounds, as Postgres plans a prepared statement anew on each of its first five executions.
      for (let round = 0; round < 6; round++) await Promise.all(Array.from({ length: sql.options.max }, () => sql.unsafe(BATCH, nothing, { prepare: true })))
    },
    async commit(writes: Write[], positions: ConsumerPosition[]): Promise<void> {
      const byTable = new Map<string, Record<string, unknown>[]>(TABLE_ORDER.map((t) => [t, []]))
      for (const w of writes) {
        const rows = byTable.get(w.table)
        if (!rows) throw new Error(`no table ${w.table}`)
        rows.push(w.row)
      }
      const prunes = pruning.due(byTable)
      // In one order too: batches of several durables commit side by side.
      const sorted = [...positions].sort((a, b) => (a.consumer < b.consumer ? -1 : a.consumer > b.consumer ? 1 : a.stream < b.stream ? -1 : 1))
      const offsetParams = [sorted.map((p) => p.consumer), sorted.map((p) => p.stream), sorted.map((p) => String(p.seq))]
      const tables = [...byTable].filter(([, rows]) => rows.length)
      try {
        if (prunes.length === 0) {
          // Nothing to prune (all but once a day per symbol): the whole batch in one statement.
          if (!tables.length && !sorted.length) return
          const params: unknown[] = TABLE_ORDER.map((table) => {
            const rows = byTable.get(table)!
            return rows.length ? rowsOf(table, rows) : NO_ROWS
          })
          params.push(...offsetParams)
          await sql.unsafe(BATCH, params as never[], { prepare: true })
          return
        }
        await sql.begin((tx) => {
          const queries = tables.map(([table, rows]) => tx.unsafe(statements.get(table)!, [rowsOf(table, rows)], { prepare: true }))
          for (const p of prunes) queries.push(tx.unsafe(prune(p.table), [p.symbol, p.timeframe, p.newest, retentionSecs] as never[], { prepare: true }))
          if (sorted.length) queries.push(tx.unsafe(OFFSETS, offsetParams as never[], { prepare: true }))
          return queries
        })
        pruning.done(prunes)
      } catch (err) {
        throw isTransient(err) ? new TransientCommitError(`database unavailable: ${(err as Error).message}`, { cause: err }) : err
      }
    },
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '40001',
  '40P01',
])

/**
 * Connection trouble, server restarts, a database refusing connections, serialization failures:
 * retry the same batch later. A FATAL error always ends the connection, whatever its code.
 */
function isTransient(err: unknown): boolean {
  const e = err as { code?: string; severity?: string } | null
  if (e?.severity === 'FATAL') return true
  const code = e?.code
  return typeof code === 'string' && (TRANSIENT_CODES.has(code) || code.startsWith('08'))
}
