// Bar CSV input for `paperd replay`: Yahoo-style `Date,Open,High,Low,Close,Adj Close,Volume` and
// generic `ts,open,high,low,close,volume`. OHLC consistency is NOT checked here: market-snapshots
// validates bars and dead-letters bad ones, so replay exercises the same path as live input.

import { CANONICAL_TS } from './schemas.js'

export interface CsvBar {
  ts: string
  open: number
  high: number
  low: number
  close: number
  volume: number
}

export interface SkippedRow {
  line: number
  reason: string
}

export interface ParsedBars {
  bars: CsvBar[]
  skipped: SkippedRow[]
}

type Field = keyof CsvBar
const FIELDS: readonly Field[] = ['ts', 'open', 'high', 'low', 'close', 'volume']

// Header names (lower-cased) accepted for each field. `adj close` is deliberately absent: prices
// come from Open..Close, and dividend/split-adjusted closes would not match the unadjusted OHLC.
const ALIASES: Record<Field, readonly string[]> = {
  ts: ['ts', 'date', 'timestamp', 'datetime'],
  open: ['open'],
  high: ['high'],
  low: ['low'],
  close: ['close'],
  volume: ['volume'],
}

const ACCEPTED_HEADERS =
  'Yahoo-style "Date,Open,High,Low,Close,Adj Close,Volume" or generic "ts,open,high,low,close,volume" ' +
  '(names case-insensitive, any order, extra columns ignored)'

interface CsvRecord {
  line: number
  cells: string[]
}

// RFC 4180-ish: quoted fields may hold commas, doubled quotes and newlines; CRLF, CR or LF end a
// record. Cells are trimmed (no field here is whitespace-sensitive, and exporters pad numbers);
// blank records are dropped. `line` is where a record starts, for messages. A line without a quote
// (nearly every line of a bar file) is cut at its commas in one go; a line with one is read
// character by character.
function splitCsv(text: string, source: string): CsvRecord[] {
  const records: CsvRecord[] = []
  let line = 1
  for (let i = 0; i <= text.length; ) {
    let eol = i
    let quote = false
    for (; eol < text.length; eol++) {
      const c = text.charCodeAt(eol)
      if (c === LF || c === CR) break
      if (c === QUOTE) quote = true
    }
    if (quote) {
      const r = quotedRecord(text, i, line, source)
      if (r.cells.length > 1 || r.cells[0] !== '') records.push({ line, cells: r.cells })
      line = r.line
      i = r.next
      continue
    }
    const cells = text.slice(i, eol).split(',')
    for (let k = 0; k < cells.length; k++) cells[k] = cells[k]!.trim()
    if (cells.length > 1 || cells[0] !== '') records.push({ line, cells })
    line++
    i = text.charCodeAt(eol) === CR && text.charCodeAt(eol + 1) === LF ? eol + 2 : eol + 1
  }
  return records
}

const LF = 10
const CR = 13
const QUOTE = 34

/** One record from `start`, read character by character: its cells, the line after it and where the next one starts. */
function quotedRecord(text: string, start: number, firstLine: number, source: string): { cells: string[]; line: number; next: number } {
  const cells: string[] = []
  let cell = ''
  let quoted = false
  let line = firstLine
  for (let i = start; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"'
          i++
        } else {
          quoted = false
        }
      } else {
        if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) line++
        cell += ch
      }
    } else if (ch === '"') {
      quoted = true
    } else if (ch === ',') {
      cells.push(cell.trim())
      cell = ''
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++
      cells.push(cell.trim())
      return { cells, line: line + 1, next: i + 1 }
    } else {
      cell += ch
    }
  }
  if (quoted) throw new Error(`${source}:${firstLine}: unterminated quoted field`)
  cells.push(cell.trim())
  return { cells, line, next: text.length + 1 }
}

