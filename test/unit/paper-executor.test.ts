import { describe, expect, it } from 'vitest'
import { executorLookup, handleExecution, paperExecutor, type ExecutorState } from '../../actors/paper-executor.js'
import { newBooks } from '../../actors/lib/books.js'
import type { Inbound, Outbound } from '../../src/core/actor.js'
import { createCodec } from '../../src/runtime/codec.js'
import type { AccountConfig } from '../../src/core/config-file/accounts.js'
import { parseConfig } from '../../src/config/env.js'
import type { Message } from '../../src/core/contracts.js'
import { inbound, lookupsFrom, ofType } from '../support/actor-spec.js'
import { message } from '../support/messages.js'

const codec = createCodec(16)
type Order = Message<'trade.order'>

function account(costs: Partial<AccountConfig['costs']> = {}, starting_cash = 10000): AccountConfig {
  return parseConfig({ accounts: [{ id: 'main', starting_cash, costs }] }).accounts[0]!
}
const fresh = (a: AccountConfig): ExecutorState => ({ books: newBooks(a.starting_cash), working: {}, cursor: { orders: 0, bars: 0 } })

const day = (d: number) => new Date(Date.UTC(2024, 0, d)).toISOString()

/** md.bar of `symbol` on day d, with stream sequence d·10 (+1 for a second symbol). */
function bar(d: number, ohlc: { open: number; high?: number; low?: number; close: number }, symbol = 'ORCL', timeframe = '1d'): Inbound<'md.bar'> {
  const ts = day(d)
  const id = `bar:${symbol}:${timeframe}:${ts}`
  const high = ohlc.high ?? Math.max(ohlc.open, ohlc.close)
  const low = ohlc.low ?? Math.min(ohlc.open, ohlc.close)
  const data = message('md.bar', {
    id,
    ts,
    causation_id: `md.in:${d}`,
    correlation_id: id,
    symbol,
    timeframe,
    open: ohlc.open,
    high,
    low,
    close: ohlc.close,
    volume: 1000,
  })
  return inbound('md.bar', data, { seq: d * 10 + (symbol === 'ORCL' ? 0 : 1) + (timeframe === '1d' ? 0 : 5) })
}

let orderSeq = 0
/** A market order from the idea of `symbol`'s bar on day d (bar_seq = that bar's sequence). */
function order(
  d: number,
  side: 'buy' | 'sell',
  qty: number,
  opts: { symbol?: string; close?: boolean; intent?: 'entry' | 'exit'; timeframe?: string; over?: Partial<Order> } = {},
): Inbound<'trade.order'> {
  const symbol = opts.symbol ?? 'ORCL'
  const intent = opts.intent ?? (side === 'buy' ? 'entry' : 'exit')
  const ts = day(d)
  const ideaId = `idea:s:${symbol}:${ts}:${intent}:long`
  const data = message('trade.order', {
    id: `order:${ideaId}`,
    ts,
    causation_id: ideaId,
    correlation_id: `bar:${symbol}:1d:${ts}`,
    symbol,
    side,
    intent,
    qty,
    idea_id: ideaId,
    timeframe: opts.timeframe ?? '1d',
    reduce_only: intent === 'exit',
    close_position: opts.close ?? intent === 'exit',
    bar_seq: d * 10 + (symbol === 'ORCL' ? 0 : 1),
    exit_reason: intent === 'exit' ? 'signal' : null,
    ...opts.over,
  })
  return inbound('trade.order', data, { seq: ++orderSeq })
}

/**
 * Plays a history through the executor, as the runtime does: what it looks up is read from `stream`
 * (bars already stored in MD, possibly ahead of the executor's own bar input) plus every bar the
 * executor has been given.
 */
async function execute(acct: AccountConfig, history: Inbound[], opts: { stream?: Inbound<'md.bar'>[]; state?: ExecutorState } = {}) {
  const seen: Inbound<'md.bar'>[] = [...(opts.stream ?? [])]
  const read = lookupsFrom(() => seen)
  let state = opts.state ?? fresh(acct)
  const steps: { emit: Outbound[]; outcome: string | undefined }[] = []
  for (const input of history) {
    if (input.type === 'md.bar' && !seen.includes(input as Inbound<'md.bar'>)) seen.push(input as Inbound<'md.bar'>)
    const lookups = executorLookup(state, input, acct)
    const step = handleExecution(state, input, acct, lookups ? read(lookups) : [])
    state = step.state
    steps.push({ emit: step.emit ?? [], outcome: step.outcome })
    for (const out of step.emit ?? []) codec.check(out.type, out.data)
  }
  return { state, steps, emit: steps.flatMap((s) => s.emit) }
}

const last = <T>(xs: T[]): T => xs[xs.length - 1]!

