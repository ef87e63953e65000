// What `paperd import` reads: the records of the systems paperd descends from, turned into
// import.trade and import.portfolio messages (one trades row per fill, one portfolio_history row per
// snapshot). Every id is made from the record's own id, so importing twice stores everything once.
// Formats (README, Importing records):
// - trader-ai-sqlite: trader-ai's SQLite database, tables `trades` and `portfolio_state`.
// - migration-export: bumpy-croc's migration_export.json, `{export_timestamp, source_database, tables}`.
// - prescient-json: a prescient-os portfolio as JSON, `{portfolio_state, portfolio_positions, trades}`.
// - trades-csv: one fill per row, `ts,symbol,side,qty,price[,commission,strategy_id,trade_id,exit_reason]`.
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import initSqlJs from 'sql.js'
import type { Message } from '../core/contracts.js'
import { csvTime, readCsvTable } from '../core/csv.js'
import { num } from '../adapters/feeds/bars.js'
import { IMPORT_FORMATS, ImportedPortfolioSchema, ImportedTradeSchema } from '../core/schemas.js'

export type ImportFormat = (typeof IMPORT_FORMATS)[number]
export type ImportMessage = Message<'import.trade'> | Message<'import.portfolio'>

interface ImportResult {
  messages: ImportMessage[]
  /** Records that could not become a message, with where and why. */
  skipped: { record: string; reason: string }[]
}

/** The account a format's records go to unless --account says otherwise. */
export const DEFAULT_ACCOUNT: Record<ImportFormat, string> = {
  'trader-ai-sqlite': 'trader-ai',
  'migration-export': 'bumpy-croc',
  'prescient-json': 'prescient',
  'trades-csv': 'imported',
}

const SQLITE_MAGIC = 'SQLite format 3\0'

/** The format of a file, from its first bytes and, for JSON, its top-level keys. */
export function detectFormat(data: Uint8Array, name: string): ImportFormat {
  if (Buffer.from(data.subarray(0, 16)).toString('latin1') === SQLITE_MAGIC) return 'trader-ai-sqlite'
  const text = Buffer.from(data.subarray(0, 1)).toString()
  if (text === '{') {
    const doc = JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown>
    if ('tables' in doc && 'export_timestamp' in doc) return 'migration-export'
    if ('portfolio_state' in doc || 'portfolio_positions' in doc) return 'prescient-json'
    throw new Error(
      `${name}: a JSON file, but neither a migration_export.json ({export_timestamp, tables}) nor a prescient portfolio ({portfolio_state, portfolio_positions})`,
    )
  }
  if (/\.csv$/i.test(name)) return 'trades-csv'
  throw new Error(`${name}: not a format paperd imports; pass --format (${IMPORT_FORMATS.join(', ')})`)
}

export async function readImport(data: Uint8Array, format: ImportFormat, account: string): Promise<ImportResult> {
  const out = new Collector(format, account)
  switch (format) {
    case 'trader-ai-sqlite':
      await traderAi(data, out)
      break
    case 'migration-export':
      migrationExport(JSON.parse(Buffer.from(data).toString('utf8')), out)
      break
    case 'prescient-json':
      prescient(JSON.parse(Buffer.from(data).toString('utf8')), out)
      break
    case 'trades-csv':
      tradesCsv(Buffer.from(data).toString('utf8'), out)
      break
  }
  return { messages: out.messages, skipped: out.skipped }
}

type Row = Record<string, unknown>

/** Builds the messages, validating each against its contract; what does not pass is skipped with the reason. */
class Collector {
  messages: ImportMessage[] = []
  skipped: ImportResult['skipped'] = []
  constructor(
    readonly format: ImportFormat,
    readonly account: string,
  ) {}

  id(...parts: (string | number)[]): string {
    return ['import', this.format, this.account, ...parts].join(':')
  }

  trade(record: string, t: Omit<Message<'import.trade'>, 'type' | 'account' | 'source'>): void {
    this.add(record, ImportedTradeSchema, { type: 'import.trade', account: this.account, source: this.format, ...t })
  }

  portfolio(record: string, p: Omit<Message<'import.portfolio'>, 'type' | 'account' | 'source'>): void {
    this.add(record, ImportedPortfolioSchema, { type: 'import.portfolio', account: this.account, source: this.format, ...p })
  }

  skip(record: string, reason: string): void {
    this.skipped.push({ record, reason })
  }

  private add(record: string, schema: typeof ImportedTradeSchema | typeof ImportedPortfolioSchema, m: unknown): void {
    const parsed = schema.safeParse(m)
    if (parsed.success) this.messages.push(parsed.data)
    else {
      const issue = parsed.error.issues[0]!
      this.skip(record, `${issue.path.join('.') || '(record)'}: ${issue.message}`)
    }
  }
}

// ---- helpers ------------------------------------------------------------------------------------

