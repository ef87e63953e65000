// The risk gate's account-level rules as pure handler runs: operator commands (set, halt, resume,
// approve, reject), automatic halts on drawdown and on the daily target, approvals expiring in bar
// time, and the per-order notional and per-day order limits.
import { describe, expect, it } from 'vitest'
import { newRiskState, type RiskState } from '../../actors/risk-gate/state.js'
import type { Inbound } from '../../src/core/actor.js'
import { createCodec } from '../../src/runtime/codec.js'
import { parseConfig } from '../../src/config/env.js'
import type { Message } from '../../src/core/contracts.js'
import { inbound, ofType, playSync } from '../support/actor-spec.js'
import { TestMarket } from '../support/gate-market.js'
import { message } from '../support/messages.js'

const codec = createCodec(16)
const day = (d: number, h = 0) => new Date(Date.UTC(2024, 0, d, h)).toISOString()
const account = (risk: Record<string, unknown> = {}) => parseConfig({ accounts: [{ id: 'main', starting_cash: 10_000, risk }] }).accounts[0]!
let seq = 0
const market = new TestMarket()

function idea(d: number, over: Partial<Message<'trade.idea'>> = {}): Inbound {
  const ts = day(d)
  const id = `idea:s:ORCL:${ts}:entry:long`
  return inbound(
    'trade.idea',
    message('trade.idea', {
      id,
      ts,
      causation_id: 'c',
      correlation_id: `bar:${ts}`,
      qty: 10,
      sizing: { method: 'fixed_qty', value: 10, phase5: false },
      bar_seq: market.seqOf(over.symbol ?? 'ORCL', d),
      confidence: 80,
      ...over,
    }),
    { seq: ++seq },
  )
}
/** A position the books already hold (as if filled before the first idea of the test). */
function hold(state: RiskState, symbol: string, qty: number, avg = 50): RiskState {
  state.ledger.books.positions[symbol] = { position_id: `position:${symbol}`, qty, avg_price: avg, realized_pnl: 0, opened_at: day(1) }
  state.ledger.books.cash -= qty * avg
  state.ledger.owners[symbol] = { strategy: 's', timeframe: '1d' }
  return state
}
function fillOf(i: Inbound, d: number, price: number, m = market): Inbound {
  const x = i.data as Message<'trade.idea'>
  const orderId = `order:${x.id}`
  return inbound(
    'trade.fill',
    message('trade.fill', {
      id: `fill:${orderId}`,
      ts: day(d),
      causation_id: orderId,
      correlation_id: x.correlation_id,
      strategy_id: x.strategy_id,
      symbol: x.symbol,
      side: x.side,
      intent: x.intent,
      qty: x.qty ?? 10,
      order_id: orderId,
      idea_id: x.id,
      position_id: `position:${x.symbol}`,
      price,
      bar_id: `bar:${x.symbol}:1d:${day(d)}`,
      bar_seq: m.seqOf(x.symbol, d),
    }),
    { seq: ++seq },
  )
}
function command(command: Message<'trade.command'>['command'], over: Partial<Message<'trade.command'>> = {}): Inbound {
  const id = `cmd:${command}:main:${++seq}`
  return inbound('trade.command', message('trade.command', { id, ts: '2026-01-01T00:00:00.000Z', causation_id: id, correlation_id: id, command, ...over }), {
    seq: ++seq,
  })
}
function gate(
  acct = account(),
  history: Inbound[],
  state: RiskState = newRiskState(acct.starting_cash, acct.risk),
  m = market,
  lists?: Map<string, Set<string>>,
) {
  const played = playSync(m.gate(acct, lists), state, history)
  for (const out of played.emit) codec.check(out.type, out.data)
  return played
}
const statuses = (emit: Parameters<typeof ofType>[0]) => ofType(emit, 'trade.idea_status').map((s) => [s.status, s.reason])

