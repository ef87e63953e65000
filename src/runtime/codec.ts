// The wire boundary: bytes ↔ typed messages. ajv checks every inbound and outbound message against
// the JSON Schemas in schemas/ (compiled once); a few rules JSON Schema cannot say (OHLC consistency, a subnormal volume,
// subject tokens agreeing with the body) are checked here too. Nothing else parses message bytes.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Ajv as AjvClass, ValidateFunction } from 'ajv'
import type { Inbound, Outbound } from '../core/actor.js'
import { messageIdOf, messageTypes, type MessageType } from '../core/contracts.js'
import { ACCOUNT_PATTERN, MARKET_LIMITS, SYMBOL_PATTERN, TIMEFRAME_PATTERN } from '../core/schemas.js'
import { matchSubject, subjectOf } from '../core/subjects.js'
import { partitionOf } from '../core/partition.js'
import { digitsAt, isCalendarDay, isClockTime } from '../core/utc-digits.js'
import { SCHEMAS_DIR } from '../config/paths.js'

export class InvalidMessage extends Error {
  override name = 'InvalidMessage'
}

export const MAX_PAYLOAD_BYTES = 1024 * 1024

export interface Encoded {
  type: MessageType
  subject: string
  id: string
  payload: Uint8Array
}

export interface Codec {
  decode(subject: string, payload: Uint8Array, meta: { seq: number; msgId: string | undefined }): Inbound
  encode(out: Outbound): Encoded
  /**
   * Throws InvalidMessage when `data` is not a valid `type` (used for outbound checks and tests);
   * with `params`, the subject tokens it would travel under must agree with it too.
   */
  check(type: MessageType, data: unknown, params?: Readonly<Record<string, string>>): void
  /**
   * check('md.in.bar', body) for a body of ts, timeframe, open, high, low, close and volume (what a
   * backtest makes of a CSV row): a body in the canonical form, in bounds and consistent passes on
   * a few comparisons — a property test: only what the full check passes — and any other takes the
   * full check, which throws its own message. `realTime`: the caller knows ts to be a canonical
   * time of a real instant (the CSV parser's, which read every digit of it): only its year is read.
   */
  checkInputBar(body: InputBarBody, realTime?: boolean): void
  /** Compiles every validator now: a daemon's first messages would otherwise pay for it, one type at a time. */
  warm(): void
}

const TOKEN_PATTERNS: Record<string, RegExp> = {
  symbol: new RegExp(SYMBOL_PATTERN),
  account: new RegExp(ACCOUNT_PATTERN),
  partition: /^(0|[1-9][0-9]*)$/,
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/** A validator per message type, compiled the first time it is needed. */
interface Validators {
  get(type: MessageType): ValidateFunction
}

const compiled = new Map<string, Validators>()

/**
 * The validators of the schemas in `dir`, once per process and each compiled on first use:
 * compiling them all takes a couple of hundred milliseconds, which a command that checks two types
 * (a backtest reads bars and contexts) or a test file would otherwise pay every time. A validator
 * keeps no state across calls but its last `errors`, read right after the call.
 */
function loadValidators(dir = SCHEMAS_DIR): Validators {
  let validators = compiled.get(dir)
  if (!validators) compiled.set(dir, (validators = lazyValidators(dir)))
  return validators
}

/** ajv, loaded when a first validator is compiled: 60 files a backtest of well-formed bars never needs. */
const loadAjv = (): typeof AjvClass => (createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass }).Ajv

function lazyValidators(dir: string): Validators {
  // allowUnionTypes: a risk value is a number, a boolean or null (JSON Schema's type: [..] list).
  // validateSchema off: checking a schema against the draft's meta-schema compiles the meta-schema
  // first, 160 ms of every process's and worker's start (and most of a short backtest's); the
  // schemas are generated files, checked against it by test/unit/contracts.test.ts.
  let ajv: AjvClass | undefined
  const validators = new Map<MessageType, ValidateFunction>()
  return {
    get(type) {
      let v = validators.get(type)
      if (!v) {
        if (!messageTypes.includes(type)) throw new Error(`no schema for message type ${type}`)
        ajv ??= new (loadAjv())({ allErrors: false, strict: true, allowUnionTypes: true, verbose: true, validateSchema: false })
        validators.set(type, (v = ajv.compile(JSON.parse(readFileSync(join(dir, `${type}.json`), 'utf8')))))
      }
      return v
    },
  }
}