function mapHeader(cells: string[], where: string): Record<Field, number> {
  const names = cells.map((c) => c.trim().toLowerCase())
  const index: Partial<Record<Field, number>> = {}
  for (const field of FIELDS) {
    const hits = names.flatMap((n, i) => (ALIASES[field].includes(n) ? [i] : []))
    if (hits.length > 1) {
      throw new Error(`${where}: more than one column for "${field}" (${hits.map((i) => cells[i]).join(', ')})`)
    }
    if (hits[0] !== undefined) index[field] = hits[0]
  }
  const missing = FIELDS.filter((f) => index[f] === undefined)
  if (missing.length > 0) {
    throw new Error(`${where}: unrecognised CSV header "${cells.join(',')}" (missing ${missing.join(', ')}); ` + `expected ${ACCEPTED_HEADERS}`)
  }
  return index as Record<Field, number>
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$/i
const DATE_TIME_NO_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/i
const EPOCH = /^\d+(?:\.\d+)?$/
// Below 1e11 a number is epoch seconds (1e11 s is the year 5138); below 1e14 milliseconds. Below
// 1e8 (1973) it is more likely a YYYYMMDD date such as 20200102, which as seconds would land in
// 1970 without any error, so it is refused.
const MIN_EPOCH_SECONDS = 1e8
const MAX_EPOCH_SECONDS = 1e11
const MAX_EPOCH_MS = 1e14

/** Whether `ms` falls on the UTC day `raw` starts with (2021-02-30 would have rolled over to March). */
function sameDay(ms: number, raw: string): boolean {
  const d = new Date(ms)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth() + 1
  const day = d.getUTCDate()
  return (
    y === Number(raw.slice(0, 4)) &&
    m === (raw.charCodeAt(5) - 48) * 10 + raw.charCodeAt(6) - 48 &&
    day === (raw.charCodeAt(8) - 48) * 10 + raw.charCodeAt(9) - 48
  )
}

// Date.UTC and V8's parser roll 2021-02-30 over to March; reject instead of silently moving a bar.
function isCalendarDate(raw: string): boolean {
  const [y, m, d] = raw.slice(0, 10).split('-').map(Number) as [number, number, number]
  const check = new Date(Date.UTC(y, m - 1, d))
  return check.getUTCFullYear() === y && check.getUTCMonth() === m - 1 && check.getUTCDate() === d
}

// What exporters write most: a date, or a UTC date-time with optional milliseconds. Date.parse
// reads these exactly; the calendar check is the parsed day printed back.
const PLAIN_UTC = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z)?$/