describe('paper-executor: when an order fills', () => {
  it('given the executor has already handled the next bar (the order is late), the order fills at once at that bar’s open', async () => {
    const acct = account()
    const next = bar(3, { open: 51, high: 53, low: 50, close: 52 })
    const { emit, state } = await execute(acct, [bar(2, { open: 49, close: 50 }), next, order(2, 'buy', 10)], { stream: [next] })
    const [f] = ofType(emit, 'trade.fill')
    expect(f).toMatchObject({ price: 51, qty: 10, ts: next.data.ts, bar_id: next.data.id, side: 'buy', commission: 0 })
    expect(state.working).toEqual({})
  })

  it('given the next bar is not there yet, the order waits and fills on the first later bar', async () => {
    const acct = account()
    const { steps, state } = await execute(acct, [
      bar(2, { open: 49, close: 50 }),
      order(2, 'buy', 10),
      bar(3, { open: 51, close: 52 }),
      bar(4, { open: 60, close: 61 }),
    ])
    expect(steps[1]!.emit).toEqual([])
    const fills = steps.flatMap((s) => ofType(s.emit, 'trade.fill'))
    expect(fills).toHaveLength(1)
    expect(fills[0]).toMatchObject({ price: 51, ts: day(3) })
    expect(ofType(steps[2]!.emit, 'trade.fill')).toHaveLength(1)
    expect(state.working).toEqual({})
  })

  it('fills on the same bar whether that bar is already stored or arrives later', async () => {
    const acct = account({ commission_pct: 0.001, slippage_bps: 5 })
    const b3 = bar(3, { open: 51, close: 52 })
    const b4 = bar(4, { open: 55, close: 56 })
    const early = await execute(acct, [bar(2, { open: 49, close: 50 }), order(2, 'buy', 10), b3, b4])
    const late = await execute(acct, [bar(2, { open: 49, close: 50 }), order(2, 'buy', 10), b3, b4], { stream: [b3, b4] })
    expect(ofType(late.emit, 'trade.fill')).toEqual(ofType(early.emit, 'trade.fill'))
    expect(late.state.books).toEqual(early.state.books)
  })

  it('a bar of another symbol or timeframe does not fill it', async () => {
    const acct = account()
    const { steps } = await execute(acct, [
      order(2, 'buy', 10),
      bar(3, { open: 70, close: 70 }, 'AAPL'),
      bar(3, { open: 80, close: 80 }, 'ORCL', '1h'),
      bar(3, { open: 51, close: 52 }),
    ])
    expect(steps.map((s) => ofType(s.emit, 'trade.fill').length)).toEqual([0, 0, 0, 1])
    expect(ofType(steps[3]!.emit, 'trade.fill')[0]!.price).toBe(51)
  })
})

describe('paper-executor: prices and costs', () => {
  it.each<[string, 'buy' | 'sell', number, number]>([
    ['a buy pays more', 'buy', 10, 100 * 1.001],
    ['a sell receives less', 'sell', 10, 100 * 0.999],
  ])('slippage against the trader: %s', async (_, side, bps, want) => {
    const acct = account({ slippage_bps: bps })
    const history =
      side === 'buy'
        ? [order(2, 'buy', 1), bar(3, { open: 100, close: 100 })]
        : [order(1, 'buy', 1), bar(2, { open: 100, close: 100 }), order(2, 'sell', 1), bar(3, { open: 100, close: 100 })]
    const fills = ofType((await execute(acct, history)).emit, 'trade.fill')
    expect(last(fills).price).toBeCloseTo(want, 12)
    expect(last(fills).fill_model).toEqual({
      type: 'next_open',
      commission_pct: 0,
      commission_per_share: 0,
      commission_min: 0,
      slippage_bps: bps,
      volume_cap_pct: null,
    })
  })

  it.each<[string, Partial<AccountConfig['costs']>, number, number, number]>([
    // name, costs, qty, price, commission
    ['pct only', { commission_pct: 0.001 }, 100, 50, 5],
    ['per share only', { commission_per_share: 0.01 }, 100, 50, 1],
    ['pct + per share', { commission_pct: 0.001, commission_per_share: 0.01 }, 100, 50, 6],
    ['the minimum wins when larger', { commission_pct: 0.001, commission_min: 7.5 }, 100, 50, 7.5],
    ['the minimum loses when smaller', { commission_pct: 0.001, commission_min: 1 }, 100, 50, 5],
    ['free', {}, 100, 50, 0],
  ])('commission = max(min, qty·price·pct + qty·per_share): %s', async (_, costs, qty, price, commission) => {
    const acct = account(costs, 100000)
    const { emit, state } = await execute(acct, [order(2, 'buy', qty), bar(3, { open: price, close: price })])
    expect(ofType(emit, 'trade.fill')[0]!.commission).toBeCloseTo(commission, 12)
    expect(state.books.cash).toBeCloseTo(100000 - qty * price - commission, 9)
  })
})