export function createCodec(partitions: number, validators = loadValidators()): Codec {
  function check(type: MessageType, data: unknown, params?: Readonly<Record<string, string>>): void {
    const validate = validators.get(type)
    if (!validate(data)) throw new InvalidMessage(`${type}: ${describe(validate)}`)
    const body = data as Record<string, unknown>
    checkInvariants(type, body)
    if (params) {
      for (const [key, value] of Object.entries(params)) {
        const pattern = TOKEN_PATTERNS[key]
        if (pattern && !pattern.test(value)) throw new InvalidMessage(`${type}: "${value}" is not a valid ${key} token`)
        if (key === 'partition') {
          const want = partitionOf(String(body.symbol), partitions)
          if (value !== String(want)) throw new InvalidMessage(`${type}: partition ${value} in the subject, but ${body.symbol} belongs to ${want}`)
        } else if (body[key] !== undefined && body[key] !== value) {
          throw new InvalidMessage(`${type}: ${key} "${String(body[key])}" in the body does not match "${value}" in the subject`)
        }
      }
    }
  }

  /** Timeframes seen to match the schema's pattern (a backtest has one or two). */
  const timeframes = new Set<string>()
  const knownTimeframe = (tf: unknown): boolean => typeof tf === 'string' && (timeframes.has(tf) || (TIMEFRAME_RE.test(tf) && timeframes.add(tf) !== undefined))
  return {
    check,
    checkInputBar(body, realTime) {
      if (!knownTimeframe(body.timeframe) || !plainInputBar(body, realTime === true)) check('md.in.bar', body)
    },
    warm() {
      for (const type of messageTypes) validators.get(type)
    },
    decode(subject, payload, meta) {
      const match = matchSubject(subject)
      if (!match) throw new InvalidMessage(`no message type is published on subject ${subject}`)
      if (payload.byteLength > MAX_PAYLOAD_BYTES) throw new InvalidMessage(`payload of ${payload.byteLength} bytes exceeds ${MAX_PAYLOAD_BYTES}`)
      let data: unknown
      try {
        data = JSON.parse(decoder.decode(payload))
      } catch (err) {
        throw new InvalidMessage(`invalid JSON: ${(err as Error).message}`)
      }
      check(match.type, data, match.params)
      return { type: match.type, data, subject, params: match.params, seq: meta.seq, msgId: meta.msgId } as Inbound
    },
    encode(out) {
      const subject = subjectOf(out.type, out.data, partitions)
      check(out.type, out.data)
      // Buffer.from is a Uint8Array from Node's small-buffer pool: a third of TextEncoder's cost here.
      return { type: out.type, subject, id: messageIdOf(out), payload: Buffer.from(JSON.stringify(out.data), 'utf8') }
    },
  }
}

function describe(validate: ValidateFunction): string {
  const e = validate.errors?.[0]
  if (!e) return 'invalid'
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'body'
  if (e.keyword === 'additionalProperties') return `${where}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`
  if (e.keyword === 'required') return `${where}: missing field "${(e.params as { missingProperty: string }).missingProperty}"`
  const description = (e.parentSchema as { description?: string } | undefined)?.description
  if (e.keyword === 'pattern' && description) return `${where} is not valid (${description})`
  const bound = BOUNDS[e.keyword]
  if (bound) return `${where} ${shown(e.data as number)} ${bound} ${shown((e.params as { limit: number }).limit)}`
  return `${where} ${e.message ?? 'is invalid'}`
}

/** A number refused by a bound, with the value it had: "open 1e308 is above the maximum 1e12". */
const BOUNDS: Record<string, string> = {
  minimum: 'is below the minimum',
  maximum: 'is above the maximum',
  exclusiveMinimum: 'must be above',
  exclusiveMaximum: 'must be below',
}

/** As JavaScript writes it, but 1e12 rather than 1000000000000 and 1e308 rather than 1e+308. */
function shown(n: number): string {
  const exp = n.toExponential()
  return (Math.abs(n) >= 1e9 && !exp.includes('.') ? exp : String(n)).replace('e+', 'e')
}

/** An md.in.bar body as a CSV row makes it (checkInputBar). */
interface InputBarBody {
  ts: string
  timeframe?: string
  open: number
  high: number
  low: number
  close: number
  volume: number
}

