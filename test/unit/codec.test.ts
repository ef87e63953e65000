import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Outbound } from '../../src/core/actor.js'
import { InvalidMessage, MAX_PAYLOAD_BYTES, createCodec } from '../../src/runtime/codec.js'
import { messageTypes, type Bar } from '../../src/core/contracts.js'
import { subjectOf } from '../../src/core/subjects.js'
import { partitionOf } from '../../src/core/partition.js'
import { parseConfig } from '../../src/config/env.js'
import { message } from '../support/messages.js'
import { runPipeline } from '../support/pipeline.js'
import { syntheticBars } from '../../src/app/synthetic-bars.js'
import canonical from '../../examples/canonical.json' with { type: 'json' }

const codec = createCodec(16)
const bytes = (text: string) => new TextEncoder().encode(text)
const meta = { seq: 7, msgId: undefined }

const GOOD = { ts: '2024-01-02T00:00:00Z', timeframe: '1d', open: 185.1, high: 186.0, low: 184.2, close: 185.6, volume: 1200345 }
const decodeBar = (body: unknown, subject = 'md.in.bar.AAPL') => codec.decode(subject, bytes(JSON.stringify(body)), meta)

/** The refusal a decode produces: an InvalidMessage, with its message. */
function refusal(subject: string, payload: string | Uint8Array): InvalidMessage {
  try {
    codec.decode(subject, typeof payload === 'string' ? bytes(payload) : payload, meta)
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidMessage)
    return err as InvalidMessage
  }
  throw new Error(`expected ${subject} ${String(payload).slice(0, 80)} to be refused`)
}

describe('decode md.in.bar.<SYM>: accepted bars', () => {
  it.each([
    ['the SPEC §4 example', GOOD],
    ['a date-only ts', { ...GOOD, ts: '2024-01-02' }],
    ['an ISO ts with Z', { ...GOOD, ts: '2024-01-02T14:30:00Z' }],
    ['an ISO ts with milliseconds', { ...GOOD, ts: '2024-01-02T14:30:00.250Z' }],
    ['an ISO ts with an offset', { ...GOOD, ts: '2024-01-02T09:30:00-05:00' }],
    ['an ISO ts with a compact offset', { ...GOOD, ts: '2024-01-02T15:30:00+0100' }],
    ['timeframe absent', (({ timeframe: _, ...rest }) => rest)(GOOD)],
    ['a matching symbol in the body', { ...GOOD, symbol: 'AAPL' }],
    ['zero volume', { ...GOOD, volume: 0 }],
    ['a flat bar (open = high = low = close)', { ...GOOD, open: 10, high: 10, low: 10, close: 10 }],
    ['an intraday timeframe', { ...GOOD, timeframe: '15m' }],
    ['a leap day', { ...GOOD, ts: '2024-02-29' }],
    // The bounds of MARKET_LIMITS, at their edges.
    ['the smallest price', { ...GOOD, open: 1e-12, high: 1e-12, low: 1e-12, close: 1e-12 }],
    ['the largest price', { ...GOOD, open: 1e12, high: 1e12, low: 1e12, close: 1e12 }],
    ['the largest volume (2^53 - 1)', { ...GOOD, volume: Number.MAX_SAFE_INTEGER }],
    ['a fractional volume', { ...GOOD, volume: 0.0005 }],
    ['the smallest normal volume', { ...GOOD, volume: 2 ** -1022 }],
    ['the first day of 1800', { ...GOOD, ts: '1800-01-01' }],
    ['the last instant of 2199', { ...GOOD, ts: '2199-12-31T23:59:59.999Z' }],
    ['a year-long timeframe in weeks', { ...GOOD, timeframe: '52w' }],
    ['a year-long timeframe in days', { ...GOOD, timeframe: '366d' }],
    ['a year-long timeframe in hours', { ...GOOD, timeframe: '8784h' }],
    ['a 4-digit count of seconds', { ...GOOD, timeframe: '9999s' }],
  ])('given %s, it decodes with subject params, seq and msgId', (_, body) => {
    const input = codec.decode('md.in.bar.AAPL', bytes(JSON.stringify(body)), { seq: 42, msgId: 'feed-1' })
    expect(input.type).toBe('md.in.bar')
    expect(input.data).toEqual(body)
    expect(input.params).toEqual({ symbol: 'AAPL' })
    expect(input.subject).toBe('md.in.bar.AAPL')
    expect(input.seq).toBe(42)
    expect(input.msgId).toBe('feed-1')
  })

  it('accepts symbols with digits, _ and - (BRK.B is written BRK-B)', () => {
    for (const symbol of ['BRK-B', 'X_1', '9984', 'A'.repeat(32)]) expect(decodeBar(GOOD, `md.in.bar.${symbol}`).params.symbol).toBe(symbol)
  })

  it('accepts a payload of exactly the limit (padding whitespace is still valid JSON)', () => {
    const json = JSON.stringify(GOOD)
    const payload = bytes(json + ' '.repeat(MAX_PAYLOAD_BYTES - json.length))
    expect(payload.byteLength).toBe(MAX_PAYLOAD_BYTES)
    expect(codec.decode('md.in.bar.AAPL', payload, meta).data).toEqual(GOOD)
  })
})