const optNum = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : num(v))

/** A legacy time as ISO-8601 UTC: naive times (SQLAlchemy writes them) are UTC. */
function isoTime(v: unknown): string {
  if (typeof v === 'number') return new Date(v > 1e11 ? v : v * 1000).toISOString()
  if (typeof v !== 'string') return String(v)
  const naive = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?(\.\d+)?$/.exec(v.trim())
  if (naive) return new Date(`${naive[1]}T${naive[2]}${naive[3] ?? ':00'}${(naive[4] ?? '').slice(0, 4)}Z`).toISOString()
  const ms = csvTime(v.trim())
  return typeof ms === 'number' ? new Date(ms).toISOString() : v
}

/** A legacy symbol as paperd writes it (a subject token): BRK.B → BRK-B, BTC/USD → BTC-USD; too long → shortened with a hash. */
function symbolOf(raw: unknown): string {
  const s = String(raw ?? '')
    .trim()
    .toUpperCase()
    .replace(/[./]/g, '-')
    .replace(/[^A-Z0-9_-]/g, '_')
  if (s.length <= 32) return s
  return `${s.slice(0, 23)}-${createHash('sha256').update(s).digest('hex').slice(0, 8).toUpperCase()}`
}

/** Legacy exit reasons, free text, as paperd's. */
function exitReasonOf(raw: unknown): Message<'import.trade'>['exit_reason'] {
  const r = String(raw ?? '').toLowerCase()
  if (!r) return 'signal'
  if (r.includes('stop')) return 'stop_loss'
  if (r.includes('profit') || r.includes('target')) return 'take_profit'
  if (r.includes('time') || r.includes('max') || r.includes('hold')) return 'max_bars'
  if (r.includes('manual') || r.includes('user')) return 'manual'
  if (r.includes('revers')) return 'reversal'
  return 'signal'
}

const phase5Of = (r: Row): Message<'import.trade'>['phase5'] => {
  const f = [r.ng_score, r.ng_multiplier, r.brier_adjustment, r.dpi_enhancement].map(optNum)
  if (f.some((x) => x === null || !Number.isFinite(x))) return null
  return { ng_score: Math.abs(f[0]!), ng_multiplier: f[1]!, brier_adjustment: f[2]!, dpi_enhancement: f[3]! }
}

/** JSON-safe copy of a record (SQLite gives Uint8Array for blobs, bigint never with sql.js defaults). */
const original = (r: Row): Row => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v]))

/** A direction or side that opens a short: SHORT or SELL, in any case. */
const isShort = (v: unknown) => ['short', 'sell'].includes(String(v ?? '').toLowerCase())

// ---- trader-ai (SQLite) -------------------------------------------------------------------------

async function traderAi(data: Uint8Array, out: Collector): Promise<void> {
  const SQL = await initSqlJs({ locateFile: (file: string) => createRequire(import.meta.url).resolve(`sql.js/dist/${file}`) })
  const db = new SQL.Database(data)
  try {
    const tables = new Set((db.exec("select name from sqlite_master where type = 'table'")[0]?.values ?? []).map((v) => String(v[0])))
    if (!tables.has('trades') && !tables.has('portfolio_state')) throw new Error('no trades or portfolio_state table: not a trader-ai database')
    const rows = (sql: string): Row[] => {
      const r = db.exec(sql)[0]
      return r ? r.values.map((v) => Object.fromEntries(r.columns.map((c, i) => [c, v[i]]))) : []
    }
    // trader-ai opened and closed each trade at once (its pnl decided at random): the entry at
    // entry_price, and the exit at exit_price, or where its P&L puts it when none was written.
    if (tables.has('trades'))
      for (const r of rows('select * from trades order by timestamp, id')) {
        const record = `trades ${String(r.trade_id ?? r.id)}`
        const long = !isShort(r.direction)
        const size = num(r.position_size)
        const entry = num(r.entry_price)
        const qty = size / entry
        const ts = isoTime(r.timestamp)
        const common = {
          ts,
          strategy_id: 'trader-ai',
          symbol: symbolOf(r.symbol),
          commission: 0,
          position_id: out.id(String(r.trade_id)),
          is_simulation: r.is_simulation !== 0,
          original: original(r),
        }
        out.trade(record, {
          ...common,
          id: out.id(String(r.trade_id), 'entry'),
          side: long ? 'buy' : 'sell',
          intent: 'entry',
          qty,
          price: entry,
          exit_reason: null,
          phase5: phase5Of(r),
        })
        const pnl = optNum(r.pnl)
        const exit = optNum(r.exit_price) ?? (pnl === null ? null : entry * (1 + (long ? pnl : -pnl) / size))
        if (exit !== null)
          out.trade(record, {
            ...common,
            id: out.id(String(r.trade_id), 'exit'),
            side: long ? 'sell' : 'buy',
            intent: 'exit',
            qty,
            price: exit,
            exit_reason: 'signal',
            phase5: null,
          })
      }
    // portfolio_state is append-only; the latest active row is the state trader-ai recovers.
    if (tables.has('portfolio_state')) {
      const snaps = rows('select * from portfolio_state order by timestamp, id')
      const active = snaps.filter((r) => r.is_active !== 0)
      const current = (active.length ? active : snaps).at(-1)
      for (const r of snaps) {
        const capital = num(r.capital)
        out.portfolio(`portfolio_state ${String(r.id)}`, {
          id: out.id('portfolio', String(r.id)),
          ts: isoTime(r.timestamp),
          starting_cash: num(r.initial_capital),
          cash: capital,
          equity: capital,
          realized_pnl: num(r.total_pnl),
          trade_count: num(r.trade_count),
          winning_trades: num(r.winning_trades),
          current: r === current,
          original: original(r),
        })
      }
    }
  } finally {
    db.close()
  }
}

