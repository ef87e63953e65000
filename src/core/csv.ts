// Bar CSV input for `paperd replay`: Yahoo-style `Date,Open,High,Low,Close,Adj Close,Volume` and
// generic `ts,open,high,low,close,volume`. OHLC consistency is NOT checked here: market-snapshots
// validates bars and dead-letters bad ones, so replay exercises the same path as live input.

import { CANONICAL_TS } from './schemas.js'
import { digitsAt, isCalendarDay, isClockTime } from './utc-digits.js'
import { doubled } from './typed-arrays.js'

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

/**
 * Bars as columns: bar `k` is `ts[k]`, `open[k]`, … A file of 200k rows read as objects is a million
 * objects (every price a number object of its own) that outlive the young generation: copying them
 * out of it was most of the time a backtest spent in the collector. As columns they are six.
 */
export interface BarColumns {
  length: number
  /**
   * Set by the parser when every time follows the one before (nothing to sort or merge); its times
   * are then canonical (YYYY-MM-DDTHH:MM:SS.mmmZ) and real instants, read digit by digit.
   */
  strict?: true
  ts: string[]
  open: Float64Array
  high: Float64Array
  low: Float64Array
  close: Float64Array
  volume: Float64Array
}

export interface ParsedBarColumns {
  bars: BarColumns
  skipped: SkippedRow[]
}

/** The bars of `columns` as objects. */
export function barObjects(columns: BarColumns): CsvBar[] {
  const { ts, open, high, low, close, volume } = columns
  const out = new Array<CsvBar>(columns.length)
  for (let k = 0; k < columns.length; k++) out[k] = { ts: ts[k]!, open: open[k]!, high: high[k]!, low: low[k]!, close: close[k]!, volume: volume[k]! }
  return out
}

/** Whether `bars` are columns (BarColumns) rather than objects. */
export const isColumns = (bars: CsvBar[] | BarColumns): bars is BarColumns => !Array.isArray(bars)

/**
 * Rows read so far, as growing columns; each row also with its time in ms and its line. Sized from
 * the file at the start (its length over the first line's), so a file's rows rarely move.
 */
class Rows {
  n = 0
  /** The numbers of the row rowAt is reading, by FIELDS index (0, the time, unused). */
  readonly values = new Float64Array(FIELDS.length)
  /** Where the cell decimalCell read last ends: its comma, or the line's end. */
  cellEnd = 0
  readonly days: DayStart = { day: -1, ms: 0 }
  ts: string[]
  ms: Float64Array
  line: Int32Array
  open: Float64Array
  high: Float64Array
  low: Float64Array
  close: Float64Array
  volume: Float64Array

  constructor(capacity: number) {
    const n = Math.max(16, capacity)
    // Preallocated, as the typed columns are: pushed one by one it grew, and was copied, ~30 times.
    this.ts = new Array<string>(n)
    this.ms = new Float64Array(n)
    this.line = new Int32Array(n)
    this.open = new Float64Array(n)
    this.high = new Float64Array(n)
    this.low = new Float64Array(n)
    this.close = new Float64Array(n)
    this.volume = new Float64Array(n)
  }

  push(ts: string, ms: number, line: number, open: number, high: number, low: number, close: number, volume: number): void {
    const k = this.n++
    if (k === this.ms.length) {
      this.ts.length = 2 * k
      this.ms = doubled(this.ms)
      this.line = doubled(this.line)
      this.open = doubled(this.open)
      this.high = doubled(this.high)
      this.low = doubled(this.low)
      this.close = doubled(this.close)
      this.volume = doubled(this.volume)
    }
    this.ts[k] = ts
    this.ms[k] = ms
    this.line[k] = line
    this.open[k] = open
    this.high[k] = high
    this.low[k] = low
    this.close[k] = close
    this.volume[k] = volume
  }
}

/** How many lines `text` has at most (its LFs + 1): room for its rows (growing fresh columns costs page faults, not only copies). */
function linesIn(text: string): number {
  let n = 1
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++
  return n
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
  eachRecord(text, source, (line, cells) => {
    records.push({ line, cells })
  })
  return records
}

/**
 * Hands each record to `take` as it is read, with the line it starts on (what splitCsv collects; a
 * bar file of hundreds of thousands of rows is parsed without holding them all as records first).
 */