describe('decode md.in.bar.<SYM>: refused bars, each with a readable reason', () => {
  const raw = JSON.stringify(GOOD)
  it.each([
    ['invalid JSON', raw.slice(0, -1), /invalid JSON/],
    ['NaN (not JSON)', raw.replace('185.1', 'NaN'), /invalid JSON/],
    ['1e999 (Infinity after parsing)', raw.replace('185.1', '1e999'), /open must be number/],
    ['-1e999 (-Infinity)', raw.replace('184.2', '-1e999'), /low must be number/],
    ['a negative price', JSON.stringify({ ...GOOD, low: -1 }), /^md\.in\.bar: low -1 is below the minimum 1e-12$/],
    ['a zero price', JSON.stringify({ ...GOOD, open: 0 }), /^md\.in\.bar: open 0 is below the minimum 1e-12$/],
    ['a negative volume', JSON.stringify({ ...GOOD, volume: -5 }), /^md\.in\.bar: volume -5 is below the minimum 0$/],
    ['a price of 1e308', raw.replace('186', '1e308'), /^md\.in\.bar: high 1e308 is above the maximum 1e12$/],
    ['a price just above the maximum', raw.replace('186', '1000000000000.001'), /^md\.in\.bar: high 1000000000000\.001 is above the maximum 1e12$/],
    ['a subnormal price (1e-320)', raw.replace('184.2', '1e-320'), /^md\.in\.bar: low 1e-320 is below the minimum 1e-12$/],
    ['a price just below the minimum', raw.replace('184.2', '9e-13'), /^md\.in\.bar: low 9e-13 is below the minimum 1e-12$/],
    [
      'a 64-digit volume (a float once parsed)',
      raw.replace('1200345', '1'.repeat(64)),
      /^md\.in\.bar: volume 1\.1111111111111112e63 is above the maximum 9007199254740991$/,
    ],
    ['a volume of 2^53 (not exact)', raw.replace('1200345', '9007199254740992'), /volume 9007199254740992 is above the maximum 9007199254740991$/],
    ['a 17-digit volume (parses to another integer)', raw.replace('1200345', '10000000000000001'), /volume 1e16 is above the maximum 9007199254740991$/],
    [
      'a subnormal volume (1e-320)',
      raw.replace('1200345', '1e-320'),
      /^md\.in\.bar: volume 1e-320 is subnormal \(a positive volume is at least 2\.2250738585072014e-308\)$/,
    ],
    ['year 0001', JSON.stringify({ ...GOOD, ts: '0001-01-02' }), /^md\.in\.bar: ts is not valid \(.*years 1800 to 2199\)$/],
    ['year 9999', JSON.stringify({ ...GOOD, ts: '9999-12-31T00:00:00Z' }), /ts is not valid \(.*years 1800 to 2199\)$/],
    ['year 1799', JSON.stringify({ ...GOOD, ts: '1799-12-31' }), /ts is not valid/],
    ['year 2200', JSON.stringify({ ...GOOD, ts: '2200-01-01' }), /ts is not valid/],
    [
      'a timeframe of 9999w',
      JSON.stringify({ ...GOOD, timeframe: '9999w' }),
      /^md\.in\.bar: timeframe is not valid \(Bar length, .* at most a year \(52w, 366d, 8784h\); defaults to 1d\)$/,
    ],
    ['a timeframe of 53w', JSON.stringify({ ...GOOD, timeframe: '53w' }), /timeframe is not valid/],
    ['a timeframe of 367d', JSON.stringify({ ...GOOD, timeframe: '367d' }), /timeframe is not valid/],
    ['a timeframe of 8785h', JSON.stringify({ ...GOOD, timeframe: '8785h' }), /timeframe is not valid/],
    ['high < low', JSON.stringify({ ...GOOD, high: 184.0, low: 184.2, open: 184.1, close: 184.1 }), /high 184 is below low 184.2/],
    ['open above high', JSON.stringify({ ...GOOD, open: 186.5 }), /open 186.5 is outside \[low 184.2, high 186\]/],
    ['open below low', JSON.stringify({ ...GOOD, open: 184 }), /open 184 is outside/],
    ['close above high', JSON.stringify({ ...GOOD, close: 187 }), /close 187 is outside/],
    ['close below low', JSON.stringify({ ...GOOD, close: 184.1 }), /close 184.1 is outside/],
    ['an unknown field', JSON.stringify({ ...GOOD, vwap: 185 }), /unknown field "vwap"/],
    ['a missing field', JSON.stringify((({ close: _, ...rest }) => rest)(GOOD)), /missing field "close"/],
    ['a price as a string', JSON.stringify({ ...GOOD, open: '185.1' }), /open must be number/],
    ['a timeframe as a number', JSON.stringify({ ...GOOD, timeframe: 1 }), /timeframe must be string/],
    ['a bad timeframe', JSON.stringify({ ...GOOD, timeframe: 'daily' }), /timeframe is not valid/],
    ['a ts as a number', JSON.stringify({ ...GOOD, ts: 1704153600000 }), /ts must be string/],
    ['a ts without a zone', JSON.stringify({ ...GOOD, ts: '2024-01-02T00:00:00' }), /ts is not valid/],
    ['a ts in another format', JSON.stringify({ ...GOOD, ts: '01/02/2024' }), /ts is not valid/],
    ['an impossible date (2024-02-30)', JSON.stringify({ ...GOOD, ts: '2024-02-30' }), /ts "2024-02-30" is not a real date/],
    ['an impossible date-time (2023-02-29T10:00:00Z)', JSON.stringify({ ...GOOD, ts: '2023-02-29T10:00:00Z' }), /not a real date/],
    ['an impossible hour', JSON.stringify({ ...GOOD, ts: '2024-01-02T25:00:00Z' }), /not a real date/],
    ['month 13', JSON.stringify({ ...GOOD, ts: '2024-13-01' }), /not a real date/],
    ['a body symbol ≠ the subject symbol', JSON.stringify({ ...GOOD, symbol: 'MSFT' }), /symbol "MSFT" in the body does not match "AAPL" in the subject/],
    ['a lower-case body symbol', JSON.stringify({ ...GOOD, symbol: 'aapl' }), /symbol is not valid/],
    ['an empty payload', '', /invalid JSON/],
    ['null', 'null', /body must be object/],
    ['an array', '[]', /body must be object/],
    ['a number', '42', /body must be object/],
  ])('given %s, it is refused', (_, payload, reason) => {
    expect(refusal('md.in.bar.AAPL', payload).message).toMatch(reason)
  })

  it('given bytes that are not UTF-8, it is refused as invalid JSON', () => {
    expect(refusal('md.in.bar.AAPL', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])).message).toMatch(/invalid JSON/)
  })

  it('given a payload over 1 MiB, it is refused before parsing', () => {
    const huge = bytes(JSON.stringify({ ...GOOD, pad: 'x'.repeat(MAX_PAYLOAD_BYTES) }))
    expect(refusal('md.in.bar.AAPL', huge).message).toMatch(/payload of \d+ bytes exceeds 1048576/)
    expect(refusal('md.in.bar.AAPL', new Uint8Array(MAX_PAYLOAD_BYTES + 1)).message).toMatch(/exceeds/)
  })

  it.each([
    ['md.in.bar.brk', /"brk" is not a valid symbol token/],
    ['md.in.bar.Aapl', /not a valid symbol token/],
    ['md.in.bar.BRK.B', /no message type is published on subject md\.in\.bar\.BRK\.B/],
    [`md.in.bar.${'A'.repeat(33)}`, /not a valid symbol token/],
    ['md.in.bar.A$B', /not a valid symbol token/],
  ])('given the subject %s, it is refused', (subject, reason) => {
    expect(refusal(subject, JSON.stringify(GOOD)).message).toMatch(reason)
  })

  it.each(['md.in.quote.AAPL', 'md.in.bar', 'foo', 'trade.idea', 'md.bar.x.AAPL'])('given the unknown subject %s, it is refused', (subject) => {
    const err = refusal(subject, JSON.stringify(GOOD))
    expect(err.message.length).toBeGreaterThan(10)
  })
})

