// The risk gate's account-level rules as pure handler runs: operator commands (set, halt, resume,
// approve, reject), automatic halts on drawdown and on the daily target, approvals expiring in bar
// time, and the per-order notional and per-day order limits.
import { describe, expect, it } from 'vitest'
import { handleRisk, newRiskState, type RiskState } from '../../actors/risk-gate.js'
import type { Inbound } from '../../src/actor.js'
import { createCodec } from '../../src/codec.js'
import { parseConfig } from '../../src/config.js'
import type { Message } from '../../src/contracts.js'
import { inbound, ofType, playSync } from '../support/actor-spec.js'

const codec = createCodec(16)
const day = (d: number, h = 0) => new Date(Date.UTC(2024, 0, d, h)).toISOString()
const account = (risk: Record<string, unknown> = {}) => parseConfig({ accounts: [{ id: 'main', starting_cash: 10_000, risk }] }).accounts[0]!
let seq = 0

function idea(d: number, over: Partial<Message<'trade.idea'>> = {}): Inbound {
  const ts = day(d)
  const id = `idea:s:ORCL:${ts}:entry:long`
  return inbound('trade.idea', {
    id, type: 'trade.idea', ts, causation_id: 'c', correlation_id: `bar:${ts}`, account: 'main', strategy_id: 's', symbol: 'ORCL', side: 'buy', intent: 'entry', qty: 10,
    timeframe: '1d', order_type: 'market', limit_price: null, stop_price: null, valid_bars: null, exit_reason: null, sizing: { method: 'fixed_qty', value: 10, phase5: false },
    bracket: null, stop_distance: null, max_qty: null, max_positions: null, ng_score: 0, dpi: null, dpi_regime: null, position_side: 'long', close_position: false,
    price: 50, bar_seq: d, confidence: 80, reason: 'entry.long', ...over,
  }, { seq: ++seq })
}
function command(command: Message<'trade.command'>['command'], over: Partial<Message<'trade.command'>> = {}): Inbound {
  const id = `cmd:${command}:main:${++seq}`
  return inbound('trade.command', { id, type: 'trade.command', ts: '2026-01-01T00:00:00.000Z', causation_id: id, correlation_id: id, account: 'main', command, order_id: null, symbol: null, idea_id: null, strategy_id: null, reason: null, risk: null, requested_by: 'ops', ...over }, { seq: ++seq })
}
function portfolio(d: number, over: Partial<Message<'trade.portfolio'>> = {}): Inbound {
  return inbound('trade.portfolio', {
    id: `pf:${d}:${seq}`, type: 'trade.portfolio', ts: day(d), causation_id: 'c', correlation_id: 'c', account: 'main', starting_cash: 10_000, cash: 10_000, equity: 10_000,
    realized_pnl: 0, unrealized_pnl: 0, peak_equity: 10_000, drawdown: 0, daily_pnl: 0, trade_count: 0, winning_trades: 0, open_positions: 0, seq: ++seq, ...over,
  }, { seq: ++seq })
}

function gate(acct = account(), history: Inbound[], state: RiskState = newRiskState(acct.starting_cash, acct.risk)) {
  const played = playSync((s: RiskState, i: Inbound) => handleRisk(s, i, acct), state, history)
  for (const out of played.emit) codec.check(out.type, out.data)
  return played
}
const statuses = (emit: Parameters<typeof ofType>[0]) => ofType(emit, 'trade.idea_status').map((s) => [s.status, s.reason])

describe('risk gate: halts', () => {
  it('a manual halt sends entries to halted_by_risk and is audited; exits still pass; a resume lets entries through again', () => {
    const exit = idea(3, { id: 'idea:exit', intent: 'exit', side: 'sell', qty: null, sizing: null, close_position: true })
    const state = newRiskState(10_000, account().risk)
    state.positions.ORCL = { qty: 10, avg: 50, strategy: 's' }
    // The last entry shares the exit's bar: it does not wait for that exit's fill.
    const { emit } = gate(account(), [command('risk_halt', { reason: 'earnings' }), idea(2), exit, command('risk_resume'), idea(3, { id: 'idea:after', symbol: 'AAPL' })], state)
    expect(statuses(emit)).toEqual([['halted_by_risk', 'fail:halted:earnings'], ['auto_executed', 'pass'], ['auto_executed', 'pass']])
    expect(ofType(emit, 'trade.decision').filter((d) => d.idea_id === null).map((d) => [d.action, d.risk_check_result, d.human_override, d.requested_by])).toEqual([
      ['ai_halted', 'fail:earnings', true, 'ops'],
      ['ai_resumed', 'pass', true, 'ops'],
    ])
    expect(ofType(emit, 'trade.risk_state').map((r) => [r.halted, r.last_halt_reason, r.version])).toEqual([[true, 'earnings', 1], [false, 'earnings', 2]])
  })

  it('drawdown above max_drawdown_amount halts with max_drawdown (when halt_on_drawdown); not before, not without the switch', () => {
    const on = account({ max_drawdown_amount: 100, halt_on_drawdown: true })
    expect(gate(on, [portfolio(2, { drawdown: 100 })]).state.halted).toBe(false)
    const breach = gate(on, [portfolio(2, { drawdown: 100.01 }), idea(3)])
    expect([breach.state.halted, breach.state.last_halt_reason]).toEqual([true, 'max_drawdown'])
    expect(ofType(breach.emit, 'trade.decision')[0]).toMatchObject({ action: 'ai_halted', symbol: null, risk_check_result: 'fail:max_drawdown', human_override: false, requested_by: null })
    expect(statuses(breach.emit)).toEqual([['halted_by_risk', 'fail:halted:max_drawdown']])
    expect(gate(account({ max_drawdown_amount: 100 }), [portfolio(2, { drawdown: 500 })]).state.halted).toBe(false)
  })

  it('daily P&L reaching daily_profit_target halts with daily_target_reached when stop_after_target', () => {
    const acct = account({ daily_profit_target: 250, stop_after_target: true })
    expect(gate(acct, [portfolio(2, { daily_pnl: 249.99 })]).state.halted).toBe(false)
    expect(gate(acct, [portfolio(2, { daily_pnl: 250 })]).state.last_halt_reason).toBe('daily_target_reached')
  })
})