// ---- bumpy-croc (migration_export.json) --------------------------------------------------------

function migrationExport(doc: { tables?: Record<string, Row[]> }, out: Collector): void {
  const tables = doc.tables ?? {}
  const sessions = new Map((tables.trading_sessions ?? []).map((s) => [String(s.id), s]))
  // Completed trades: an entry and an exit each, the commission with the exit.
  for (const r of tables.trades ?? []) {
    const record = `trades ${String(r.id)}`
    const long = !isShort(r.side)
    const qty = num(r.quantity)
    if (!Number.isFinite(qty)) {
      out.skip(record, 'no quantity (bumpy-croc sizes by balance fraction; the units are not in the record)')
      continue
    }
    const common = {
      strategy_id: String(r.strategy_name ?? 'bumpy-croc'),
      symbol: symbolOf(r.symbol),
      qty,
      position_id: out.id('position', String(r.position_id ?? r.id)),
      is_simulation: String(r.source ?? 'paper').toLowerCase() !== 'live',
      phase5: null,
      original: original(r),
    }
    out.trade(record, {
      ...common,
      id: out.id(String(r.id), 'entry'),
      ts: isoTime(r.entry_time),
      side: long ? 'buy' : 'sell',
      intent: 'entry',
      price: num(r.entry_price),
      commission: 0,
      exit_reason: null,
    })
    if (r.exit_price !== null && r.exit_price !== undefined)
      out.trade(record, {
        ...common,
        id: out.id(String(r.id), 'exit'),
        ts: isoTime(r.exit_time ?? r.entry_time),
        side: long ? 'sell' : 'buy',
        intent: 'exit',
        price: num(r.exit_price),
        commission: optNum(r.commission) ?? 0,
        exit_reason: exitReasonOf(r.exit_reason),
      })
  }
  const history = [...(tables.account_history ?? [])].sort((a, b) => isoTime(a.timestamp).localeCompare(isoTime(b.timestamp)))
  const last = history.at(-1)
  for (const r of history) {
    const session = sessions.get(String(r.session_id))
    out.portfolio(`account_history ${String(r.id)}`, {
      id: out.id('account_history', String(r.id)),
      ts: isoTime(r.timestamp),
      starting_cash: optNum(session?.initial_balance) ?? num(history[0]!.balance),
      cash: num(r.balance),
      equity: optNum(r.equity) ?? num(r.balance),
      realized_pnl: optNum(r.total_pnl) ?? 0,
      trade_count: (tables.trades ?? []).length,
      winning_trades: (tables.trades ?? []).filter((t) => num(t.pnl) > 0).length,
      current: r === last,
      original: original(r),
    })
  }
}

// ---- prescient-os (JSON portfolio) --------------------------------------------------------------