describe('paper-executor: rejections', () => {
  it('given an order the cash cannot cover at the fill price, it is rejected with a reason, not filled', async () => {
    const acct = account({ commission_min: 1 }, 1000)
    const o = order(2, 'buy', 10)
    const { emit, state } = await execute(acct, [o, bar(3, { open: 100, close: 100 })]) // 1000 + commission 1 > 1000
    expect(ofType(emit, 'trade.fill')).toEqual([])
    expect(ofType(emit, 'trade.order_status')).toEqual<Message<'trade.order_status'>[]>([
      {
        // dated at the bar it was refused on
        id: `order-status:${o.data.id}:rejected`,
        type: 'trade.order_status',
        ts: day(3),
        causation_id: o.data.id,
        correlation_id: o.data.correlation_id,
        account: 'main',
        order_id: o.data.id,
        idea_id: o.data.idea_id,
        symbol: 'ORCL',
        status: 'rejected',
        reason: 'insufficient_cash',
      },
    ])
    expect(state.books.cash).toBe(1000)
    expect(state.books.positions).toEqual({})
  })

  it('exactly enough cash fills', async () => {
    const acct = account({ commission_min: 1 }, 1001)
    const { emit, state } = await execute(acct, [order(2, 'buy', 10), bar(3, { open: 100, close: 100 })])
    expect(ofType(emit, 'trade.fill')).toHaveLength(1)
    expect(state.books.cash).toBe(0)
  })

  it('given close_position with no position at its fill bar, it is rejected then (no_position)', async () => {
    const acct = account()
    const o = order(2, 'sell', 10, { close: true })
    const { steps } = await execute(acct, [o, bar(3, { open: 50, close: 51 })])
    expect(steps[0]!.emit).toEqual([])
    expect(ofType(steps[1]!.emit, 'trade.order_status')).toMatchObject([{ order_id: o.data.id, status: 'rejected', reason: 'no_position' }])
  })

  it('an exit arriving before the bars that open its position (a restart re-delivers them later) still fills at its own bar', async () => {
    // In step: the entry fills on day 3, the exit (signal day 3) on day 4. After a restart the exit
    // order may come back before the day-3 bar: it must wait for its fill bar, not find "no position".
    const acct = account()
    const entry = order(2, 'buy', 10)
    const exit = order(3, 'sell', 10, { close: true })
    const inStep = await execute(acct, [bar(2, { open: 49, close: 50 }), entry, bar(3, { open: 51, close: 52 }), exit, bar(4, { open: 53, close: 54 })])
    const reordered = await execute(acct, [bar(2, { open: 49, close: 50 }), entry, exit, bar(3, { open: 51, close: 52 }), bar(4, { open: 53, close: 54 })])
    expect(ofType(reordered.emit, 'trade.fill').map((f) => [f.side, f.price, f.ts])).toEqual([
      ['buy', 51, day(3)],
      ['sell', 53, day(4)],
    ])
    expect(ofType(reordered.emit, 'trade.fill')).toEqual(ofType(inStep.emit, 'trade.fill'))
  })
})

