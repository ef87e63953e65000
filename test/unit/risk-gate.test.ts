import { describe, expect, it } from 'vitest'
import { handleRisk, riskGate } from '../../actors/risk-gate.js'
import { CASH_GAP_ALLOWANCE, estimatedCost } from '../../actors/risk-gate/sizing.js'
import { newRiskState, type RiskState } from '../../actors/risk-gate/state.js'
import type { Inbound } from '../../src/core/actor.js'
import { createCodec } from '../../src/runtime/codec.js'
import type { AccountConfig } from '../../src/core/config-file/accounts.js'
import { parseConfig } from '../../src/config/env.js'
import type { Message } from '../../src/core/contracts.js'
import { inbound, ofType, playSync } from '../support/actor-spec.js'
import { TestMarket } from '../support/gate-market.js'
import { message } from '../support/messages.js'

const codec = createCodec(16)
type Idea = Message<'trade.idea'>

function account(risk: Partial<AccountConfig['risk']> = {}, starting_cash = 10000, costs: Partial<AccountConfig['costs']> = {}): AccountConfig {
  return parseConfig({ accounts: [{ id: 'main', starting_cash, costs, risk }] }).accounts[0]!
}
const fresh = (a: AccountConfig): RiskState => newRiskState(a.starting_cash, a.risk)

const day = (d: number) => new Date(Date.UTC(2024, 0, d)).toISOString()
// Every bar at 50, but ORCL closes at 45 on day 5 (the exit below is decided on it).
const market = new TestMarket().set('ORCL', 5, { close: 45 })

function idea(d: number, intent: 'entry' | 'exit', over: Partial<Idea> = {}): Idea {
  const symbol = over.symbol ?? 'ORCL'
  const ts = day(d)
  return message('trade.idea', {
    id: `idea:s:${symbol}:${ts}:${intent}:long`,
    ts,
    causation_id: `ind:${symbol}:1d:${ts}`,
    correlation_id: `bar:${symbol}:1d:${ts}`,
    symbol,
    side: intent === 'entry' ? 'buy' : 'sell',
    intent,
    qty: 100,
    close_position: intent === 'exit',
    bar_seq: market.seqOf(symbol, d),
    reason: `${intent}.long`,
    exit_reason: intent === 'exit' ? 'signal' : null,
    sizing: intent === 'entry' ? { method: 'fixed_qty', value: over.qty ?? 100, phase5: false } : null,
    ...over,
  })
}

function fill(i: Idea, d: number, price: number, commission = 0): Message<'trade.fill'> {
  const orderId = `order:${i.id}`
  return message('trade.fill', {
    id: `fill:${orderId}`,
    ts: day(d),
    causation_id: orderId,
    correlation_id: i.correlation_id,
    strategy_id: i.strategy_id,
    symbol: i.symbol,
    side: i.side,
    intent: i.intent,
    qty: i.qty ?? 100,
    order_id: orderId,
    idea_id: i.id,
    position_id: `position:fill:order:${i.symbol}`,
    price,
    commission,
    bar_id: `bar:${i.symbol}:1d:${day(d)}`,
    bar_seq: market.seqOf(i.symbol, d),
    exit_reason: i.intent === 'exit' ? 'signal' : null,
  })
}

function position(symbol: string, d: number, qty: number, status: 'open' | 'closed' = qty > 0 ? 'open' : 'closed'): Message<'trade.position'> {
  return message('trade.position', {
    id: `pos:${symbol}:${d}:${status}`,
    ts: day(d),
    causation_id: 'x',
    correlation_id: 'x',
    position_id: `position:${symbol}`,
    symbol,
    qty,
    status,
    opened_at: day(1),
    closed_at: status === 'closed' ? day(d) : null,
    exit_reason: status === 'closed' ? 'signal' : null,
    seq: d,
  })
}

function portfolio(d: number, cash: number): Message<'trade.portfolio'> {
  return message('trade.portfolio', { id: `pf:${d}:${cash}`, ts: day(d), causation_id: 'x', correlation_id: 'x', cash, equity: cash, seq: d })
}