describe('risk gate: which risk settings apply', () => {
  const file = (risk: Record<string, unknown>) => account(risk).risk as unknown as Record<string, number | boolean | null>
  const settings = (emit: Parameters<typeof ofType>[0]) => ofType(emit, 'trade.risk_state').map((r) => [r.version, r.updated_by, r.risk.max_lot_size])

  it('the first start gives the account its risk_config row; the same file again changes nothing and keeps a runtime change in force', () => {
    const { state, emit } = gate(account({ max_lot_size: 100 }), [
      command('risk_config', { risk: file({ max_lot_size: 100 }), requested_by: 'config' }),
      command('risk_set', { risk: { max_lot_size: 5 }, requested_by: 'alice' }),
      command('risk_config', { risk: file({ max_lot_size: 100 }), requested_by: 'config' }),
    ])
    expect(settings(emit)).toEqual([
      [1, 'config', 100],
      [2, 'alice', 5],
    ])
    expect(state.risk.max_lot_size).toBe(5)
  })

  it('a config file edited since wins over runtime changes made meanwhile', () => {
    const { state, emit } = gate(account({ max_lot_size: 100 }), [
      command('risk_config', { risk: file({ max_lot_size: 100 }), requested_by: 'config' }),
      command('risk_set', { risk: { max_lot_size: 5 }, requested_by: 'alice' }),
      command('risk_config', { risk: file({ max_lot_size: 250 }), requested_by: 'config' }),
    ])
    expect(settings(emit)).toEqual([
      [1, 'config', 100],
      [2, 'alice', 5],
      [3, 'config', 250],
    ])
    expect(state.risk.max_lot_size).toBe(250)
    expect(ofType(emit, 'trade.command_status').map((c) => [c.command, c.ok, c.detail?.applied])).toEqual([
      ['risk_config', true, false],
      ['risk_set', true, undefined],
      ['risk_config', true, true],
    ])
  })

  it('a state from before the file was recorded keeps its settings the first time, and writes no second row', () => {
    const state = newRiskState(10_000, account({ max_lot_size: 100 }).risk)
    state.version = 3 // runtime changes of an earlier release
    state.risk.max_lot_size = 7
    const { emit } = gate(account({ max_lot_size: 100 }), [command('risk_config', { risk: file({ max_lot_size: 100 }), requested_by: 'config' })], state)
    expect(settings(emit)).toEqual([])
    expect(state.risk.max_lot_size).toBe(7)
  })
})