describe('decode md.in.context.<SYM>', () => {
  const CONTEXT = { ts: '2024-01-02', consensus_forecast: 190, distribution_estimate: 185 }
  const decodeContext = (over: Record<string, unknown>) => codec.decode('md.in.context.AAPL', bytes(JSON.stringify({ ...CONTEXT, ...over })), meta)

  it('accepts forecasts within the price bounds', () => {
    expect(decodeContext({}).data).toEqual(CONTEXT)
    expect(decodeContext({ consensus_forecast: 1e-12, distribution_estimate: 1e12 }).type).toBe('md.in.context')
  })

  it.each([
    ['a zero consensus', { consensus_forecast: 0 }, /^md\.in\.context: consensus_forecast 0 is below the minimum 1e-12$/],
    ['a negative estimate', { distribution_estimate: -3 }, /^md\.in\.context: distribution_estimate -3 is below the minimum 1e-12$/],
    ['a consensus of 1e308', { consensus_forecast: 1e308 }, /consensus_forecast 1e308 is above the maximum 1e12$/],
    ['year 0001', { ts: '0001-01-02' }, /ts is not valid \(.*years 1800 to 2199\)$/],
    ['year 9999', { ts: '9999-01-02' }, /ts is not valid/],
  ])('given %s, it is refused', (_, over, reason) => {
    expect(refusal('md.in.context.AAPL', JSON.stringify({ ...CONTEXT, ...over })).message).toMatch(reason)
  })
})

