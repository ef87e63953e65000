import { describe, expect, it } from 'vitest'
import type { Outbound } from '../../src/actor.js'
import { InvalidMessage, MAX_PAYLOAD_BYTES, createCodec } from '../../src/codec.js'
import { messageTypes, subjectOf, type Bar } from '../../src/contracts.js'
import { partitionOf } from '../../src/partition.js'
import { parseConfig } from '../../src/config.js'
import { runPipeline } from '../support/pipeline.js'
import { syntheticBars } from '../../bench/synthetic-bars.js'
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
    ['a negative price', JSON.stringify({ ...GOOD, low: -1 }), /low must be > 0/],
    ['a zero price', JSON.stringify({ ...GOOD, open: 0 }), /open must be > 0/],
    ['a negative volume', JSON.stringify({ ...GOOD, volume: -5 }), /volume must be >= 0/],
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

const bar = (over: Partial<Bar> = {}): Bar => ({
  id: 'bar:ORCL:1d:2024-01-02T00:00:00.000Z',
  type: 'md.bar',
  ts: '2024-01-02T00:00:00.000Z',
  causation_id: 'md.in:1',
  correlation_id: 'bar:ORCL:1d:2024-01-02T00:00:00.000Z',
  symbol: 'ORCL',
  timeframe: '1d',
  open: 100,
  high: 101,
  low: 99,
  close: 100.5,
  volume: 1000,
  ...over,
})

describe('decode md.bar.<P>.<SYM>', () => {
  const right = partitionOf('ORCL', 16)

  it('accepts a bar on its own partition', () => {
    const input = codec.decode(`md.bar.${right}.ORCL`, bytes(JSON.stringify(bar())), meta)
    expect(input.params).toEqual({ partition: String(right), symbol: 'ORCL' })
  })

  it('refuses a bar published on another partition', () => {
    const wrong = (right + 1) % 16
    expect(refusal(`md.bar.${wrong}.ORCL`, JSON.stringify(bar())).message).toMatch(`partition ${wrong} in the subject, but ORCL belongs to ${right}`)
  })

  it.each(['01', '-1', 'x'])('refuses a malformed partition token %j', (p) => {
    expect(refusal(`md.bar.${p}.ORCL`, JSON.stringify(bar())).message).toMatch(/partition/)
  })

  it('refuses a body symbol that differs from the subject', () => {
    const p = partitionOf('AAPL', 16)
    expect(refusal(`md.bar.${p}.AAPL`, JSON.stringify(bar())).message).toMatch(/./)
  })

  it('refuses a non-canonical ts on a published bar', () => {
    expect(refusal(`md.bar.${right}.ORCL`, JSON.stringify(bar({ ts: '2024-01-02T00:00:00Z' }))).message).toMatch(/ts is not valid/)
  })
})

describe('encode', () => {
  it('encodes a bar on its partition subject, with the id as Nats-Msg-Id, and decodes it back', () => {
    const b = bar()
    const e = codec.encode({ type: 'md.bar', data: b })
    expect(e.subject).toBe(subjectOf('md.bar', b, 16))
    expect(e.id).toBe(b.id)
    expect(codec.decode(e.subject, e.payload, meta).data).toEqual(b)
  })

  it('refuses an invalid outbound message (OHLC inconsistent)', () => {
    expect(() => codec.encode({ type: 'md.bar', data: bar({ close: 102 }) })).toThrow(InvalidMessage)
  })

  it('refuses an outbound message with an unknown field', () => {
    expect(() => codec.encode({ type: 'md.bar', data: { ...bar(), extra: 1 } as Bar })).toThrow(/unknown field "extra"/)
  })

  it('check() refuses a published bar whose ts is not canonical', () => {
    expect(() => codec.check('md.bar', bar({ ts: '2024-01-02' }))).toThrow(InvalidMessage)
  })

  it("every actor's real outputs over a pipeline run validate, and round-trip through decode", async () => {
    const config = parseConfig(canonical)
    const bars = syntheticBars(250, { seed: 7 }).map((b) => ({ symbol: 'ORCL', bar: b }))
    const { record } = await runPipeline(config, bars)
    const outputs: Outbound[] = Object.values(record).flatMap((r) => r.outputs)
    const types = new Set(outputs.map((o) => o.type))
    // The run must exercise every published type the actors produce (trade.order_status needs a rejection).
    for (const t of ['md.bar', 'md.ind', 'trade.idea', 'trade.order', 'trade.idea_status', 'trade.decision', 'trade.fill', 'trade.position', 'trade.portfolio'] as const) {
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