function orderStatus(i: Idea, reason: string): Message<'trade.order_status'> {
  const orderId = `order:${i.id}`
  return message('trade.order_status', {
    id: `order-status:${orderId}:rejected`,
    ts: i.ts,
    causation_id: orderId,
    correlation_id: i.correlation_id,
    order_id: orderId,
    idea_id: i.id,
    symbol: i.symbol,
    reason,
  })
}

let seq = 0
const msg = <T extends Parameters<typeof inbound>[0]>(type: T, data: Message<T>) => inbound(type, data, { seq: ++seq }) as Inbound

/** Plays messages through the gate for `acct`; returns the final state and the emits per message. */
function gate(acct: AccountConfig, history: Inbound[], state = fresh(acct)) {
  return playSync(market.gate(acct), state, history)
}

/** A state already long `qty` ORCL (entry filled at 50 on day 2), its books as of day 2. */
function longOrcl(acct: AccountConfig, qty = 100) {
  const entry = idea(1, 'entry', { qty })
  const played = gate(acct, [
    msg('trade.idea', entry),
    msg('trade.fill', fill(entry, 2, 50)),
    msg('trade.idea', idea(2, 'exit', { id: 'idea:probe', symbol: 'AAPL' })),
  ])
  expect(played.state.ledger.books.positions.ORCL?.qty).toBe(qty)
  expect(played.state.ledger.orders).toEqual({})
  return played.state
}