function eachRecord(
  text: string,
  source: string,
  take: (line: number, cells: string[]) => void,
  fast?: (start: number, end: number, line: number) => boolean,
): void {
  if (plainLines(text)) {
    // No quote anywhere and no line ended by a lone CR (nearly every bar file): lines are found with
    // indexOf and cut at their commas, without looking at each character here — or, where `fast`
    // takes the line as it stands (start, end), not cut at all.
    let line = 1
    for (let i = 0; i <= text.length; line++) {
      let eol = text.indexOf('\n', i)
      if (eol < 0) eol = text.length
      const end = eol > i && text.charCodeAt(eol - 1) === CR ? eol - 1 : eol
      if (fast?.(i, end, line)) {
        i = eol + 1
        continue
      }
      const cells = text.slice(i, end).split(',')
      for (let k = 0; k < cells.length; k++) cells[k] = cells[k]!.trim()
      if (cells.length > 1 || cells[0] !== '') take(line, cells)
      i = eol + 1
    }
    return
  }
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
      if (r.cells.length > 1 || r.cells[0] !== '') take(line, r.cells)
      line = r.line
      i = r.next
      continue
    }
    const cells = text.slice(i, eol).split(',')
    for (let k = 0; k < cells.length; k++) cells[k] = cells[k]!.trim()
    if (cells.length > 1 || cells[0] !== '') take(line, cells)
    line++
    i = text.charCodeAt(eol) === CR && text.charCodeAt(eol + 1) === LF ? eol + 2 : eol + 1
  }
}

const LF = 10
const CR = 13
const QUOTE = 34

/** Whether `text` has no quote and every CR in it starts a CRLF. */
function plainLines(text: string): boolean {
  if (text.indexOf('"') >= 0) return false
  for (let cr = text.indexOf('\r'); cr >= 0; cr = text.indexOf('\r', cr + 1)) if (text.charCodeAt(cr + 1) !== LF) return false
  return true
}

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

/**
 * Epoch ms of a date or UTC date-time PLAIN_UTC matched, read from its digits (a bar file has one
 * per row: Date.parse and a Date to check the day cost more than the rest of the row). NaN when the
 * fields are not a real instant: 2021-02-30, 24:00, a 60th second.
 */
function plainUtcMs(raw: string, days?: DayStart): number {
  const y = digitsAt(raw, 0, 4)
  const m = digitsAt(raw, 5, 7)
  const d = digitsAt(raw, 8, 10)
  if (!isCalendarDay(y, m, d)) return NaN
  let hh = 0
  let mm = 0
  let ss = 0
  let ms = 0
  if (raw.length > 10) {
    hh = digitsAt(raw, 11, 13)
    mm = digitsAt(raw, 14, 16)
    ss = digitsAt(raw, 17, 19)
    if (!isClockTime(hh, mm, ss)) return NaN
    // .5 is 500 ms, .05 is 50: the fraction's digits, scaled to three.
    const frac = raw.length - 21 // digits between "ss." and "Z"; 0 or less when there is no fraction
    if (frac > 0) ms = digitsAt(raw, 20, 20 + frac) * 10 ** (3 - frac)
  }
  // Date.UTC reads years 0–99 as 1900–1999; Date.parse reads them as written.
  if (y < 100) return Date.parse(raw.length === 10 ? `${raw}T00:00:00.000Z` : raw)
  if (!days) return Date.UTC(y, m - 1, d, hh, mm, ss, ms)
  // Rows of one day follow each other in a file: the day's start is worked out once.
  const day = (y * 12 + m) * 31 + d
  if (day !== days.day) {
    days.day = day
    days.ms = Date.UTC(y, m - 1, d)
  }
  return days.ms + ((hh * 60 + mm) * 60 + ss) * 1000 + ms
}

/** The last day a file's rows were on ((y·12 + m)·31 + d) and its first ms: one per parse. */
interface DayStart {
  day: number
  ms: number
}

// V8's parser rolls 2021-02-30 over to March; reject instead of silently moving a bar.
const isCalendarDate = (raw: string): boolean => isCalendarDay(digitsAt(raw, 0, 4), digitsAt(raw, 5, 7), digitsAt(raw, 8, 10))

// What exporters write most: a date, or a UTC date-time with optional milliseconds: read from their
// digits (plainUtcMs).
const PLAIN_UTC = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z)?$/