describe('paper-executor: books', () => {
  it('averages the cost across two buys', async () => {
    const acct = account()
    const { emit, state } = await execute(acct, [order(2, 'buy', 10), bar(3, { open: 50, close: 50 }), order(3, 'buy', 30), bar(4, { open: 70, close: 70 })])
    const positions = ofType(emit, 'trade.position')
    expect(last(positions)).toMatchObject({ qty: 40, avg_price: (10 * 50 + 30 * 70) / 40, status: 'open', side: 'long' })
    expect(positions[0]!.position_id).toBe(last(positions).position_id)
    expect(state.books.positions.ORCL!.qty).toBe(40)
  })

  it('on close: realized P&L net of commissions, trade_count and winning_trades; cash and equity agree', async () => {
    const acct = account({ commission_pct: 0.001 })
    const { emit, state } = await execute(acct, [
      order(2, 'buy', 100),
      bar(3, { open: 50, close: 51 }), // buy 100 @ 50, commission 5
      order(3, 'sell', 100, { close: true }),
      bar(4, { open: 60, close: 61 }), // sell 100 @ 60, commission 6
      order(4, 'buy', 10),
      bar(5, { open: 80, close: 80 }), // buy 10 @ 80, commission 0.8
      order(5, 'sell', 10, { close: true }),
      bar(6, { open: 70, close: 70 }), // sell 10 @ 70, commission 0.7 — a loss
    ])
    const closed = ofType(emit, 'trade.position').filter((p) => p.status === 'closed')
    expect(closed).toHaveLength(2)
    expect(closed[0]).toMatchObject({ qty: 0, exit_reason: 'signal', closed_at: day(4), opened_at: day(3) })
    expect(closed[0]!.realized_pnl).toBeCloseTo(1000 - 5 - 6, 9)
    expect(closed[1]!.realized_pnl).toBeCloseTo(-100 - 0.8 - 0.7, 9)
    const pf = last(ofType(emit, 'trade.portfolio'))
    expect(pf).toMatchObject({ trade_count: 2, winning_trades: 1, open_positions: 0, unrealized_pnl: 0, starting_cash: 10000 })
    expect(pf.realized_pnl).toBeCloseTo(989 - 101.5, 9)
    expect(pf.cash).toBeCloseTo(10000 + 989 - 101.5, 9)
    expect(pf.equity).toBeCloseTo(pf.cash, 9)
    expect(pf.peak_equity).toBeCloseTo(10000 + 989, 9)
    expect(pf.drawdown).toBeCloseTo(101.5, 9)
    expect(state.books.positions).toEqual({})
  })

  it('a sell that closes the position sells the whole position, whatever the order qty', async () => {
    const acct = account()
    const { emit } = await execute(acct, [
      order(2, 'buy', 30),
      bar(3, { open: 10, close: 10 }),
      order(3, 'sell', 1, { close: true }),
      bar(4, { open: 11, close: 11 }),
    ])
    expect(last(ofType(emit, 'trade.fill'))).toMatchObject({ side: 'sell', qty: 30, price: 11 })
  })

  it('portfolio equity = cash + Σ qty·mark over every held symbol', async () => {
    const acct = account({}, 100000)
    const { emit } = await execute(acct, [
      order(2, 'buy', 10),
      order(2, 'buy', 20, { symbol: 'AAPL' }),
      bar(3, { open: 50, close: 55 }),
      bar(3, { open: 100, close: 110 }, 'AAPL'),
      bar(4, { open: 56, close: 60 }),
    ])
    const pf = last(ofType(emit, 'trade.portfolio'))
    const cash = 100000 - 10 * 50 - 20 * 100
    expect(pf.cash).toBeCloseTo(cash, 9)
    expect(pf.equity).toBeCloseTo(cash + 10 * 60 + 20 * 110, 9)
    expect(pf.unrealized_pnl).toBeCloseTo(10 * (60 - 50) + 20 * (110 - 100), 9)
    expect(pf.open_positions).toBe(2)
  })

  it('a bar of a held symbol marks to market and publishes the portfolio; other bars publish nothing', async () => {
    const acct = account()
    const { steps } = await execute(acct, [
      order(2, 'buy', 10),
      bar(3, { open: 50, close: 50 }),
      bar(4, { open: 52, high: 53, low: 39, close: 40 }),
      bar(4, { open: 70, close: 70 }, 'AAPL'),
      bar(5, { open: 41, close: 60 }),
    ])
    expect(steps[3]!.emit).toEqual([])
    const [down] = ofType(steps[2]!.emit, 'trade.portfolio')
    expect(steps[2]!.emit.map((o) => o.type)).toEqual(['trade.portfolio'])
    expect(down).toMatchObject({
      id: `pf:main:bar:ORCL:1d:${day(4)}`,
      ts: day(4),
      causation_id: `bar:ORCL:1d:${day(4)}`,
      equity: 10000 - 500 + 400,
      unrealized_pnl: -100,
      peak_equity: 10000,
      drawdown: 100,
    })
    const [up] = ofType(steps[4]!.emit, 'trade.portfolio')
    expect(up).toMatchObject({ equity: 10000 + 100, peak_equity: 10100, drawdown: 0 })
    expect(up!.seq).toBeGreaterThan(down!.seq)
  })

  it('emits fill, position and portfolio per fill with deterministic ids and increasing seq', async () => {
    const acct = account()
    const o = order(2, 'buy', 10)
    const { emit } = await execute(acct, [o, bar(3, { open: 50, close: 50 })])
    expect(emit.map((e) => e.type)).toEqual(['trade.fill', 'trade.position', 'trade.portfolio'])
    const fillId = `fill:${o.data.id}`
    expect(emit.map((e) => e.data.id)).toEqual([fillId, `pos:${fillId}:position:${fillId}`, `pf:${fillId}`])
    const [f] = ofType(emit, 'trade.fill')
    expect(f).toMatchObject({
      causation_id: o.data.id,
      correlation_id: o.data.correlation_id,
      order_id: o.data.id,
      idea_id: o.data.idea_id,
      position_id: `position:${fillId}`,
    })
    const [p] = ofType(emit, 'trade.position')
    const [pf] = ofType(emit, 'trade.portfolio')
    expect(pf!.seq).toBeGreaterThan(p!.seq)
  })

  it('state survives a JSON round-trip while an order is working', async () => {
    const acct = account({ commission_pct: 0.001 })
    const history = [order(2, 'buy', 10), bar(3, { open: 50, close: 50 }), order(3, 'sell', 10, { close: true }), bar(4, { open: 60, close: 61 })]
    const straight = await execute(acct, history)
    const first = await execute(acct, history.slice(0, 3))
    expect(Object.keys(first.state.working)).toEqual(['ORCL'])
    const rest = await execute(acct, history.slice(3), {
      state: JSON.parse(JSON.stringify(first.state)) as ExecutorState,
      stream: [history[1] as Inbound<'md.bar'>],
    })
    expect(JSON.stringify([...first.emit, ...rest.emit])).toBe(JSON.stringify(straight.emit))
  })

  it('the actor owns one scope per account: its orders and operator commands (one consumer, in the order written), and every bar', () => {
    const def = paperExecutor([account()])
    expect(def.scopes[0]!.key).toBe('main')
    expect(def.scopes[0]!.inputs.map((i) => [i.stream, i.filter, i.accepts])).toEqual([
      ['TRADE', 'trade.*.main', ['trade.order', 'trade.command']],
      ['MD', 'md.bar.*.*', ['md.bar']],
    ])
  })
})