describe('risk-gate verdicts', () => {
  it('given an entry within every limit, it emits order, idea_status auto_executed and decision ai_auto_executed, with deterministic ids', () => {
    const acct = account()
    const i = idea(2, 'entry')
    const { steps } = gate(acct, [msg('trade.idea', i)])
    const emit = steps[0]!.emit!
    expect(emit.map((o) => o.type)).toEqual(['trade.order', 'trade.idea_status', 'trade.decision'])
    expect(ofType(emit, 'trade.order')[0]).toEqual<Message<'trade.order'>>({
      id: `order:${i.id}`,
      type: 'trade.order',
      ts: i.ts,
      causation_id: i.id,
      correlation_id: i.correlation_id,
      account: 'main',
      strategy_id: 's',
      symbol: 'ORCL',
      side: 'buy',
      intent: 'entry',
      qty: 100,
      idea_id: i.id,
      timeframe: '1d',
      order_type: 'market',
      reduce_only: false,
      close_position: false,
      ref_price: 50,
      bar_seq: market.seqOf('ORCL', 2),
      exit_reason: null,
      bracket: null,
      phase5: null,
      limit_price: null,
      stop_price: null,
      valid_bars: null,
    })
    expect(ofType(emit, 'trade.idea_status')[0]).toMatchObject({
      id: `status:${i.id}:auto_executed`,
      status: 'auto_executed',
      reason: 'pass',
      idea_id: i.id,
      causation_id: i.id,
    })
    expect(ofType(emit, 'trade.decision')[0]).toMatchObject({
      id: `decision:${i.id}:ai_auto_executed`,
      action: 'ai_auto_executed',
      status: 'auto_executed',
      risk_check_result: 'pass',
      human_override: false,
      requested_by: null,
      idea_id: i.id,
      correlation_id: i.correlation_id,
    })
    for (const out of emit) codec.check(out.type, out.data)
  })

  it.each<[string, Partial<AccountConfig['risk']>, Partial<Idea>, string, string, string]>([
    // name, risk, idea overrides, status, action, risk_check_result
    ['AI trading disabled', { ai_trading_enabled: false }, {}, 'needs_approval', 'ai_proposed', 'approval:ai_trading_disabled'],
    [
      'confidence below min_confidence_threshold',
      { min_confidence_threshold: 60 },
      { confidence: 59.9 },
      'needs_approval',
      'ai_proposed',
      'approval:min_confidence',
    ],
    ['confidence equal to the threshold', { min_confidence_threshold: 60 }, { confidence: 60 }, 'auto_executed', 'ai_auto_executed', 'pass'],
    ['qty above max_lot_size', { max_lot_size: 99 }, {}, 'rejected', 'risk_rejected', 'fail:max_lot_size'],
    ['qty equal to max_lot_size', { max_lot_size: 100 }, {}, 'auto_executed', 'ai_auto_executed', 'pass'],
    ['max_concurrent_trades 0', { max_concurrent_trades: 0 }, {}, 'rejected', 'risk_rejected', 'fail:max_concurrent_trades'],
    ['cost far above cash', {}, { price: 120 }, 'rejected', 'risk_rejected', 'fail:insufficient_cash'],
  ])('given %s, the entry is %s (%s, %s)', (_, risk, over, status, action, result) => {
    const acct = account(risk)
    const i = idea(2, 'entry', over)
    const emit = gate(acct, [msg('trade.idea', i)]).emit
    expect(ofType(emit, 'trade.idea_status')).toMatchObject([{ status, reason: result, id: `status:${i.id}:${status}` }])
    expect(ofType(emit, 'trade.decision')).toMatchObject([{ action, status, risk_check_result: result, id: `decision:${i.id}:${action}` }])
    expect(ofType(emit, 'trade.order')).toHaveLength(status === 'auto_executed' ? 1 : 0)
    for (const out of emit) codec.check(out.type, out.data)
  })

  it('AI trading disabled is checked before the confidence threshold and the limits', () => {
    const acct = account({ ai_trading_enabled: false, min_confidence_threshold: 90, max_lot_size: 1 })
    expect(ofType(gate(acct, [msg('trade.idea', idea(2, 'entry', { confidence: 10 }))]).emit, 'trade.decision')[0]!.risk_check_result).toBe(
      'approval:ai_trading_disabled',
    )
  })

  it('given an exit, it always passes: AI disabled, low confidence, lot size, concurrency and no cash', () => {
    const acct = account({ ai_trading_enabled: false, min_confidence_threshold: 100, max_lot_size: 1, max_concurrent_trades: 0 }, 10000)
    const state = longOrcl(account(), 100)
    state.ledger.books.cash = 0
    state.risk = acct.risk
    const i = idea(5, 'exit', { confidence: 0 })
    const emit = gate(acct, [msg('trade.idea', i)], state).emit.filter((o) => o.type !== 'metrics.phase5')
    expect(emit.map((o) => o.type)).toEqual(['trade.order', 'trade.idea_status', 'trade.decision'])
    expect(ofType(emit, 'trade.order')[0]).toMatchObject({ reduce_only: true, close_position: true, side: 'sell', intent: 'exit' })
    expect(ofType(emit, 'trade.decision')[0]).toMatchObject({
      action: 'ai_auto_executed',
      risk_check_result: 'pass',
      rationale: 'exits (reduce-only) always pass',
    })
  })

  it('insufficient cash allows for a gap: refused only beyond CASH_GAP_ALLOWANCE of the estimate', () => {
    const acct = account({}, 10000, { commission_pct: 0.001 })
    const cost = (price: number) => estimatedCost(idea(2, 'entry', { price }), 100, acct)
    expect(cost(100)).toBeCloseTo(100 * 100 * 1.001, 9)
    // Largest price still passing: cost·(1 − allowance) ≤ cash.
    const edge = 10000 / (1 - CASH_GAP_ALLOWANCE) / 100 / 1.001
    const verdict = (price: number) => ofType(gate(acct, [msg('trade.idea', idea(2, 'entry', { price }))]).emit, 'trade.idea_status')[0]!.status
    expect(verdict(edge * 0.999)).toBe('auto_executed')
    expect(verdict(edge * 1.001)).toBe('rejected')
  })

  it('estimatedCost includes slippage and commission (max of min and pct + per share)', () => {
    const acct = account({}, 10000, { slippage_bps: 10, commission_pct: 0.001, commission_per_share: 0.01, commission_min: 5 })
    const price = 50 * 1.001
    expect(estimatedCost(idea(2, 'entry'), 100, acct)).toBeCloseTo(100 * price + Math.max(5, 100 * price * 0.001 + 100 * 0.01), 9)
    expect(estimatedCost(idea(2, 'entry', { qty: 1 }), 1, acct)).toBeCloseTo(price + 5, 9)
  })
})

