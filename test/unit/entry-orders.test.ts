// Limit, stop and stop-limit entries (SPEC §5.4): the fill rules by hand, and the executor filling
// and expiring them by data, the same whether the order arrives before or after its bars.
import { describe, expect, it } from 'vitest'
import { entryFill, slipped, type EntryOrder } from '../../actors/lib/entry-orders.js'
import { executorLookup, handleExecution, type ExecutorState } from '../../actors/paper-executor.js'
import { newBooks } from '../../actors/lib/books.js'
import type { Inbound } from '../../src/core/actor.js'
import { createCodec } from '../../src/runtime/codec.js'
import { parseConfig } from '../../src/config/env.js'
import type { Message } from '../../src/core/contracts.js'
import { inbound, lookupsFrom, ofType } from '../support/actor-spec.js'
import { message } from '../support/messages.js'

const bar = (open: number, high: number, low: number) => ({ open, high, low })
const order = (type: EntryOrder['type'], sign: 1 | -1, prices: { limit?: number; stop?: number }): EntryOrder => ({
  type,
  sign,
  limit: prices.limit ?? null,
  stop: prices.stop ?? null,
})

describe('entryFill', () => {
  it.each<[string, EntryOrder, { open: number; high: number; low: number }, boolean, ReturnType<typeof entryFill>]>([
    ['limit buy, open at or below the limit → the open', order('limit', 1, { limit: 100 }), bar(99, 102, 98), false, { price: 99, model: 'limit' }],
    ['limit buy, the low reaches the limit → the limit', order('limit', 1, { limit: 100 }), bar(101, 102, 99.5), false, { price: 100, model: 'limit' }],
    ['limit buy, never down to it → nothing', order('limit', 1, { limit: 100 }), bar(101, 102, 100.01), false, null],
    ['limit sell, open at or above → the open', order('limit', -1, { limit: 100 }), bar(101, 102, 99), false, { price: 101, model: 'limit' }],
    ['limit sell, the high reaches it → the limit', order('limit', -1, { limit: 100 }), bar(99, 100, 98), false, { price: 100, model: 'limit' }],
    ['stop buy, gap above → the open', order('stop', 1, { stop: 100 }), bar(103, 104, 102), false, { price: 103, model: 'stop' }],
    ['stop buy, the high reaches it → the stop', order('stop', 1, { stop: 100 }), bar(98, 100.5, 97), false, { price: 100, model: 'stop' }],
    ['stop sell, gap below → the open', order('stop', -1, { stop: 100 }), bar(97, 98, 96), false, { price: 97, model: 'stop' }],
    ['stop sell, untouched → nothing', order('stop', -1, { stop: 100 }), bar(101, 102, 100.5), false, null],
    [
      'stop-limit buy, triggered within the bar → at the stop',
      order('stop_limit', 1, { stop: 100, limit: 101 }),
      bar(98, 102, 97),
      false,
      { price: 100, model: 'stop_limit' },
    ],
    [
      'stop-limit buy, gap inside the limit → the open',
      order('stop_limit', 1, { stop: 100, limit: 101 }),
      bar(100.5, 102, 100),
      false,
      { price: 100.5, model: 'stop_limit' },
    ],
    [
      'stop-limit buy, gap beyond the limit that comes back to it → the limit',
      order('stop_limit', 1, { stop: 100, limit: 101 }),
      bar(103, 104, 100.8),
      false,
      { price: 101, model: 'stop_limit' },
    ],
    [
      'stop-limit buy, gap beyond the limit that never comes back → nothing',
      order('stop_limit', 1, { stop: 100, limit: 101 }),
      bar(103, 104, 102),
      false,
      null,
    ],
    [
      'stop-limit buy, triggered earlier: a plain limit now',
      order('stop_limit', 1, { stop: 100, limit: 101 }),
      bar(102, 103, 100.9),
      true,
      { price: 101, model: 'stop_limit' },
    ],
  ])('%s', (_, o, b, triggered, want) => expect(entryFill(o, b, triggered)).toEqual(want))

  it('stops pay slippage, limits never fill worse than their limit', () => {
    expect(slipped({ price: 100, model: 'stop' }, 1, 10)).toBeCloseTo(100.1, 12)
    expect(slipped({ price: 100, model: 'stop' }, -1, 10)).toBeCloseTo(99.9, 12)
    expect(slipped({ price: 100, model: 'limit' }, 1, 10)).toBe(100)
    expect(slipped({ price: 100, model: 'stop_limit' }, 1, 10)).toBe(100)
  })
})