/** Returns epoch ms, or a reason string when the cell is not a usable timestamp. */
function parseTs(raw: string): number | string {
  if (PLAIN_UTC.test(raw)) {
    const ms = Date.parse(raw.length === 10 ? `${raw}T00:00:00.000Z` : raw)
    if (!Number.isNaN(ms) && sameDay(ms, raw)) return ms
    return raw.length === 10 ? `invalid date "${raw}"` : `invalid date-time "${raw}"`
  }
  if (DATE_TIME.test(raw)) {
    // V8 is lenient, but normalise the variants it might not accept: lower case, space separator,
    // +HHMM and +HH offsets.
    const iso = raw
      .toUpperCase()
      .replace(' ', 'T')
      .replace(/([+-]\d{2})(\d{2})$/, '$1:$2')
      .replace(/([+-]\d{2})$/, '$1:00')
    const ms = Date.parse(iso)
    return isCalendarDate(raw) && !Number.isNaN(ms) ? ms : `invalid date-time "${raw}"`
  }
  if (DATE_TIME_NO_ZONE.test(raw)) {
    // Guessing UTC or local time could shift every bar by hours; make the file say which.
    return `date-time without a time zone "${raw}" (add Z or an offset such as +00:00)`
  }
  if (EPOCH.test(raw)) {
    const n = Number(raw)
    if (n < MIN_EPOCH_SECONDS) return `ambiguous timestamp "${raw}" (use YYYY-MM-DD, ISO 8601 or epoch seconds/ms)`
    if (n < MAX_EPOCH_SECONDS) return Math.round(n * 1000)
    if (n < MAX_EPOCH_MS) return Math.round(n)
    return `epoch value out of range "${raw}" (seconds or milliseconds expected)`
  }
  return raw === '' ? 'empty timestamp' : `unrecognised timestamp "${raw}"`
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i

/** Returns the number, or a reason string. */
function parseNumber(raw: string, header: string): number | string {
  if (raw === '') return `empty ${header}`
  if (raw.length === 4 && raw.toLowerCase() === 'null') return `null ${header}`
  // Number('') is 0 and Number('0x10') is 16: only accept plain decimal notation.
  if (!DECIMAL.test(raw)) return `non-numeric ${header} "${raw}"`
  const n = Number(raw)
  return Number.isFinite(n) ? n : `non-finite ${header} "${raw}"`
}

/** A bar read from one record, its time in epoch ms for sorting, and the line it came from. */
interface ParsedRow {
  ms: number
  line: number
  bar: CsvBar
}

/** The bar of one record, or why it is none. Hot: once per row of files of hundreds of thousands. */
function parseRow(record: CsvRecord, index: Record<Field, number>, header: string[], width: number): ParsedRow | string {
  const cells = record.cells
  if (cells.length < width) return `expected at least ${width} columns, got ${cells.length}`
  const raw = cells[index.ts] ?? ''
  const ms = parseTs(raw)
  if (typeof ms === 'string') return ms
  const open = parseNumber(cells[index.open] ?? '', header[index.open] ?? 'open')
  if (typeof open === 'string') return open
  const high = parseNumber(cells[index.high] ?? '', header[index.high] ?? 'high')
  if (typeof high === 'string') return high
  const low = parseNumber(cells[index.low] ?? '', header[index.low] ?? 'low')
  if (typeof low === 'string') return low
  const close = parseNumber(cells[index.close] ?? '', header[index.close] ?? 'close')
  if (typeof close === 'string') return close
  const volume = parseNumber(cells[index.volume] ?? '', header[index.volume] ?? 'volume')
  if (typeof volume === 'string') return volume
  return { ms, line: record.line, bar: { ts: isoOf(raw, ms), open, high, low, close, volume } }
}

/** The bar time as ISO-8601 UTC with milliseconds: what most files hold already is kept, not printed again. */
function isoOf(raw: string, ms: number): string {
  if (raw.length === 24 && CANONICAL_TS.test(raw)) return raw
  if (raw.length === 10 && DATE_ONLY.test(raw)) return `${raw}T00:00:00.000Z`
  return new Date(ms).toISOString()
}

/**
 * Parses a bar CSV. Throws (with `source:line`) when the header is not recognised; rows that cannot
 * become a bar (`null` cells, non-numeric values, bad dates, duplicate timestamps) are returned in
 * `skipped` so the caller can report them. Bars come back sorted ascending by ts.
 */
export function parseBarsCsv(text: string, source = 'csv'): ParsedBars {
  const records = splitCsv(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, source)
  const [head, ...rows] = records
  if (!head) throw new Error(`${source}: empty file; expected a header: ${ACCEPTED_HEADERS}`)
  const index = mapHeader(head.cells, `${source}:${head.line}`)

  const parsed: ParsedRow[] = []
  const skipped: SkippedRow[] = []
  const width = Math.max(...Object.values(index)) + 1
  let ordered = true
  for (const record of rows) {
    const result = parseRow(record, index, head.cells, width)
    if (typeof result === 'string') skipped.push({ line: record.line, reason: result })
    else {
      if (ordered && parsed.length && parsed[parsed.length - 1]!.ms > result.ms) ordered = false
      parsed.push(result)
    }
  }

  // Stable sort keeps file order among equal timestamps, so "first one wins" below is well defined.
  // A file in time order (nearly every one) needs none.
  if (!ordered) parsed.sort((a, b) => a.ms - b.ms)
  const bars: CsvBar[] = []
  let prev: { ms: number; line: number } | undefined
  for (const p of parsed) {
    // Two bars for one instant would be counted twice by every indicator downstream.
    if (prev && prev.ms === p.ms) {
      skipped.push({ line: p.line, reason: `duplicate ts ${p.bar.ts} (first at line ${prev.line})` })
      continue
    }
    bars.push(p.bar)
    prev = p
  }
  skipped.sort((a, b) => a.line - b.line)
  return { bars, skipped }
}

/** One NarrativeGap context row (what md.in.context carries). */
export interface CsvContext {
  ts: string
  consensus_forecast: number
  distribution_estimate: number
}

/**
 * Parses a context CSV `ts,consensus_forecast,distribution_estimate` (ts as in bar files; names
 * case-insensitive, any order, extra columns ignored) for `paperd backtest --context`. Rows that
 * cannot be read are returned in `skipped`; contexts come back sorted by ts.
 */
export function parseContextCsv(text: string, source = 'csv'): { contexts: CsvContext[]; skipped: SkippedRow[] } {
  const [head, ...rows] = splitCsv(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, source)
  const names = ['ts', 'consensus_forecast', 'distribution_estimate'] as const
  const lower = head?.cells.map((c) => c.toLowerCase()) ?? []
  const at = names.map((n) => (n === 'ts' ? lower.findIndex((c) => ALIASES.ts.includes(c)) : lower.indexOf(n)))
  if (!head || at.some((i) => i < 0)) throw new Error(`${source}:${head?.line ?? 1}: expected a header "ts,consensus_forecast,distribution_estimate"`)
  const contexts: (CsvContext & { ms: number })[] = []
  const skipped: SkippedRow[] = []
  for (const r of rows) {
    const ms = parseTs(r.cells[at[0]!] ?? '')
    const cf = parseNumber(r.cells[at[1]!] ?? '', 'consensus_forecast')
    const de = parseNumber(r.cells[at[2]!] ?? '', 'distribution_estimate')
    const bad = [ms, cf, de].find((v) => typeof v === 'string')
    if (bad !== undefined) skipped.push({ line: r.line, reason: bad as string })
    else contexts.push({ ms: ms as number, ts: new Date(ms as number).toISOString(), consensus_forecast: cf as number, distribution_estimate: de as number })
  }
  contexts.sort((a, b) => a.ms - b.ms)
  return { contexts: contexts.map(({ ms: _, ...c }) => c), skipped }
}

/** A CSV of anything else (paperd import's trades): its header, lower-cased, and its records. */
export function readCsvTable(text: string, source = 'csv'): { header: string[]; rows: CsvRecord[] } {
  const [head, ...rows] = splitCsv(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, source)
  return { header: head?.cells.map((c) => c.toLowerCase()) ?? [], rows }
}

/** A time cell read as bar files' times are (a date, a date-time with or without zone, epoch s/ms): ms, or why not. */
export const csvTime = (raw: string): number | string => parseTs(raw)