describe('risk-gate: max_concurrent_trades counts open positions and working entries', () => {
  it('given one working entry and a limit of 1, a second entry on another symbol is rejected', () => {
    const acct = account({ max_concurrent_trades: 1 })
    const { steps } = gate(acct, [
      msg('trade.idea', idea(2, 'entry', { symbol: 'AAA', price: 10 })),
      msg('trade.idea', idea(2, 'entry', { symbol: 'BBB', price: 10 })),
    ])
    expect(ofType(steps[1]!.emit!, 'trade.idea_status')[0]).toMatchObject({ status: 'rejected', reason: 'fail:max_concurrent_trades' })
  })

  it('given one open position and a limit of 1, a new entry is rejected; a limit of 2 lets it pass', () => {
    const one = longOrcl(account())
    const verdict = (limit: number) => {
      const acct = account({ max_concurrent_trades: limit })
      const state = { ...structuredClone(one), risk: acct.risk }
      return ofType(gate(acct, [msg('trade.idea', idea(5, 'entry', { symbol: 'AAPL', price: 10 }))], state).emit, 'trade.idea_status')[0]!.status
    }
    expect(verdict(1)).toBe('rejected')
    expect(verdict(2)).toBe('auto_executed')
  })

  it('given a closed position, it no longer counts', () => {
    const acct = account({ max_concurrent_trades: 1 })
    const state = longOrcl(acct)
    const exit = idea(5, 'exit')
    const { steps } = gate(
      acct,
      [
        msg('trade.idea', exit),
        msg('trade.fill', fill(exit, 6, 50)),
        msg('trade.position', position('ORCL', 6, 0, 'closed')),
        msg('trade.idea', idea(7, 'entry', { symbol: 'AAPL', price: 10 })),
      ],
      state,
    )
    expect(ofType(steps[3]!.emit!, 'trade.idea_status')[0]!.status).toBe('auto_executed')
  })

  it('an entry waiting behind another symbol’s entry is judged on the filled books: rejected once that position is open', () => {
    // The AAA entry (day 2) fills on AAA's day-3 bar, which the stream holds before BBB's day-3 bar:
    // the BBB idea waits for that fill, and then the AAA position counts against the limit of 1.
    const acct = account({ max_concurrent_trades: 1 })
    const a = idea(2, 'entry', { symbol: 'AAA', price: 10 })
    const b = idea(3, 'entry', { symbol: 'BBB', price: 10 })
    const { steps } = gate(acct, [msg('trade.idea', a), msg('trade.idea', b), msg('trade.fill', fill(a, 3, 10))])
    expect(steps[1]!.outcome).toBe('waiting')
    expect(steps[1]!.emit).toBeUndefined()
    expect(ofType(steps[2]!.emit!, 'trade.idea_status')).toMatchObject([{ idea_id: b.id, status: 'rejected', reason: 'fail:max_concurrent_trades' }])
  })
})