describe('decode md.bar.<P>.<SYM>', () => {
  const right = partitionOf('ORCL', 16)

  it('accepts a bar on its own partition', () => {
    const input = codec.decode(`md.bar.${right}.ORCL`, bytes(JSON.stringify(message('md.bar'))), meta)
    expect(input.params).toEqual({ partition: String(right), symbol: 'ORCL' })
  })

  it('refuses a bar published on another partition', () => {
    const wrong = (right + 1) % 16
    expect(refusal(`md.bar.${wrong}.ORCL`, JSON.stringify(message('md.bar'))).message).toMatch(
      `partition ${wrong} in the subject, but ORCL belongs to ${right}`,
    )
  })

  it.each(['01', '-1', 'x'])('refuses a malformed partition token %j', (p) => {
    expect(refusal(`md.bar.${p}.ORCL`, JSON.stringify(message('md.bar'))).message).toMatch(/partition/)
  })

  it('refuses a body symbol that differs from the subject', () => {
    const p = partitionOf('AAPL', 16)
    expect(refusal(`md.bar.${p}.AAPL`, JSON.stringify(message('md.bar'))).message).toMatch(/./)
  })

  it.each([
    ['a price of 1e308', { high: 1e308 }, /high 1e308 is above the maximum 1e12/],
    ['a subnormal volume', { volume: 1e-320 }, /volume 1e-320 is subnormal/],
    ['a timeframe of 9999w', { timeframe: '9999w' }, /timeframe is not valid/],
    [
      'a context forecast of 0',
      { context: { ts: '2024-01-01T00:00:00.000Z', consensus_forecast: 0, distribution_estimate: 100 } },
      /context\.consensus_forecast 0 is below the minimum/,
    ],
  ])('refuses a published bar with %s: the bounds hold on md.bar too', (_, over, reason) => {
    expect(refusal(`md.bar.${right}.ORCL`, JSON.stringify(message('md.bar', over as Partial<Bar>))).message).toMatch(reason)
  })

  it('refuses a non-canonical ts on a published bar', () => {
    expect(refusal(`md.bar.${right}.ORCL`, JSON.stringify(message('md.bar', { ts: '2024-01-02T00:00:00Z' }))).message).toMatch(/ts is not valid/)
  })
})