/** Returns epoch ms, or a reason string when the cell is not a usable timestamp. */
function parseTs(raw: string): number | string {
  if (PLAIN_UTC.test(raw)) {
    const ms = plainUtcMs(raw)
    if (!Number.isNaN(ms)) return ms
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
  const fast = plainDecimal(raw)
  if (!Number.isNaN(fast)) return fast // what nearly every cell of a price file is
  if (raw === '') return `empty ${header}`
  if (raw.length === 4 && raw.toLowerCase() === 'null') return `null ${header}`
  // Number('') is 0 and Number('0x10') is 16: only accept plain decimal notation.
  if (!DECIMAL.test(raw)) return `non-numeric ${header} "${raw}"`
  const n = Number(raw)
  return Number.isFinite(n) ? n : `non-finite ${header} "${raw}"`
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15]

/**
 * Number(raw) for a plain decimal of at most 15 digits ("49.51", "-3", "1021445", ".5"), read from
 * its characters; NaN for anything else (the caller then takes the general path). Exact: the digits
 * as an integer (< 10^15 < 2^53) and 10^k (k ≤ 15) are doubles exactly, and one division of two
 * exact doubles is correctly rounded — as Number() rounds the decimal itself.
 */
function plainDecimal(raw: string): number {
  const at: CellEnd = { cellEnd: 0 }
  const v = decimalCell(raw, 0, raw.length, at)
  // A comma inside the cell (a quoted one) ends a cell for decimalCell, not the number.
  return at.cellEnd === raw.length ? v : NaN
}

const ZERO = 48
const NINE = 57
const POINT = 46
const PLUS = 43
const MINUS = 45

const COMMA = 44

/** Per cell of a row, up to the last one a bar reads: the FIELDS index of what it holds, or -1. */
type CellFields = Int8Array

function cellFieldsOf(index: Record<Field, number>, width: number): CellFields {
  const fields = new Int8Array(width).fill(-1)
  FIELDS.forEach((field, k) => {
    fields[index[field]] = k
  })
  return fields
}

/** Where the cell decimalCell read last ends: its comma, or the end it was given. */
interface CellEnd {
  cellEnd: number
}

/**
 * plainDecimal of the cell from `start` (to the next comma, or `end`), read in the same pass that
 * finds its end (set in `at.cellEnd`), without cutting it out.
 */
function decimalCell(text: string, start: number, end: number, at: CellEnd): number {
  let i = start
  let c = i < end ? text.charCodeAt(i) : COMMA
  const negative = c === MINUS
  if (negative || c === PLUS) i++
  let m = 0
  let digits = 0
  let frac = -1 // digits after the point; -1 before one
  for (; i < end; i++) {
    c = text.charCodeAt(i)
    if (c >= ZERO && c <= NINE) {
      m = m * 10 + (c - ZERO)
      digits++
      if (frac >= 0) frac++
    } else if (c === POINT && frac < 0) frac = 0
    else if (c === COMMA) break
    else return NaN
  }
  at.cellEnd = i
  if (digits === 0 || digits > 15 || i - start > 17) return NaN
  const v = frac > 0 ? m / POW10[frac]! : m
  return negative ? -v : v
}

/**
 * Adds to `rows` the bar of the line from `start` to `end` (number `line`) when every cell it reads
 * is in the form nearly every file has — a plain UTC date or date-time, plain decimals, no spaces —
 * read in place, in one pass over the line, with no cell cut out but the time; false otherwise (the
 * line then takes parseRow's path, which gives the same bar or says why there is none).
 */
function rowAt(text: string, start: number, end: number, line: number, fields: CellFields, rows: Rows): boolean {
  let at = start
  let tsFrom = start
  let tsTo = start
  for (let cell = 0; cell < fields.length; cell++) {
    if (cell > 0) {
      // A line of fewer cells than the header needs takes the general path (which says so).
      if (at >= end) return false
      at++ // the comma
    }
    const field = fields[cell]!
    if (field > 0) {
      const value = decimalCell(text, at, end, rows)
      // Any cell not plain sends the line the general way.
      if (Number.isNaN(value)) return false
      rows.values[field] = value
      at = rows.cellEnd
    } else {
      let i = at
      while (i < end && text.charCodeAt(i) !== COMMA) i++
      if (field === 0) {
        tsFrom = at
        tsTo = i
      }
      at = i
    }
  }
  const raw = text.slice(tsFrom, tsTo)
  if (!PLAIN_UTC.test(raw)) return false
  const ms = plainUtcMs(raw, rows.days)
  if (Number.isNaN(ms)) return false
  const v = rows.values
  // PLAIN_UTC 24 characters long is a canonical time (three fraction digits and Z): kept as it is.
  rows.push(raw.length === 24 ? raw : isoOf(raw, ms), ms, line, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!)
  return true
}

/** The bar of one record, or why it is none; its time in epoch ms goes to `at.ms`. Hot: once per row of files of hundreds of thousands. */
function parseRow(cells: string[], index: Record<Field, number>, header: string[], width: number, at: { ms: number }): CsvBar | string {
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
  at.ms = ms
  return { ts: isoOf(raw, ms), open, high, low, close, volume }
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
  const { bars, skipped } = parseBarColumns(text, source)
  return { bars: barObjects(bars), skipped }
}

/** parseBarsCsv, the bars as columns. */
export function parseBarColumns(text: string, source = 'csv'): ParsedBarColumns {
  let head: CsvRecord | undefined
  let index: Record<Field, number> | undefined
  let width = 0
  let fields: CellFields | undefined
  const rows = new Rows(linesIn(text))
  const at = { ms: 0 }
  const skipped: SkippedRow[] = []
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  eachRecord(
    body,
    source,
    (line, cells) => {
      if (!head) {
        head = { line, cells }
        index = mapHeader(cells, `${source}:${line}`)
        width = Math.max(...Object.values(index)) + 1
        fields = cellFieldsOf(index, width)
        return
      }
      const r = parseRow(cells, index!, head.cells, width, at)
      if (typeof r === 'string') skipped.push({ line, reason: r })
      else rows.push(r.ts, at.ms, line, r.open, r.high, r.low, r.close, r.volume)
    },
    (start, end, line) => fields !== undefined && rowAt(body, start, end, line, fields, rows),
  )
  if (!head) throw new Error(`${source}: empty file; expected a header: ${ACCEPTED_HEADERS}`)

  const { n, ms } = rows
  let ordered = true
  let strict = true
  for (let i = 1; i < n && ordered; i++)
    if (ms[i - 1]! >= ms[i]!) {
      strict = false
      if (ms[i - 1]! > ms[i]!) ordered = false
    }
  // Every row kept, in file order (nearly every file): the columns are the rows' own.
  rows.ts.length = n
  if (strict)
    return {
      bars: {
        length: n,
        strict: true,
        ts: rows.ts,
        open: rows.open.slice(0, n),
        high: rows.high.slice(0, n),
        low: rows.low.slice(0, n),
        close: rows.close.slice(0, n),
        volume: rows.volume.slice(0, n),
      },
      skipped: skipped.sort((a, b) => a.line - b.line),
    }
  // Stable sort keeps file order among equal timestamps, so "first one wins" below is well defined.
  // A file in time order (nearly every one) needs none.
  const order = ordered ? undefined : Array.from({ length: n }, (_, i) => i).sort((a, b) => ms[a]! - ms[b]! || a - b)
  // Two bars for one instant would be counted twice by every indicator downstream: the first stays.
  const kept: number[] = []
  let prev = -1
  for (let k = 0; k < n; k++) {
    const i = order ? order[k]! : k
    if (prev >= 0 && ms[prev] === ms[i]) skipped.push({ line: rows.line[i]!, reason: `duplicate ts ${rows.ts[i]} (first at line ${rows.line[prev]})` })
    else {
      kept.push(i)
      prev = i
    }
  }
  skipped.sort((a, b) => a.line - b.line)
  // The rows kept, in order, in columns of their own length (a sweep copies them to every worker).
  const pick = (column: Float64Array) => {
    const out = new Float64Array(kept.length)
    for (let k = 0; k < kept.length; k++) out[k] = column[kept[k]!]!
    return out
  }
  return {
    bars: {
      length: kept.length,
      ts: kept.map((i) => rows.ts[i]!),
      open: pick(rows.open),
      high: pick(rows.high),
      low: pick(rows.low),
      close: pick(rows.close),
      volume: pick(rows.volume),
    },
    skipped,
  }
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