describe('risk gate: halts', () => {
  it('a manual halt sends entries to halted_by_risk and is audited; exits still pass; a resume lets entries through again', () => {
    const exit = idea(3, { id: 'idea:exit', intent: 'exit', side: 'sell', qty: null, sizing: null, close_position: true })
    const state = hold(newRiskState(10_000, account().risk), 'ORCL', 10)
    // The last entry (AAPL, day 3) comes after the exit's bar but before its fill (ORCL, day 4): no wait.
    const { emit } = gate(
      account(),
      [command('risk_halt', { reason: 'earnings' }), idea(2), exit, command('risk_resume'), idea(3, { id: 'idea:after', symbol: 'AAPL' })],
      state,
    )
    expect(statuses(emit)).toEqual([
      ['halted_by_risk', 'fail:halted:earnings'],
      ['auto_executed', 'pass'],
      ['auto_executed', 'pass'],
    ])
    expect(
      ofType(emit, 'trade.decision')
        .filter((d) => d.idea_id === null)
        .map((d) => [d.action, d.risk_check_result, d.human_override, d.requested_by]),
    ).toEqual([
      ['ai_halted', 'fail:earnings', true, 'ops'],
      ['ai_resumed', 'pass', true, 'ops'],
    ])
    expect(ofType(emit, 'trade.risk_state').map((r) => [r.halted, r.last_halt_reason, r.version])).toEqual([
      [true, 'earnings', 1],
      [false, null, 2], // the reason went with the halt (risk_config_history keeps it)
    ])
  })

  // Long 100 ORCL bought at 50 on day 2; then it closes at 49 (day 3), 48.99 (day 4), 52.5 (day 5).
  const falling = new TestMarket(10, ['ORCL', 'AAPL'], (symbol, d) =>
    symbol !== 'ORCL' ? {} : d === 3 ? { close: 49 } : d === 4 ? { close: 48.99 } : d === 5 ? { close: 52.5 } : {},
  )
  // An idea that leaves nothing working (an exit of a position not held): it moves the books to its bar.
  const probe = (d: number) =>
    idea(d, {
      id: `idea:probe:${d}`,
      symbol: 'AAPL',
      bar_seq: falling.seqOf('AAPL', d),
      intent: 'exit',
      side: 'sell',
      qty: null,
      sizing: null,
      close_position: true,
    })
  const bought = (acct: ReturnType<typeof account>) => {
    const entry = idea(1, { qty: 100, sizing: { method: 'fixed_qty', value: 100, phase5: false }, bar_seq: falling.seqOf('ORCL', 1) })
    return gate(acct, [entry, fillOf(entry, 2, 50, falling)], undefined, falling)
  }

  it('drawdown above max_drawdown_amount halts with max_drawdown (when halt_on_drawdown), dated at the bar that breached it; not before, not without the switch', () => {
    const on = account({ max_drawdown_amount: 100, halt_on_drawdown: true })
    const atLimit = gate(on, [probe(3)], bought(on).state, falling)
    expect(atLimit.state.halted).toBe(false) // 100 below the peak is not more than 100
    const breach = gate(on, [probe(4)], atLimit.state, falling)
    expect([breach.state.halted, breach.state.last_halt_reason]).toEqual([true, 'max_drawdown'])
    expect(ofType(breach.emit, 'trade.decision')[0]).toMatchObject({
      action: 'ai_halted',
      ts: day(4),
      symbol: null,
      risk_check_result: 'fail:max_drawdown',
      human_override: false,
      requested_by: null,
    })
    expect(statuses(gate(on, [idea(5, { id: 'idea:later', symbol: 'AAPL', bar_seq: falling.seqOf('AAPL', 5) })], breach.state, falling).emit)).toEqual([
      ['halted_by_risk', 'fail:halted:max_drawdown'],
    ])
    const off = account({ max_drawdown_amount: 100 })
    expect(gate(off, [probe(3), probe(4)], bought(off).state, falling).state.halted).toBe(false)
  })

  it('daily P&L reaching daily_profit_target halts with daily_target_reached when stop_after_target', () => {
    // Day 4 ends at 48.99; day 5 closes at 52.5: +351 on the day.
    const reached = account({ daily_profit_target: 351, stop_after_target: true })
    expect(gate(reached, [probe(4), probe(5)], bought(reached).state, falling).state.last_halt_reason).toBe('daily_target_reached')
    const short = account({ daily_profit_target: 351.01, stop_after_target: true })
    expect(gate(short, [probe(4), probe(5)], bought(short).state, falling).state.halted).toBe(false)
  })
})