describe('risk gate: approvals', () => {
  const waiting = (acct = account({ min_confidence_threshold: 90 })) => gate(acct, [idea(2)])

  it('a low-confidence entry waits; approving re-checks the limits as they are now and places the order', () => {
    const first = waiting()
    expect(statuses(first.emit)).toEqual([['needs_approval', 'approval:min_confidence']])
    const approved = gate(account({ min_confidence_threshold: 90 }), [command('idea_approve', { idea_id: 'idea:s:ORCL:' + day(2) + ':entry:long' })], first.state)
    expect(ofType(approved.emit, 'trade.order')).toHaveLength(1)
    expect(ofType(approved.emit, 'trade.decision')[0]).toMatchObject({ action: 'human_approved', human_override: true, requested_by: 'ops' })
    expect(ofType(approved.emit, 'trade.command_status')[0]).toMatchObject({ ok: true, detail: { status: 'auto_executed', reason: 'pass' } })
  })

  it('approval of an idea that now breaks a limit ends rejected (risk_rejected), not placed', () => {
    const first = waiting()
    const tightened = gate(account({ min_confidence_threshold: 90 }), [command('risk_set', { risk: { max_lot_size: 5 } }), command('idea_approve', { idea_id: 'idea:s:ORCL:' + day(2) + ':entry:long' })], first.state)
    expect(ofType(tightened.emit, 'trade.order')).toEqual([])
    expect(statuses(tightened.emit)).toEqual([['rejected', 'fail:max_lot_size']])
  })

  it('a person rejecting it: human_rejected; approving or rejecting again is refused', () => {
    const id = 'idea:s:ORCL:' + day(2) + ':entry:long'
    const { emit } = gate(account(), [command('idea_reject', { idea_id: id, reason: 'no' }), command('idea_approve', { idea_id: id })], waiting().state)
    expect(ofType(emit, 'trade.decision')[0]).toMatchObject({ action: 'human_rejected', human_override: true })
    expect(ofType(emit, 'trade.command_status').map((c) => c.ok)).toEqual([true, false])
  })

  it('unanswered for approval_timeout_minutes of bar time, it is rejected as approval_expired', () => {
    const acct = account({ min_confidence_threshold: 90, approval_timeout_minutes: 60 })
    const { emit, state } = gate(acct, [idea(2), portfolio(2, { ts: day(2, 0) }), inbound('trade.portfolio', { ...(portfolio(2).data as Message<'trade.portfolio'>), id: 'pf:late', ts: day(2, 1) }, { seq: ++seq })])
    expect(statuses(emit)).toEqual([['needs_approval', 'approval:min_confidence'], ['rejected', 'fail:approval_expired']])
    expect(state.approvals).toEqual({})
  })

  it('a symbol off the strategy watchlist needs approval unless allow_off_watchlist_autotrade', () => {
    const lists = new Map([['s', new Set(['AAPL'])]])
    const play = (acct: ReturnType<typeof account>) => playSync((s: RiskState, i: Inbound) => handleRisk(s, i, acct, lists), newRiskState(10_000, acct.risk), [idea(2)])
    expect(statuses(play(account()).emit)).toEqual([['needs_approval', 'approval:off_watchlist']])
    expect(statuses(play(account({ allow_off_watchlist_autotrade: true })).emit)).toEqual([['auto_executed', 'pass']])
  })
})

describe('risk gate: order limits', () => {
  it('max_notional_per_order and max_orders_per_day (entries per bar-time day)', () => {
    expect(statuses(gate(account({ max_notional_per_order: 499 }), [idea(2)]).emit)).toEqual([['rejected', 'fail:max_notional_per_order']])
    const perDay = gate(account({ max_orders_per_day: 1 }), [idea(2), idea(2, { id: 'idea:2', symbol: 'AAPL' })])
    expect(statuses(perDay.emit)).toEqual([['auto_executed', 'pass'], ['rejected', 'fail:max_orders_per_day']])
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
    const state = newRiskState(10_000, acct.risk)
    state.positions.AAPL = { qty: 5, avg: 10, strategy: 's' }
    const exit = idea(2, { id: 'idea:exit', symbol: 'AAPL', intent: 'exit', side: 'sell', qty: null, sizing: null, close_position: true })
    const { emit } = playSync((s: RiskState, i: Inbound) => handleRisk(s, i, acct, lists), state, [
      command('strategy_disable', { strategy_id: 's' }), idea(2), exit, command('strategy_enable', { strategy_id: 's' }), idea(2, { id: 'idea:again' }),
    ])
    expect(statuses(emit)).toEqual([['rejected', 'fail:strategy_disabled'], ['auto_executed', 'pass'], ['auto_executed', 'pass']])
  })
})