describe('encode', () => {
  it('encodes a bar on its partition subject, with the id as Nats-Msg-Id, and decodes it back', () => {
    const b = message('md.bar')
    const e = codec.encode({ type: 'md.bar', data: b })
    expect(e.subject).toBe(subjectOf('md.bar', b, 16))
    expect(e.id).toBe(b.id)
    expect(codec.decode(e.subject, e.payload, meta).data).toEqual(b)
  })

  it('refuses an invalid outbound message (OHLC inconsistent)', () => {
    expect(() => codec.encode({ type: 'md.bar', data: message('md.bar', { close: 102 }) })).toThrow(InvalidMessage)
  })

  it('refuses an outbound message with an unknown field', () => {
    expect(() => codec.encode({ type: 'md.bar', data: { ...message('md.bar'), extra: 1 } as Bar })).toThrow(/unknown field "extra"/)
  })

  it('check() refuses a published bar whose ts is not canonical', () => {
    expect(() => codec.check('md.bar', message('md.bar', { ts: '2024-01-02' }))).toThrow(InvalidMessage)
  })

  it("every actor's real outputs over a pipeline run validate, and round-trip through decode", async () => {
    const config = parseConfig(canonical)
    const bars = syntheticBars(250, { seed: 7 }).map((b) => ({ symbol: 'ORCL', bar: b }))
    const { record } = await runPipeline(config, bars)
    const outputs: Outbound[] = Object.values(record).flatMap((r) => r.outputs)
    const types = new Set(outputs.map((o) => o.type))
    // The run must exercise every published type the actors produce (trade.order_status needs a rejection).
    for (const t of [
      'md.bar',
      'md.ind',
      'trade.idea',
      'trade.order',
      'trade.idea_status',
      'trade.decision',
      'trade.fill',
      'trade.position',
      'trade.portfolio',
    ] as const) {
      expect(types.has(t), t).toBe(true)
    }
    for (const out of outputs) {
      const e = codec.encode(out)
      const back = codec.decode(e.subject, e.payload, { seq: 1, msgId: e.id })
      expect(back.type).toBe(out.type)
      expect(back.data).toEqual(out.data)
    }
  })

  it('every message type has a validator (schemas/ is complete)', () => {
    for (const type of messageTypes) expect(() => codec.check(type, {})).toThrow(InvalidMessage)
  })
})