function prescient(doc: { portfolio_state?: Row; portfolio_positions?: Row[]; trades?: Row[] }, out: Collector): void {
  // Positions carry entry and exit; without them, the trades log carries the entries.
  const positions = doc.portfolio_positions ?? doc.trades ?? []
  for (const r of positions) {
    const record = `position ${String(r.trade_id)}`
    // A YES and a NO share of one market are different instruments.
    const outcome = String(r.action ?? '').toLowerCase() === 'buy_no' ? 'NO' : 'YES'
    const symbol = symbolOf(`PM-${String(r.market_id ?? '')}-${outcome}`)
    const price = num(r.entry_price)
    // prescient's amount is dollars; the shares are what it bought with them.
    const qty = num(r.amount) / price
    const common = {
      strategy_id: 'prescient',
      symbol,
      qty,
      commission: 0,
      position_id: out.id(String(r.trade_id)),
      is_simulation: true,
      phase5: null,
      original: original(r),
    }
    out.trade(record, {
      ...common,
      id: out.id(String(r.trade_id), 'entry'),
      ts: isoTime(r.entry_timestamp ?? r.timestamp),
      side: 'buy',
      intent: 'entry',
      price,
      exit_reason: null,
    })
    if (String(r.status) === 'closed' && r.exit_price !== null && r.exit_price !== undefined)
      out.trade(record, {
        ...common,
        id: out.id(String(r.trade_id), 'exit'),
        ts: isoTime(r.exit_timestamp ?? r.entry_timestamp),
        side: 'sell',
        intent: 'exit',
        price: num(r.exit_price),
        exit_reason: 'signal',
      })
  }
  const s = doc.portfolio_state
  if (s) {
    const cash = num(s.balance)
    const invested = optNum(s.total_invested) ?? 0
    const realized = optNum(s.total_profit_loss) ?? 0
    const closed = positions.filter((p) => String(p.status) === 'closed')
    out.portfolio('portfolio_state', {
      id: out.id('portfolio_state', isoTime(s.last_updated ?? s.created_at)),
      ts: isoTime(s.last_updated ?? s.created_at),
      // What it started with: the balance plus what is invested, less what was made.
      starting_cash: cash + invested - realized,
      cash,
      // Open positions at cost: prescient marks them by polling prices paperd does not have.
      equity: cash + invested,
      realized_pnl: realized,
      trade_count: optNum(s.trade_count) ?? positions.length,
      winning_trades: closed.filter((p) => num(p.realized_pnl) > 0).length,
      current: true,
      original: original(s),
    })
  }
}

// ---- generic trades CSV -------------------------------------------------------------------------

const CSV_COLUMNS = {
  ts: ['ts', 'timestamp', 'date', 'datetime', 'time'],
  symbol: ['symbol', 'ticker'],
  side: ['side', 'action', 'direction'],
  qty: ['qty', 'quantity', 'shares', 'size'],
  price: ['price', 'fill_price'],
  commission: ['commission', 'fee', 'fees'],
  strategy_id: ['strategy_id', 'strategy'],
  trade_id: ['trade_id', 'id'],
  exit_reason: ['exit_reason'],
} as const

function tradesCsv(text: string, out: Collector): void {
  const { header, rows } = readCsvTable(text, 'trades csv')
  const at = Object.fromEntries(
    Object.entries(CSV_COLUMNS).map(([k, names]) => [k, header.findIndex((h) => (names as readonly string[]).includes(h))]),
  ) as Record<keyof typeof CSV_COLUMNS, number>
  const missing = (['ts', 'symbol', 'side', 'qty', 'price'] as const).filter((k) => at[k] < 0)
  if (missing.length)
    throw new Error(`trades csv: the header lacks ${missing.join(', ')} (expected ts,symbol,side,qty,price[,commission,strategy_id,trade_id,exit_reason])`)
  // Entry or exit, and which position, follow from the running position per symbol.
  const held = new Map<string, { qty: number; n: number }>()
  for (const r of rows) {
    const cell = (k: keyof typeof CSV_COLUMNS) => (at[k] >= 0 ? (r.cells[at[k]] ?? '') : '')
    const record = `line ${r.line}`
    const raw = cell('side').toLowerCase()
    const side = raw === 'buy' || raw === 'long' || raw === 'b' ? 'buy' : raw === 'sell' || raw === 'short' || raw === 's' ? 'sell' : null
    if (!side) {
      out.skip(record, `side "${cell('side')}": expected buy or sell`)
      continue
    }
    const ms = csvTime(cell('ts'))
    if (typeof ms === 'string') {
      out.skip(record, ms)
      continue
    }
    const symbol = symbolOf(cell('symbol'))
    const qty = num(cell('qty'))
    const p = held.get(symbol) ?? { qty: 0, n: 0 }
    const signed = side === 'buy' ? qty : -qty
    const closing = p.qty !== 0 && Math.sign(signed) !== Math.sign(p.qty)
    if (p.qty === 0) p.n++
    const position = p.n
    p.qty = Math.abs(p.qty + signed) < 1e-9 ? 0 : p.qty + signed
    held.set(symbol, p)
    const own = cell('trade_id') || createHash('sha256').update(r.cells.join('\u0000')).digest('hex').slice(0, 16)
    out.trade(record, {
      id: out.id(own),
      ts: new Date(ms).toISOString(),
      strategy_id: cell('strategy_id') || 'imported',
      symbol,
      side,
      intent: closing ? 'exit' : 'entry',
      qty,
      price: num(cell('price')),
      commission: cell('commission') ? num(cell('commission')) : 0,
      position_id: out.id(symbol, position),
      exit_reason: closing ? exitReasonOf(cell('exit_reason')) : null,
      is_simulation: true,
      phase5: null,
      original: Object.fromEntries(header.map((h, i) => [h, r.cells[i] ?? ''])),
    })
  }
}