describe('risk gate: approvals', () => {
  const waiting = (acct = account({ min_confidence_threshold: 90 })) => gate(acct, [idea(2)])

  it('a low-confidence entry waits; approving re-checks the limits as they are now and places the order', () => {
    const first = waiting()
    expect(statuses(first.emit)).toEqual([['needs_approval', 'approval:min_confidence']])
    const approved = gate(account({ min_confidence_threshold: 90 }), [command('idea_approve', { idea_id: `idea:s:ORCL:${day(2)}:entry:long` })], first.state)
    expect(ofType(approved.emit, 'trade.order')).toHaveLength(1)
    expect(ofType(approved.emit, 'trade.decision')[0]).toMatchObject({ action: 'human_approved', human_override: true, requested_by: 'ops' })
    expect(ofType(approved.emit, 'trade.command_status')[0]).toMatchObject({ ok: true, detail: { status: 'auto_executed', reason: 'pass' } })
  })

  it('approval of an idea that now breaks a limit ends rejected (risk_rejected), not placed', () => {
    const first = waiting()
    const tightened = gate(
      account({ min_confidence_threshold: 90 }),
      [command('risk_set', { risk: { max_lot_size: 5 } }), command('idea_approve', { idea_id: `idea:s:ORCL:${day(2)}:entry:long` })],
      first.state,
    )
    expect(ofType(tightened.emit, 'trade.order')).toEqual([])
    expect(statuses(tightened.emit)).toEqual([['rejected', 'fail:max_lot_size']])
  })

  it('a person rejecting it: human_rejected; approving or rejecting again is refused', () => {
    const id = `idea:s:ORCL:${day(2)}:entry:long`
    const { emit } = gate(account(), [command('idea_reject', { idea_id: id, reason: 'no' }), command('idea_approve', { idea_id: id })], waiting().state)
    expect(ofType(emit, 'trade.decision')[0]).toMatchObject({ action: 'human_rejected', human_override: true })
    expect(ofType(emit, 'trade.command_status').map((c) => c.ok)).toEqual([true, false])
  })

  it('unanswered for approval_timeout_minutes of bar time, it is rejected as approval_expired (when the books reach that time)', () => {
    const acct = account({ min_confidence_threshold: 90, approval_timeout_minutes: 60 })
    const { emit, state } = gate(acct, [idea(2), idea(3, { id: 'idea:next', symbol: 'AAPL', confidence: 95 })])
    expect(statuses(emit)).toEqual([
      ['needs_approval', 'approval:min_confidence'],
      ['rejected', 'fail:approval_expired'],
      ['auto_executed', 'pass'],
    ])
    expect(state.approvals).toEqual({})
  })

  it('a symbol off the strategy watchlist needs approval unless allow_off_watchlist_autotrade', () => {
    const lists = new Map([['s', new Set(['AAPL'])]])
    const play = (acct: ReturnType<typeof account>) => gate(acct, [idea(2)], newRiskState(10_000, acct.risk), market, lists)
    expect(statuses(play(account()).emit)).toEqual([['needs_approval', 'approval:off_watchlist']])
    expect(statuses(play(account({ allow_off_watchlist_autotrade: true })).emit)).toEqual([['auto_executed', 'pass']])
  })
})

describe('risk gate: order limits', () => {
  it('max_notional_per_order and max_orders_per_day (entries per bar-time day)', () => {
    expect(statuses(gate(account({ max_notional_per_order: 499 }), [idea(2)]).emit)).toEqual([['rejected', 'fail:max_notional_per_order']])
    const perDay = gate(account({ max_orders_per_day: 1 }), [idea(2), idea(2, { id: 'idea:2', symbol: 'AAPL' })])
    expect(statuses(perDay.emit)).toEqual([
      ['auto_executed', 'pass'],
      ['rejected', 'fail:max_orders_per_day'],
    ])
    // A new bar-time day starts a new count.
    const yesterday = newRiskState(10_000, account({ max_orders_per_day: 1 }).risk)
    yesterday.today = { day: day(1).slice(0, 10), orders: 7 }
    expect(statuses(gate(account({ max_orders_per_day: 1 }), [idea(2)], yesterday).emit)).toEqual([['auto_executed', 'pass']])
  })
})

describe('risk gate: strategies switched off by a person', () => {
  it('entries of a disabled strategy are rejected (strategy_disabled), its exits pass; enabling lets entries through', () => {
    const lists = new Map([['s', new Set(['ORCL'])]])
    const acct = account()
    const state = hold(newRiskState(10_000, acct.risk), 'AAPL', 5, 10)
    const exit = idea(2, { id: 'idea:exit', symbol: 'AAPL', intent: 'exit', side: 'sell', qty: null, sizing: null, close_position: true })
    const { emit } = gate(
      acct,
      [command('strategy_disable', { strategy_id: 's' }), idea(2), exit, command('strategy_enable', { strategy_id: 's' }), idea(2, { id: 'idea:again' })],
      state,
      market,
      lists,
    )
    expect(statuses(emit)).toEqual([
      ['rejected', 'fail:strategy_disabled'],
      ['auto_executed', 'pass'],
      ['auto_executed', 'pass'],
    ])
  })
})
