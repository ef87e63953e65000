// Bars injected the way an operator's `nats pub` does (a core publish of plain JSON), with
// malformed and hostile messages mixed in: the bad ones land in dead_letters with a reason, the good
// ones trade exactly as if the bad ones had never been sent, and a re-sent bar trades nothing.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InjectedBar } from '../../src/core/contracts.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { message } from '../support/messages.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const reference = smaCrossReference(bars, { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 })
const enc = new TextEncoder()
const good = (b: (typeof bars)[number]) => JSON.stringify({ ts: b.ts.slice(0, 10), open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume })

type CsvBar = (typeof bars)[number]
/** A hostile message, or one made from the good bar published just before it (a contradicting re-send). */
type Hostile = [subject: string, payload: string | ((last: CsvBar) => string), reason: RegExp | ((last: CsvBar) => RegExp)]

const bar = (ts: string, over: Partial<InjectedBar> = {}) =>
  JSON.stringify(message('md.in.bar', { ts, open: 50, high: 52, low: 49, close: 50, volume: 1, ...over }))
const DIGITS_64 = `${'1234567890'.repeat(6)}1234`
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

const HOSTILE: Hostile[] = [
  ['md.in.bar.ORCL', 'not json at all', /invalid JSON/],
  ['md.in.bar.ORCL', '{"ts":"2016-01-04","open":NaN,"high":1,"low":1,"close":1,"volume":1}', /invalid JSON/],
  ['md.in.bar.ORCL', '{"ts":"2016-01-04","open":1e999,"high":1e999,"low":1,"close":1,"volume":1}', /open must be number/],
  ['md.in.bar.ORCL', '{"ts":"2016-01-04","open":-5,"high":1,"low":-6,"close":1,"volume":1}', /open -5 is below the minimum 1e-12/],
  ['md.in.bar.ORCL', '{"ts":"2016-01-04","open":50,"high":49,"low":51,"close":50,"volume":1}', /high 49 is below low 51/],
  ['md.in.bar.ORCL', '{"ts":"2016-01-04","open":50,"high":52,"low":49,"close":53,"volume":1}', /close 53 is outside/],
  ['md.in.bar.ORCL', '{"ts":"2016-01-04","open":50,"high":52,"low":49,"close":50,"volume":-1}', /volume -1 is below the minimum 0/],
  ['md.in.bar.ORCL', '{"ts":"2016-01-04","open":50,"high":52,"low":49,"close":50,"volume":1,"admin":true}', /unknown field "admin"/],
  ['md.in.bar.ORCL', '{"ts":"2016-01-04","symbol":"AAPL","open":50,"high":52,"low":49,"close":50,"volume":1}', /does not match/],
  ['md.in.bar.ORCL', '{"ts":"2016-02-30","open":50,"high":52,"low":49,"close":50,"volume":1}', /not a real date/],
  ['md.in.bar.ORCL', '{"ts":"yesterday","open":50,"high":52,"low":49,"close":50,"volume":1}', /ts is not valid/],
  ['md.in.bar.ORCL', '[1,2,3]', /must be object/],
  ['md.in.bar.ORCL', 'null', /must be object/],
  ['md.in.bar.ORCL', '', /invalid JSON/],
  ['md.in.bar.ORCL', `{"ts":"2016-01-04","open":50,"high":52,"low":49,"close":50,"volume":1,"pad":"${'x'.repeat(300_000)}"}`, /unknown field "pad"/],
  ['md.in.bar.brk', good(bars[0]!), /not a valid symbol token/],
  ['md.in.bar.BRK.B', good(bars[0]!), /no message type/],
  ['md.in.bar.ORCL', '{"ts":"2016-01-04","timeframe":"1day","open":50,"high":52,"low":49,"close":50,"volume":1}', /timeframe is not valid/],
  // Values a schema of types alone lets through. Each on a symbol of its own with a time no bar of it
  // has had, so each would be stored if it were accepted.
  ['md.in.bar.BIG', bar('2016-01-04', { open: 1e308, high: 1e308 }), /^md\.in\.bar: open 1e308 is above the maximum 1e12$/],
  ['md.in.bar.TINY', bar('2016-01-04', { open: 1e-320, low: 1e-320 }), /^md\.in\.bar: open 1e-320 is below the minimum 1e-12$/],
  [
    'md.in.bar.VOL',
    bar('2016-01-04').replace('"volume":1', `"volume":${DIGITS_64}`),
    /^md\.in\.bar: volume 1\.2345678901234568e63 is above the maximum 9007199254740991$/,
  ],
  ['md.in.bar.VOLTINY', bar('2016-01-04', { volume: 1e-320 }), /^md\.in\.bar: volume 1e-320 is subnormal/],
  ['md.in.bar.Y0001', bar('0001-01-01'), /^md\.in\.bar: ts is not valid \(.*years 1800 to 2199\)$/],
  ['md.in.bar.Y9999', bar('9999-12-31'), /^md\.in\.bar: ts is not valid \(.*years 1800 to 2199\)$/],
  ['md.in.bar.WEEKS', bar('2016-01-04', { timeframe: '9999w' }), /^md\.in\.bar: timeframe is not valid \(.*at most a year \(52w, 366d, 8784h\)/],
  [
    'md.in.context.ORCL',
    '{"ts":"2016-01-04","consensus_forecast":0,"distribution_estimate":50}',
    /^md\.in\.context: consensus_forecast 0 is below the minimum 1e-12$/,
  ],
  [
    'md.in.context.ORCL',
    '{"ts":"2016-01-04","consensus_forecast":50,"distribution_estimate":-3}',
    /^md\.in\.context: distribution_estimate -3 is below the minimum 1e-12$/,
  ],
  // A provider's correction of the bar just stored: refused with both values, the first bar stands.
  [
    'md.in.bar.ORCL',
    (last) => good({ ...last, volume: last.volume + 1 }),
    (last) =>
      new RegExp(
        `^${escapeRegExp(
          `md.in.bar: the ORCL 1d bar of ${last.ts.slice(0, 10)}T00:00:00.000Z contradicts the one already accepted: ` +
            `open ${last.open} high ${last.high} low ${last.low} close ${last.close} volume ${last.volume} accepted, ` +
            `open ${last.open} high ${last.high} low ${last.low} close ${last.close} volume ${last.volume + 1} received`,
        )}`,
      ),
  ],
]

describe('bars as nats pub sends them, with hostile messages mixed in', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
    await stack.start()
  })
  afterAll(async () => stack?.close())

  it('trades exactly like the reference while every bad message is dead-lettered with its reason', async () => {
    const sent: { subject: string; payload: string; reason: RegExp }[] = []
    const send = ([subject, payload, reason]: Hostile, last: CsvBar) => {
      const resolved = {
        subject,
        payload: typeof payload === 'function' ? payload(last) : payload,
        reason: typeof reason === 'function' ? reason(last) : reason,
      }
      stack.client.publish(subject, enc.encode(resolved.payload))
      sent.push(resolved)
    }
    let h = 0
    bars.forEach((b, i) => {
      stack.client.publish('md.in.bar.ORCL', enc.encode(good(b)))
      if (i % 40 === 20 && h < HOSTILE.length) send(HOSTILE[h++]!, b)
    })
    while (h < HOSTILE.length) send(HOSTILE[h++]!, bars.at(-1)!)
    await stack.client.flush()
    await stack.quiesce()

    expect(await stack.trades()).toEqual(reference.fills)

    const dead = await stack.sql<
      { actor: string; reason: string; subject: string; payload_bytes: number; payload: string }[]
    >`select actor, reason, subject, payload_bytes, payload from dead_letters order by stream_seq`
    expect(dead).toHaveLength(HOSTILE.length)
    sent.forEach(({ subject, payload, reason }, i) => {
      expect(dead[i]!.actor).toBe('market-snapshots')
      expect(dead[i]!.subject).toBe(subject)
      expect(dead[i]!.reason).toMatch(reason)
      expect(dead[i]!.payload_bytes).toBe(enc.encode(payload).byteLength)
    })
    const huge = dead.find((d) => d.payload_bytes > 300_000)!
    expect(huge.payload.length).toBe(64 * 1024)

    // Only the good bars are stored, each as first sent (the contradicting re-send changed nothing).
    const stored = await stack.sql<{ symbol: string; ts: Date; open: number; high: number; low: number; close: number; volume: number }[]>`
      select symbol, ts, open::float8 as open, high::float8 as high, low::float8 as low, close::float8 as close, volume::float8 as volume
      from snapshot_market order by symbol, timeframe, ts`
    expect(stored.map((r) => ({ ...r, ts: r.ts.toISOString().slice(0, 10) }))).toEqual(
      bars.map((b) => ({ symbol: 'ORCL', ts: b.ts.slice(0, 10), open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume })),
    )
  })

  it('re-sent bars are dropped (duplicate or out of order) and trade nothing', async () => {
    const before = await stack.sql`select count(*)::int as n from trades`
    const entryBar = bars.findIndex((b) => b.ts === reference.fills[0]!.ts)
    stack.client.publish('md.in.bar.ORCL', enc.encode(good(bars[entryBar - 1]!)))
    stack.client.publish('md.in.bar.ORCL', enc.encode(good(bars[entryBar]!)))
    stack.client.publish('md.in.bar.ORCL', enc.encode(good(bars.at(-1)!)))
    await stack.client.flush()
    await stack.quiesce()
    expect(await stack.sql`select count(*)::int as n from trades`).toEqual(before)
    const metrics = await stack.daemon!.metrics.registry.getSingleMetricAsString('paperd_messages_total')
    expect(metrics).toMatch(/paperd_messages_total\{actor="market-snapshots",outcome="out_of_order"\} 2$/m)
    expect(metrics).toMatch(/paperd_messages_total\{actor="market-snapshots",outcome="duplicate"\} 1$/m)
    // The contradicting bar of the first test: dead-lettered, counted apart from the duplicates.
    expect(metrics).toMatch(/paperd_messages_total\{actor="market-snapshots",outcome="conflict"\} 1$/m)
    expect(await stack.daemon!.metrics.registry.getSingleMetricAsString('paperd_dead_letters_total')).toContain(
      `paperd_dead_letters_total{actor="market-snapshots"} ${HOSTILE.length}`,
    )
  })

  it('garbage on internal subjects is refused by every actor that takes its type, and nothing trades', async () => {
    const before = await stack.sql`select count(*)::int as n from trades`
    stack.client.publish('trade.order.main', enc.encode('{"id":"forged","type":"trade.order"}'))
    stack.client.publish('md.bar.3.ORCL', enc.encode('{"oops":1}'))
    await stack.client.flush()
    await stack.quiesce()
    expect(await stack.sql`select count(*)::int as n from trades`).toEqual(before)
    const dead = await stack.sql`select actor, subject from dead_letters where subject in ('trade.order.main', 'md.bar.3.ORCL') order by actor, subject`
    expect(dead.map((d) => `${d.actor} ${d.subject}`)).toEqual([
      'indicators md.bar.3.ORCL',
      'paper-executor md.bar.3.ORCL',
      'paper-executor trade.order.main',
      'persister md.bar.3.ORCL',
      'persister trade.order.main',
      // The gate's consumer delivers it too (trade.*.main), but the gate does not take orders: left unread.
    ])
  })
})