const { minPrice, maxPrice, maxVolume, minPositiveVolume } = MARKET_LIMITS
/** The md.in.bar schema's timeframe pattern (schemas.ts writes both). */
const TIMEFRAME_RE = new RegExp(TIMEFRAME_PATTERN)

/**
 * Whether an input bar of exactly these fields is one the md.in.bar schema and invariants accept,
 * decided without them: numbers in the schema's bounds (NaN fails every comparison), OHLC
 * consistent, a volume not subnormal, and a canonical time (YYYY-MM-DDTHH:MM:SS.mmmZ) in the
 * schema's years that is a real instant. False says nothing: the full check decides.
 */
function plainInputBar(b: InputBarBody, realTime: boolean): boolean {
  // Seven fields, and these seven (a string ts and timeframe, five numbers): none other is there.
  let fields = 0
  for (const _ in b) fields++
  if (fields !== 7) return false
  const { open, high, low, close, volume } = b
  if (typeof open !== 'number' || typeof high !== 'number' || typeof low !== 'number' || typeof close !== 'number' || typeof volume !== 'number') return false
  if (!(low >= minPrice && high <= maxPrice && low <= high)) return false
  if (!(open >= low && open <= high && close >= low && close <= high)) return false
  if (!(volume >= 0 && volume <= maxVolume) || (volume > 0 && volume < minPositiveVolume)) return false
  const ts = b.ts
  if (typeof ts !== 'string' || ts.length !== 24) return false
  if (realTime) {
    const year = digitsAt(ts, 0, 4)
    return year >= 1800 && year <= 2199
  }
  for (let i = 0; i < 24; i++) {
    const c = ts.charCodeAt(i)
    const want = CANONICAL_SHAPE.charCodeAt(i)
    if (want === DIGIT ? c < 48 || c > 57 : c !== want) return false
  }
  const year = digitsAt(ts, 0, 4)
  return year >= 1800 && year <= 2199 && isRealTime(ts)
}
/** The canonical time, `d` where a digit goes. */
const CANONICAL_SHAPE = 'dddd-dd-ddTdd:dd:dd.dddZ'
const DIGIT = 100 // 'd'

const withOhlc = new Set<MessageType>(['md.in.bar', 'md.bar'])

/** Rules a JSON Schema cannot express. */
function checkInvariants(type: MessageType, body: Record<string, unknown>): void {
  if (withOhlc.has(type)) checkOhlc(type, body)
  if (type === 'md.ind') checkOhlc(type, body.bar as Record<string, unknown>)
  if ((type === 'md.in.bar' || type === 'md.in.context') && !isRealTime(body.ts as string))
    throw new InvalidMessage(`${type}: ts "${String(body.ts)}" is not a real date`)
}

/**
 * Date.parse alone accepts 2024-02-30 (as March 1st); the calendar date must exist as written.
 * Called after the schema's pattern matched, so the fields are digits where they are read.
 */
function isRealTime(ts: string): boolean {
  if (!isCalendarDay(digitsAt(ts, 0, 4), digitsAt(ts, 5, 7), digitsAt(ts, 8, 10))) return false
  if (ts.length === 10) return true
  if (!isClockTime(digitsAt(ts, 11, 13), digitsAt(ts, 14, 16), ts[16] === ':' ? digitsAt(ts, 17, 19) : 0)) return false
  // The canonical form (what CSV replays and every actor send) is a real time once its fields are
  // in range; any other (a zone offset, no seconds, another fraction) still goes to Date.parse.
  if (ts.length === 24 && ts[19] === '.' && ts[23] === 'Z') return true
  return !Number.isNaN(Date.parse(ts))
}

function checkOhlc(type: MessageType, bar: Record<string, unknown>): void {
  const { open, high, low, close, volume } = bar as { open: number; high: number; low: number; close: number; volume: number }
  // The schema bounds prices away from zero; a volume may be 0, but not an underflow (1e-320).
  if (volume > 0 && volume < MARKET_LIMITS.minPositiveVolume)
    throw new InvalidMessage(`${type}: volume ${volume} is subnormal (a positive volume is at least ${MARKET_LIMITS.minPositiveVolume})`)
  if (high < low) throw new InvalidMessage(`${type}: high ${high} is below low ${low}`)
  if (open < low || open > high) throw new InvalidMessage(`${type}: open ${open} is outside [low ${low}, high ${high}]`)
  if (close < low || close > high) throw new InvalidMessage(`${type}: close ${close} is outside [low ${low}, high ${high}]`)
}