describe('paper-executor: the equity points do not depend on when the order arrives', () => {
  const acct = account({ commission_pct: 0.001 })
  const def = paperExecutor([acct])
  const scope = def.scopes[0]!
  const days = [
    bar(2, { open: 49, close: 50 }),
    bar(3, { open: 51, close: 52 }),
    bar(4, { open: 55, close: 54 }),
    bar(5, { open: 53, close: 57 }),
    bar(6, { open: 58, close: 56 }),
  ]
  const sell = () => order(4, 'sell', 10, { close: true })
  /** Settles the scope as the runtime does when it is idle: lookups read from every bar, then the fold. */
  const settle = (state: ExecutorState) => {
    const found = lookupsFrom(() => days)(def.settle!.lookup(state, scope, Number.POSITIVE_INFINITY))
    return def.settle!.run(state, scope, found, Number.POSITIVE_INFINITY)
  }
  const pointsOf = (emit: Outbound[]) => ofType(emit, 'trade.portfolio').map(({ seq: _s, orders_seq: _o, supersedes_from: _f, ...p }) => p)

  it('an order handled after the bars it fills on publishes no point until the scope settles, then the in-step run’s points', async () => {
    // In step: each order arrives before the bar it fills on.
    const inStep = await execute(acct, [days[0]!, order(2, 'buy', 10), days[1]!, days[2]!, sell(), days[3]!, days[4]!])
    // Behind: every bar handled first (the buy's looked up), then the orders.
    const behind = await execute(acct, [...days, order(2, 'buy', 10), sell()], { stream: days })
    expect(ofType(behind.emit, 'trade.fill')).toEqual(ofType(inStep.emit, 'trade.fill'))
    expect(ofType(behind.emit, 'trade.portfolio')).toEqual([])
    expect(def.held!(behind.state)).toBe(1)
    expect(def.settle!.due(behind.state)).toBeGreaterThan(0)
    const settled = settle(behind.state)
    expect(pointsOf(settled.emit ?? [])).toEqual(pointsOf(inStep.emit))
    // Each says it values the account anew from the first late fill's bar on, knowing both orders.
    for (const p of ofType(settled.emit ?? [], 'trade.portfolio')) expect(p).toMatchObject({ supersedes_from: 30 * 4, orders_seq: orderSeq })
    expect(settled.state.books).toEqual(inStep.state.books)
    expect(def.held!(settled.state)).toBe(0)
    expect(def.settle!.due(settled.state)).toBeNull()
  })

  it('idle a moment, the fold publishes what the orders have passed; idle longer, the rest', async () => {
    const inStep = await execute(acct, [days[0]!, order(2, 'buy', 10), days[1]!, days[2]!, sell(), days[3]!, days[4]!])
    const behind = await execute(acct, [...days, order(2, 'buy', 10), sell()], { stream: days })
    const read = (state: ExecutorState, idleMs: number) => lookupsFrom(() => days)(def.settle!.lookup(state, scope, idleMs))
    const soon = def.settle!.due(behind.state)!
    const first = def.settle!.run(behind.state, scope, read(behind.state, soon), soon)
    // The sell's signal bar (day 4) is as far as the orders have come: the buy's fill (day 3) only.
    expect(pointsOf(first.emit ?? []).map((p) => p.ts)).toEqual([day(3)])
    const later = def.settle!.due(first.state)!
    expect(later).toBeGreaterThan(soon)
    // The next fold starts where this one stopped: it reads only the bars after it.
    expect(def.settle!.lookup(first.state, scope, later).map((l) => l.after)).toEqual([39])
    const rest = def.settle!.run(first.state, scope, read(first.state, later), later)
    expect(def.settle!.due(rest.state)).toBeNull()
    expect([...pointsOf(first.emit ?? []), ...pointsOf(rest.emit ?? [])]).toEqual(pointsOf(inStep.emit))
  })

  it('orders far ahead of the bars handled (a bar input catching up): a fold publishes no further than the bars, then waits', async () => {
    const behind = await execute(acct, [...days, order(2, 'buy', 10), order(4, 'buy', 5, { over: { bar_seq: 9_000 } })], { stream: days })
    // The orders have come 9,000 MD positions on, the bars 60: a fold soon, as far as the bars.
    const soon = def.settle!.due(behind.state)!
    expect(soon).toBeGreaterThan(0)
    const read = (state: ExecutorState, idleMs: number) => lookupsFrom(() => days)(def.settle!.lookup(state, scope, idleMs))
    const first = def.settle!.run(behind.state, scope, read(behind.state, soon), soon)
    expect(pointsOf(first.emit ?? []).length).toBeGreaterThan(0)
    // Nothing more to publish until bars come or a second passes: no fold due at once, nor soon.
    expect(def.settle!.due(first.state)).toBeGreaterThan(soon)
    const again = def.settle!.run(first.state, scope, read(first.state, 0), 0)
    expect(again.emit ?? []).toEqual([])
  })

  it('a fill behind a bar point: the point withdrawn by the fold (not published again), the fill’s in its place', async () => {
    const held = await execute(acct, [days[0]!, order(2, 'buy', 10), days[1]!, days[2]!, days[3]!])
    // The sell (signal day 4) arrives after day 5's bar was marked holding the position.
    const late = await execute(acct, [sell()], { state: held.state, stream: days.slice(0, 4) })
    const settled = settle(late.state)
    const ids = ofType(settled.emit ?? [], 'trade.portfolio').map((p) => p.id)
    expect(ids).toEqual([`pf:fill:${sell().data.id}`])
    expect(ofType(held.emit, 'trade.portfolio').map((p) => p.id)).toContain(`pf:main:${days[3]!.data.id}`)
  })

  it('after a rebuild replayed messages, the points from the bar after the state it replayed onto are folded again', async () => {
    const first = await execute(acct, [days[0]!, order(2, 'buy', 10), days[1]!])
    const before = structuredClone(first.state)
    const replayed = await execute(acct, [days[2]!, days[3]!], { state: first.state })
    expect(def.settle!.due(replayed.state)).toBeNull()
    const again = def.settle!.replayed!(replayed.state, before)
    expect(def.settle!.due(again)).toBeGreaterThan(0)
    expect(pointsOf(settle(again).emit ?? []).map((p) => p.id)).toEqual(pointsOf(replayed.emit).map((p) => p.id))
  })
})