describe('paper-executor: limit and stop entries', () => {
  const codec = createCodec(16)
  const acct = parseConfig({ accounts: [{ id: 'main', starting_cash: 10_000, costs: { slippage_bps: 10 } }] }).accounts[0]!
  const day = (d: number) => new Date(Date.UTC(2024, 0, d)).toISOString()
  const barMsg = (d: number, o: number, h: number, l: number, c: number): Inbound<'md.bar'> => {
    const id = `bar:ORCL:1d:${day(d)}`
    return inbound('md.bar', message('md.bar', { id, ts: day(d), causation_id: 'x', correlation_id: id, open: o, high: h, low: l, close: c, volume: 1 }), {
      seq: d * 10,
    })
  }
  const entry = (over: Partial<Message<'trade.order'>>): Inbound<'trade.order'> => {
    const ideaId = `idea:s:ORCL:${day(1)}:entry:long`
    return inbound(
      'trade.order',
      message('trade.order', {
        id: `order:${ideaId}`,
        ts: day(1),
        causation_id: ideaId,
        correlation_id: 'c',
        idea_id: ideaId,
        order_type: 'limit',
        limit_price: 95,
        valid_bars: 3,
        ref_price: 100,
        bar_seq: 10,
        ...over,
      }),
      { seq: 1 },
    )
  }
  const bars = [barMsg(1, 100, 101, 99, 100), barMsg(2, 99, 100, 96, 97), barMsg(3, 97, 98, 94, 96), barMsg(4, 96, 97, 90, 91)]

  async function run(history: Inbound[], stored: Inbound<'md.bar'>[] = []) {
    const seen = [...stored]
    const read = lookupsFrom(() => seen)
    let state: ExecutorState = { books: newBooks(10_000), working: {}, cursor: { orders: 0, bars: 0 } }
    const emit = []
    for (const input of history) {
      if (input.type === 'md.bar' && !seen.includes(input as Inbound<'md.bar'>)) seen.push(input as Inbound<'md.bar'>)
      const lookups = executorLookup(state, input, acct)
      const step = handleExecution(state, input, acct, lookups ? read(lookups) : [])
      state = step.state
      for (const out of step.emit ?? []) {
        codec.check(out.type, out.data)
        emit.push(out)
      }
    }
    return { emit, state }
  }

  it('a limit buy at 95 works from the next bar and fills when the low reaches it, without slippage', async () => {
    const { emit, state } = await run([bars[0]!, entry({}), bars[1]!, bars[2]!, bars[3]!])
    expect(ofType(emit, 'trade.fill').map((f) => [f.ts, f.price, f.fill_model.type])).toEqual([[day(3), 95, 'limit']])
    expect(state.resting ?? {}).toEqual({})
  })

  it('arriving after its bars were handled, it fills on the same bar at the same price', async () => {
    const { emit } = await run([...bars, entry({})], bars)
    expect(ofType(emit, 'trade.fill').map((f) => [f.ts, f.price])).toEqual([[day(3), 95]])
  })

  it('not filled within valid_bars, it is cancelled as expired on its last bar', async () => {
    const inStep = await run([bars[0]!, entry({ limit_price: 80, valid_bars: 2 }), bars[1]!, bars[2]!, bars[3]!])
    expect(ofType(inStep.emit, 'trade.fill')).toEqual([])
    expect(ofType(inStep.emit, 'trade.order_status')).toEqual([expect.objectContaining({ status: 'cancelled', reason: 'expired', ts: day(3) })])
    const late = await run([...bars, entry({ limit_price: 80, valid_bars: 2 })], bars)
    expect(ofType(late.emit, 'trade.order_status')).toEqual(ofType(inStep.emit, 'trade.order_status'))
  })

  it('a stop sell (short entry) fills at the stop less slippage when the low breaks it', async () => {
    const { emit } = await run([bars[0]!, entry({ side: 'sell', order_type: 'stop', limit_price: null, stop_price: 95.5 }), bars[1]!, bars[2]!])
    const [f] = ofType(emit, 'trade.fill')
    expect([f!.ts, f!.fill_model.type]).toEqual([day(3), 'stop'])
    expect(f!.price).toBeCloseTo(95.5 * (1 - 0.001), 12)
    expect(ofType(emit, 'trade.position')[0]).toMatchObject({ side: 'short', qty: 10 })
  })
})