describe('checkInputBar: the quick check of a CSV row’s md.in.bar', () => {
  // Bodies around every edge the schema and the invariants draw: bounds, NaN and ∞, OHLC order,
  // subnormal volumes, years 1800–2199, real days and times, other time forms, extra fields.
  const price = fc.oneof(
    fc.constantFrom(1e-12, 1e-13, 1e12, 1.0000000000001e12, 0, -1, Number.NaN, Number.POSITIVE_INFINITY, 50),
    fc.double({ min: 1e-13, max: 2e12, noNaN: true }),
  )
  const volume = fc.constantFrom(0, 1, 1e-320, 2 ** -1022, 2 ** 53 - 1, 2 ** 53, -1, Number.NaN, 1021445)
  const two = (n: number) => String(n).padStart(2, '0')
  const ts = fc.oneof(
    fc
      .tuple(
        fc.integer({ min: 1790, max: 2210 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
      )
      .map(([y, m, d, h, s]) => `${y}-${two(m)}-${two(d)}T${two(h)}:${two(s)}:${two(s)}.${String(s * 7).padStart(3, '0')}Z`),
    fc.constantFrom('2024-01-02', '2024-01-02T00:00:00Z', '2024-01-02T00:00:00.000+00:00', '2024-02-30T00:00:00.000Z', '2024-01-02T00:00:00.000z', 'nope'),
  )
  const timeframe = fc.constantFrom('1m', '1d', '0m', '1y', '8785h')
  const body = fc.record({ ts, timeframe, open: price, high: price, low: price, close: price, volume })
  const strict = createCodec(16)
  const passes = (b: unknown) => {
    try {
      strict.check('md.in.bar', b)
      return true
    } catch {
      return false
    }
  }

  it('passes exactly what the full check passes, and refuses with its message', () => {
    const quick = createCodec(16)
    fc.assert(
      fc.property(body, fc.boolean(), (b, extra) => {
        const sent = extra ? { ...b, symbol: 'ORCL' } : b
        let quickError: string | null = null
        try {
          quick.checkInputBar(sent as never)
        } catch (err) {
          quickError = (err as Error).message
        }
        if (passes(sent)) return quickError === null
        try {
          strict.check('md.in.bar', sent)
        } catch (err) {
          return quickError === (err as Error).message
        }
        return false
      }),
      { numRuns: 5000 },
    )
  })

  it('with a time the caller knows canonical and real (a CSV parser’s), passes exactly what the full check passes', () => {
    const quick = createCodec(16)
    // Canonical times of real instants, years 1700 to 2300: the schema takes 1800 to 2199.
    const realTs = fc.integer({ min: Date.UTC(1700, 0, 1), max: Date.UTC(2300, 0, 1) }).map((ms) => new Date(ms).toISOString())
    fc.assert(
      fc.property(fc.record({ ts: realTs, timeframe, open: price, high: price, low: price, close: price, volume }), (b) => {
        let quickError: string | null = null
        try {
          quick.checkInputBar(b, true)
        } catch (err) {
          quickError = (err as Error).message
        }
        if (passes(b)) return quickError === null
        try {
          strict.check('md.in.bar', b)
        } catch (err) {
          return quickError === (err as Error).message
        }
        return false
      }),
      { numRuns: 3000 },
    )
  })

  it('takes most well-formed bars without the schema (it has teeth: a consistent bar of a checked timeframe passes, an inconsistent one does not)', () => {
    const quick = createCodec(16)
    const bar = { ts: '2024-01-02T00:01:00.000Z', timeframe: '1m', open: 48.55, high: 48.67, low: 48.22, close: 48.49, volume: 1229822 }
    quick.checkInputBar(bar)
    expect(() => quick.checkInputBar({ ...bar, high: 48.3 })).toThrow('md.in.bar: open 48.55 is outside [low 48.22, high 48.3]')
    expect(() => quick.checkInputBar({ ...bar, ts: '2024-02-30T00:01:00.000Z' })).toThrow('is not a real date')
  })
})