describe('paper-executor: fills do not depend on when the order arrives (SPEC §3.1)', () => {
  // Cash is tight: 1000 + an AAPL position. On day 2 the gate passes an AAPL exit and an ORCL entry
  // that needs the exit's proceeds. Both fill on day-3 bars; the ORCL bar is stored before the AAPL one.
  const setup = async () => {
    const acct = account({}, 2000)
    const held = await execute(acct, [order(1, 'buy', 10, { symbol: 'AAPL' }), bar(2, { open: 100, close: 100 }, 'AAPL')])
    expect(held.state.books.cash).toBe(1000)
    return { acct, state: held.state }
  }
  const orcl3 = () => bar(3, { open: 100, close: 100 }) // seq 30
  const aapl3 = () => bar(3, { open: 110, close: 110 }, 'AAPL') // seq 31
  const exitAapl = () => order(2, 'sell', 10, { symbol: 'AAPL', close: true })
  const buyOrcl = () => order(2, 'buy', 15)

  it('an executor that lags behind the bar stream fills in bar order, with the same books as one in step', async () => {
    // In step: both orders arrive before the day-3 bars, which then fill them in stream order —
    // ORCL first, when the AAPL proceeds are not in yet.
    const live = await setup()
    const inStep = await execute(live.acct, [exitAapl(), buyOrcl(), orcl3(), aapl3()], { state: live.state })
    // Behind (a replay, a restart, a slow consumer): the same orders arrive when both bars are stored.
    const again = await setup()
    const behind = await execute(again.acct, [exitAapl(), buyOrcl(), orcl3(), aapl3()], { state: again.state, stream: [orcl3(), aapl3()] })
    const outcome = (r: typeof inStep) =>
      [
        ...ofType(r.emit, 'trade.fill').map((f) => `fill ${f.symbol} ${f.side}`),
        ...ofType(r.emit, 'trade.order_status').map((s) => `${s.status} ${s.symbol} ${s.reason}`),
      ].sort()
    expect(outcome(behind)).toEqual(outcome(inStep))
    expect(behind.state.books).toEqual(inStep.state.books)
  })
})

describe('paper-executor: protective exits and rotations', () => {
  const bracket = { stop_loss: { kind: 'pct' as const, value: 0.05 }, take_profit: { kind: 'pct' as const, value: 0.1 }, max_bars: null }
  /** Long 10 ORCL: entry signal day 1, filled day 2 at the open 100 → stop 95, target 110. */
  const entry = () => [bar(1, { open: 99, close: 99 }), order(1, 'buy', 10, { over: { bracket } }), bar(2, { open: 100, close: 100 })]
  const protective = (d: number, reason: 'stop_loss' | 'take_profit') =>
    order(d, 'sell', 10, { over: { order_type: reason === 'stop_loss' ? 'stop' : 'limit', exit_reason: reason, bar_seq: d * 10 }, intent: 'exit', close: true })

  it('the entry sets the levels from its fill price; the position message carries them', async () => {
    const { emit } = await execute(account(), entry())
    expect(ofType(emit, 'trade.position')[0]).toMatchObject({ stop_price: 95, target_price: 100 * (1 + 0.1) })
  })

  it.each<[string, { open: number; high?: number; low?: number; close: number }, 'stop_loss' | 'take_profit', number]>([
    ['a stop traded through within the bar fills at the stop, less slippage', { open: 98, low: 94, close: 96 }, 'stop_loss', 95 * (1 - 0.001)],
    ['a gap below the stop fills at the open, less slippage', { open: 90, close: 92 }, 'stop_loss', 90 * (1 - 0.001)],
    ['a target reached within the bar fills at the target, no slippage (a limit)', { open: 105, high: 111, close: 108 }, 'take_profit', 110.00000000000001],
    ['a gap above the target fills at the open, no slippage', { open: 112, close: 113 }, 'take_profit', 112],
  ])('%s', async (_, ohlc, reason, price) => {
    const acct = account({ slippage_bps: 10 })
    const history = [
      bar(1, { open: 99, close: 99 }),
      order(1, 'buy', 10, { over: { bracket } }),
      bar(2, { open: 100 / 1.001, close: 100 }),
      protective(3, reason),
      bar(3, ohlc),
    ]
    const { emit } = await execute(acct, history)
    const exit = ofType(emit, 'trade.fill').at(-1)!
    expect(exit).toMatchObject({ intent: 'exit', exit_reason: reason, ts: day(3), fill_model: { type: reason === 'stop_loss' ? 'stop' : 'limit' } })
    expect(exit.price).toBeCloseTo(price, 9)
    expect(ofType(emit, 'trade.position').at(-1)).toMatchObject({ status: 'closed', exit_reason: reason })
  })

  it('fills on its own bar whether that bar came before or after the order (a late order looks it up)', async () => {
    const inStep = await execute(account(), [...entry(), protective(3, 'stop_loss'), bar(3, { open: 98, low: 94, close: 96 })])
    const late = bar(3, { open: 98, low: 94, close: 96 })
    const lagging = await execute(account(), [...entry(), late, protective(3, 'stop_loss')], { stream: [late] })
    expect(ofType(lagging.emit, 'trade.fill')).toEqual(ofType(inStep.emit, 'trade.fill'))
  })

  it('a protective exit its bar does not trigger is rejected, not filled', async () => {
    const { emit } = await execute(account(), [...entry(), protective(3, 'stop_loss'), bar(3, { open: 98, low: 96, close: 97 })])
    expect(ofType(emit, 'trade.order_status').at(-1)).toMatchObject({ status: 'rejected', reason: 'not_triggered' })
  })

  it('a short entry needs its notional in cash (100% margin) and brings the proceeds in', async () => {
    const poor = await execute(account({}, 500), [
      bar(1, { open: 99, close: 99 }),
      order(1, 'sell', 10, { intent: 'entry' }),
      bar(2, { open: 100, close: 100 }),
    ])
    expect(ofType(poor.emit, 'trade.order_status')[0]).toMatchObject({ reason: 'insufficient_cash' })
    const { state, emit } = await execute(account({}, 5000), [
      bar(1, { open: 99, close: 99 }),
      order(1, 'sell', 10, { intent: 'entry' }),
      bar(2, { open: 100, close: 100 }),
    ])
    expect(ofType(emit, 'trade.position')[0]).toMatchObject({ side: 'short', qty: 10 })
    expect(state.books.cash).toBe(6000)
  })

  it('an entry cash cannot cover waits for an exit due on an earlier-signalled bar, then fills at its own bar’s open', async () => {
    // All cash in 95 AAPL; a rotation sells AAPL and buys ORCL on day 3, and ORCL's bar comes first.
    const acct = account({}, 10_000)
    const history = [
      bar(1, { open: 100, close: 100 }, 'AAPL'),
      order(1, 'buy', 95, { symbol: 'AAPL' }),
      bar(2, { open: 100, close: 100 }, 'AAPL'),
      bar(2, { open: 50, close: 50 }),
      order(2, 'sell', 95, { symbol: 'AAPL', intent: 'exit', close: true }),
      order(2, 'buy', 150, { intent: 'entry' }),
      bar(3, { open: 51, close: 52 }),
      bar(3, { open: 102, close: 103 }, 'AAPL'),
    ]
    const { emit, state } = await execute(acct, history)
    expect(ofType(emit, 'trade.fill').map((f) => [f.symbol, f.side, f.price])).toEqual([
      ['AAPL', 'buy', 100],
      ['AAPL', 'sell', 102],
      ['ORCL', 'buy', 51],
    ])
    expect(ofType(emit, 'trade.order_status')).toEqual([])
    expect(state.deferred).toBeUndefined()
  })

  it('with no exit due, the entry is rejected for cash at once', async () => {
    const { emit } = await execute(account({}, 1000), [
      bar(2, { open: 50, close: 50 }),
      order(2, 'buy', 150, { intent: 'entry' }),
      bar(3, { open: 51, close: 52 }),
    ])
    expect(ofType(emit, 'trade.order_status')[0]).toMatchObject({ reason: 'insufficient_cash' })
  })
})