describe('risk-gate: an entry waits for an earlier exit of the same symbol/timeframe', () => {
  // Long 100 ORCL bought at 50 (cash 5000). Exit on day 5 (close 45); it fills on day 6 at 120 (a gap).
  // A new entry on day 7 at 120 costs ≈ 12000: with the exit's estimated proceeds (100·45) it would be
  // refused, but judged after the exit's fill it has the real proceeds (100·120) and passes.
  const exit = idea(5, 'exit', { price: 45 })
  const entry = idea(7, 'entry', { price: 120 })

  it.each<[string, Partial<AccountConfig['risk']>]>([
    ['default limits', {}],
    ['max_concurrent_trades 1 (the exit frees the only slot)', { max_concurrent_trades: 1 }],
  ])('with %s: WAITS, then passes with the exit’s cash when the exit’s fill arrives', (_, risk) => {
    const acct = account(risk)
    const state = longOrcl(acct)
    state.risk = acct.risk
    const { steps, state: after } = gate(
      acct,
      [
        msg('trade.idea', exit),
        msg('trade.idea', entry),
        msg('trade.fill', fill(exit, 6, 120)),
        msg('trade.position', position('ORCL', 6, 0, 'closed')),
        msg('trade.portfolio', portfolio(6, 5000 + 12000)),
      ],
      state,
    )
    expect(ofType(steps[0]!.emit!, 'trade.order')).toHaveLength(1)
    // when the entry arrives, the exit is still outstanding: it waits, nothing is emitted
    expect(steps[1]!.outcome).toBe('waiting')
    expect(steps[1]!.emit).toBeUndefined()
    expect(after.queue).toEqual([])
    // the exit's fill releases it: judged and passed
    const emit = steps[2]!.emit!
    // The fill closes the position (its Phase-5 row, and the day's), then releases the entry.
    expect(emit.map((o) => o.type)).toEqual(['metrics.phase5', 'metrics.phase5', 'trade.order', 'trade.idea_status', 'trade.decision'])
    expect(ofType(emit, 'metrics.phase5').map((m) => m.trigger)).toEqual(['position_closed', 'daily'])
    expect(ofType(emit, 'trade.order')[0]).toMatchObject({ id: `order:${entry.id}`, intent: 'entry', qty: 100 })
    expect(ofType(emit, 'trade.decision')[0]).toMatchObject({ id: `decision:${entry.id}:ai_auto_executed`, risk_check_result: 'pass' })
    // Positions and portfolios are the executor's word on the books; the gate keeps its own.
    expect(steps[3]!.emit).toBeUndefined()
    expect(steps[4]!.emit).toBeUndefined()
  })

  it('judged before the exit filled (no deferral), the same entry would have been refused for cash', () => {
    const acct = account()
    const state = longOrcl(acct)
    gate(acct, [msg('trade.idea', exit)], state)
    // Same bar as the exit: nothing to wait for, so it is judged on estimated proceeds.
    const sameBar = idea(5, 'entry', { price: 120, id: 'idea:same-bar' })
    const emit = gate(acct, [msg('trade.idea', sameBar)], state).emit
    expect(ofType(emit, 'trade.idea_status')[0]).toMatchObject({ status: 'rejected', reason: 'fail:insufficient_cash' })
  })

  it('a rejected exit order (trade.order_status) also releases the waiting entry', () => {
    const acct = account()
    const state = longOrcl(acct)
    const cheap = idea(7, 'entry', { price: 10, qty: 10 })
    const { steps } = gate(acct, [msg('trade.idea', exit), msg('trade.idea', cheap), msg('trade.order_status', orderStatus(exit, 'no_position'))], state)
    expect(steps[1]!.outcome).toBe('waiting')
    expect(ofType(steps[2]!.emit!, 'trade.idea_status')).toMatchObject([{ idea_id: cheap.id, status: 'auto_executed' }])
  })

  it('waiting ideas are judged in arrival order', () => {
    const acct = account()
    const state = longOrcl(acct)
    const e7 = idea(7, 'entry', { price: 10, qty: 10 })
    const x8 = idea(8, 'exit', { price: 10 })
    const { steps } = gate(acct, [msg('trade.idea', exit), msg('trade.idea', e7), msg('trade.idea', x8), msg('trade.fill', fill(exit, 6, 50))], state)
    expect(steps[1]!.outcome).toBe('waiting')
    expect(steps[2]!.outcome).toBe('waiting')
    // e7 passes; x8 then waits again for e7's order (same symbol, earlier bar)
    expect(ofType(steps[3]!.emit!, 'trade.idea_status').map((s) => s.idea_id)).toEqual([e7.id])
    expect(state.queue.map((t) => ('idea' in t ? t.idea.id : t.command.id))).toEqual([x8.id])
  })
})

describe('risk-gate: an order on another symbol holds an idea back only if it settles before the idea’s bar', () => {
  it.each([
    [0, 'auto_executed'], // AAA's order fills on AAA's day-3 bar, after BBB's day-2 bar: nothing to wait for
    [1, 'waiting'], // AAA's day-3 bar comes before BBB's day-3 bar: the fill belongs to the books the idea is judged on
    [20, 'waiting'], // however far behind the executor is
  ])('a BBB idea %i days after an AAA entry → %s', (days, outcome) => {
    const acct = account()
    const first = idea(2, 'entry', { symbol: 'AAA', price: 10, qty: 10 })
    const later = idea(2 + days, 'entry', { symbol: 'BBB', price: 10, qty: 10 })
    const { steps } = gate(acct, [msg('trade.idea', first), msg('trade.idea', later)])
    expect(steps[1]!.outcome).toBe(outcome)
  })
})