describe('paper-executor: operator commands and daily P&L', () => {
  let cmdSeq = 0
  const command = (over: Partial<Message<'trade.command'>>): Inbound<'trade.command'> => {
    const id = `cmd:${over.command ?? 'cancel_order'}:main:${++cmdSeq}`
    return inbound('trade.command', message('trade.command', { id, ts: '2024-01-03T12:00:00.000Z', causation_id: id, correlation_id: id, ...over }), {
      seq: 10_000 + cmdSeq,
    })
  }

  it('cancel_order takes a working order off the book: order_status cancelled, command_status ok; nothing fills', async () => {
    const o = order(2, 'buy', 10)
    const { emit, state } = await execute(account(), [bar(2, { open: 49, close: 50 }), o, command({ order_id: o.data.id }), bar(3, { open: 51, close: 52 })])
    expect(ofType(emit, 'trade.order_status')).toEqual([expect.objectContaining({ order_id: o.data.id, status: 'cancelled', reason: 'cancelled by ops' })])
    expect(ofType(emit, 'trade.command_status')[0]).toMatchObject({ ok: true, error: null, order_id: o.data.id, command: 'cancel_order' })
    expect(ofType(emit, 'trade.fill')).toEqual([])
    expect(state.working).toEqual({})
  })

  it('cancel_order of an order that already filled (or never existed) is refused with the reason', async () => {
    const o = order(2, 'buy', 10)
    const { emit } = await execute(account(), [bar(2, { open: 49, close: 50 }), o, bar(3, { open: 51, close: 52 }), command({ order_id: o.data.id })])
    expect(ofType(emit, 'trade.command_status')[0]).toMatchObject({
      ok: false,
      error: `order ${o.data.id} is not working (filled, rejected, cancelled or unknown)`,
    })
  })

  it('close_position closes at the open of the next bar with reason manual; a second close while it works, or no position, is refused', async () => {
    const history = [
      bar(1, { open: 49, close: 50 }),
      order(1, 'buy', 10),
      bar(2, { open: 50, close: 55 }),
      command({ command: 'close_position', symbol: 'ORCL' }),
      command({ command: 'close_position', symbol: 'ORCL' }),
      command({ command: 'close_position', symbol: 'AAPL' }),
      bar(3, { open: 57, close: 58 }),
    ]
    const { emit, state } = await execute(account(), history)
    const statuses = ofType(emit, 'trade.command_status')
    expect(statuses.map((s) => [s.ok, s.error])).toEqual([
      [true, null],
      [false, 'an order closing ORCL is already working'],
      [false, 'no open AAPL position'],
    ])
    const exit = ofType(emit, 'trade.fill').at(-1)!
    expect(exit).toMatchObject({ side: 'sell', qty: 10, price: 57, ts: day(3), exit_reason: 'manual', strategy_id: 'manual', order_id: statuses[0]!.order_id })
    expect(ofType(emit, 'trade.position').at(-1)).toMatchObject({ status: 'closed', exit_reason: 'manual' })
    expect(state.books.positions).toEqual({})
  })

  it('daily P&L: equity against the last equity of the previous bar-time day', async () => {
    const { emit } = await execute(account(), [
      bar(1, { open: 49, close: 50 }),
      order(1, 'buy', 10),
      bar(2, { open: 50, close: 55 }),
      bar(3, { open: 56, close: 53 }),
      bar(4, { open: 53, close: 60 }),
    ])
    // day 2: bought at 50, marked 55 → +50 over the starting 10 000; day 3: 55 → 53 = −20; day 4: 53 → 60 = +70
    expect(ofType(emit, 'trade.portfolio').map((p) => [p.ts.slice(0, 10), p.equity, p.daily_pnl])).toEqual([
      ['2024-01-02', 10_050, 50],
      ['2024-01-03', 10_030, -20],
      ['2024-01-04', 10_100, 70],
    ])
  })
})