describe('risk-gate: an idea that arrives behind the books (ideas of several strategy scopes)', () => {
  it('is judged as soon as the bars up to the books are looked up: it never waits for an input that may not come', () => {
    // Last day of the market: MSFT's idea is judged first, so the books are at MSFT's bar; ORCL's and
    // AAPL's ideas of earlier bars that day come after it. ORCL's order has no bar to fill on yet:
    // the gate must look its bars up to the books' bar, not only to AAPL's, or AAPL's idea waited
    // for ever (a replay's --wait with it). Found by the bench with the gate and executor on two threads.
    const acct = account({ max_concurrent_trades: null })
    const msft = idea(60, 'entry', { symbol: 'MSFT', price: 10, qty: 10 })
    const orcl = idea(60, 'entry', { symbol: 'ORCL', price: 10, qty: 10 })
    const aapl = idea(60, 'entry', { symbol: 'AAPL', price: 10, qty: 10 })
    const { steps, state } = gate(acct, [msg('trade.idea', msft), msg('trade.idea', orcl), msg('trade.idea', aapl)])
    expect(steps.map((s) => s.outcome)).toEqual(['auto_executed', 'auto_executed', 'auto_executed'])
    expect(state.queue).toEqual([])
    expect(state.ledger.asOf).toBe(market.seqOf('MSFT', 60))
  })
})

describe('risk-gate: books', () => {
  it('follows cash and positions (with their average cost) from fills, applied when an idea’s bar reaches them; portfolios change nothing', () => {
    const acct = account({}, 10000, {})
    const e = idea(2, 'entry')
    const { state } = gate(acct, [msg('trade.idea', e), msg('trade.fill', fill(e, 3, 51, 5.1)), msg('trade.portfolio', portfolio(3, 1))])
    // The fill is on day 3; the books are still as of day 2 until an idea of day 3 or later.
    expect(state.ledger.books.cash).toBe(10000)
    const after = gate(acct, [msg('trade.idea', idea(4, 'exit', { id: 'idea:probe', symbol: 'AAPL' }))], state).state
    expect(after.ledger.books.cash).toBeCloseTo(10000 - 5100 - 5.1, 9)
    expect(after.ledger.books.positions).toMatchObject({ ORCL: { qty: 100, avg_price: 51, realized_pnl: -5.1 } })
    expect(after.ledger.owners).toEqual({ ORCL: { strategy: 's', timeframe: '1d' } })
    expect(after.ledger.orders).toEqual({})
  })

  it('skips messages it does not act on', () => {
    const acct = account()
    const e = idea(2, 'entry')
    const order = ofType(gate(acct, [msg('trade.idea', e)]).emit, 'trade.order')[0]!
    expect(handleRisk(fresh(acct), msg('trade.order', order), acct).outcome).toBe('skipped')
  })

  it('the actor owns one scope per account, over trade.*.<account>', () => {
    const def = riskGate([account()])
    expect(def.scopes[0]).toMatchObject({ key: 'main', inputs: [{ stream: 'TRADE', filter: 'trade.*.main' }] })
    expect(def.init(def.scopes[0]!)).toEqual(newRiskState(10000, account().risk))
  })

  it('state survives a JSON round-trip while an idea waits', () => {
    const acct = account()
    const state = longOrcl(acct)
    const history = [msg('trade.idea', idea(5, 'exit')), msg('trade.idea', idea(7, 'entry', { price: 10 })), msg('trade.fill', fill(idea(5, 'exit'), 6, 50))]
    const straight = gate(acct, history, structuredClone(state))
    const first = gate(acct, history.slice(0, 2), structuredClone(state))
    const rest = gate(acct, history.slice(2), JSON.parse(JSON.stringify(first.state)) as RiskState)
    expect(JSON.stringify([...first.emit, ...rest.emit])).toBe(JSON.stringify(straight.emit))
  })
})