describe('paper-executor: volume cap', () => {
  it('a fill takes at most volume_cap_pct of the bar volume; the rest fills at the next opens, each part its own trade', async () => {
    const acct = parseConfig({ accounts: [{ id: 'main', starting_cash: 100_000, costs: { volume_cap_pct: 0.1 } }] }).accounts[0]!
    // Every bar has volume 1000 → at most 100 per bar.
    const { emit, state } = await execute(acct, [
      bar(2, { open: 49, close: 50 }),
      order(2, 'buy', 250),
      bar(3, { open: 51, close: 52 }),
      bar(4, { open: 53, close: 54 }),
      bar(5, { open: 55, close: 56 }),
      bar(6, { open: 57, close: 58 }),
    ])
    const fills = ofType(emit, 'trade.fill')
    const id = `fill:order:idea:s:ORCL:${day(2)}:entry:long`
    expect(fills.map((f) => [f.id, f.ts, f.qty, f.price, f.fill_model.volume_cap_pct])).toEqual([
      [id, day(3), 100, 51, 0.1],
      [`${id}:2`, day(4), 100, 53, 0.1],
      [`${id}:3`, day(5), 50, 55, 0.1],
    ])
    expect(state.books.positions.ORCL).toMatchObject({ qty: 250, avg_price: (100 * 51 + 100 * 53 + 50 * 55) / 250 })
    expect(state.working).toEqual({})
    expect(state.parts ?? {}).toEqual({})
  })
})

describe('paper-executor: after a fold it could not make', () => {
  const acct = account({}, 1_000_000)
  const def = paperExecutor([acct])
  const scope = def.scopes[0]!
  const price = (d: number) => 50 + 10 * Math.sin(d / 7)
  const bars = Array.from({ length: 130 }, (_, i) => bar(i + 2, { open: price(i + 2), close: price(i + 2.5) }))
  const at = (d: number) => bars[d - 2]!
  const settle = (state: ExecutorState) => {
    const found = lookupsFrom(() => bars)(def.settle!.lookup(state, scope, Number.POSITIVE_INFINITY))
    return def.settle!.run(state, scope, found, Number.POSITIVE_INFINITY)
  }
  const pointsOf = (emit: Outbound[]) =>
    ofType(emit, 'trade.portfolio')
      .map(({ seq: _s, orders_seq: _o, supersedes_from: _f, ...p }) => p)
      .sort((a, b) => a.id.localeCompare(b.id))

  it('a later late fill is folded again from where the books then were, like any late fill', async () => {
    // Eighty fills in step (a round trip every two days): only the latest postings are kept.
    const inStep: Inbound[] = []
    for (let d = 2; d < 82; d += 2) inStep.push(at(d), order(d, 'buy', 10), at(d + 1), order(d + 1, 'sell', 10), at(d + 2))
    const traded = await execute(acct, inStep)
    // An order signalled forty fills ago: more fills late than the ledger keeps, posted where it lands.
    const ancient = order(5, 'buy', 1, { over: { id: 'order:ancient', idea_id: 'idea:ancient', causation_id: 'idea:ancient' } })
    const degraded = settle((await execute(acct, [ancient], { state: traded.state, stream: bars })).state).state
    expect(def.settle!.due(degraded)).toBeNull()
    // From there, a buy whose fill bar (day 101) was marked before the order came, and the bars after.
    const before = structuredClone(degraded)
    const late = await execute(acct, [at(100), at(101), at(102), at(103), order(100, 'buy', 10)], { state: degraded, stream: bars })
    const settled = settle(late.state)
    const inOrder = await execute(acct, [at(100), order(100, 'buy', 10), at(101), at(102), at(103)], { state: before, stream: bars })
    // Every point from the fill on: the fill's, and the marks of days 102 and 103 holding the position.
    const from = (emit: Outbound[]) => pointsOf(emit).filter((p) => p.ts >= day(101))
    expect(from(settled.emit ?? []).map((p) => p.ts)).toEqual([day(101), day(102), day(103)])
    expect(from(settled.emit ?? [])).toEqual(from(inOrder.emit))
    expect(settled.state.books).toEqual(inOrder.state.books)
  })
})
