// risk-gate: the only actor that decides what may trade. For each idea of its account it publishes
// an order (trade.order) or not, the status the idea reached (trade.idea_status) and one audit entry
// (trade.decision). Exits (reduce-only) always pass. It follows the account's books from the
// executor's fills, positions and portfolios on the same stream, and judges each idea against the
// books as of the idea's bar (see FILL_HORIZON_BARS). Pure: no I/O, no clock.
import { defineActor, type Inbound, type Outbound, type Scope, type Step } from '../src/actor.js'
import type { AccountConfig } from '../src/config-file.js'
import { accountFilter, type Message } from '../src/contracts.js'
import { timeframeMs } from './lib/timeframe.js'

/**
 * The gate estimates an entry's cost at the signal bar's close; the executor makes the exact check
 * at the fill price. So the gate refuses only entries that would need the next open to gap down by
 * more than this fraction to become affordable, and leaves the close calls to the fill.
 */
export const CASH_GAP_ALLOWANCE = 0.1

/**
 * An idea is judged against the books as of its bar: an order the gate passed for an earlier bar
 * fills on a bar at or before this one, so the idea waits for that fill (or rejection). Replays that
 * run the strategy far ahead of the executor then decide exactly as a live run does.
 * For an order on the idea's own symbol and timeframe the wait always ends (the idea's bar proves
 * the fill bar exists). An order on another symbol may never get its bar (a halted feed), so it
 * holds ideas back only while they are within this many bars of its signal.
 */
export const FILL_HORIZON_BARS = 10

interface Outstanding {
  symbol: string
  timeframe: string
  intent: 'entry' | 'exit'
  signalTs: string
  /** Ideas after this bar time no longer wait for the order. */
  horizonTs: string
  /** Cash set aside for an entry (estimated cost at the reference price). */
  reserve: number
  /** Proceeds expected from an exit (position at the reference price). */
  proceeds: number
}

export interface RiskState {
  cash: number
  /** symbol → open quantity (signed). */
  positions: Record<string, number>
  /** Orders passed and not yet filled or rejected, by order id. */
  outstanding: Record<string, Outstanding>
  /** Ideas waiting for earlier orders to settle, in arrival order. */
  queue: Idea[]
}

type Idea = Message<'trade.idea'>
type Status = Message<'trade.idea_status'>['status']
type Action = Message<'trade.decision'>['action']

export const accountScope = (account: string): Scope => ({
  key: account,
  inputs: [{
    stream: 'TRADE',
    filter: accountFilter(account),
    accepts: ['trade.idea', 'trade.fill', 'trade.position', 'trade.portfolio', 'trade.order_status'],
  }],
})

interface Verdict { status: Status; action: Action; result: string; rationale: string }

export function judge(state: RiskState, idea: Idea, account: AccountConfig): Verdict {
  const risk = account.risk
  if (idea.intent === 'exit') return { status: 'auto_executed', action: 'ai_auto_executed', result: 'pass', rationale: 'exits (reduce-only) always pass' }
  if (!risk.ai_trading_enabled) return { status: 'needs_approval', action: 'ai_proposed', result: 'approval:ai_trading_disabled', rationale: 'AI trading is disabled: a person must approve entries' }
  if (idea.confidence < risk.min_confidence_threshold) {
    return { status: 'needs_approval', action: 'ai_proposed', result: 'approval:min_confidence', rationale: `confidence ${idea.confidence} is below ${risk.min_confidence_threshold}` }
  }
  const reject = (reason: string, rationale: string): Verdict => ({ status: 'rejected', action: 'risk_rejected', result: `fail:${reason}`, rationale })
  if (risk.max_lot_size !== null && idea.qty > risk.max_lot_size) return reject('max_lot_size', `qty ${idea.qty} exceeds max_lot_size ${risk.max_lot_size}`)
  const pending = Object.values(state.outstanding)
  const open = Object.values(state.positions).filter((q) => q !== 0).length
  const entries = pending.filter((o) => o.intent === 'entry').length
  const closing = pending.filter((o) => o.intent === 'exit').length
  const concurrent = open + entries - closing
  if (risk.max_concurrent_trades !== null && concurrent >= risk.max_concurrent_trades) {
    return reject('max_concurrent_trades', `${open} open positions + ${entries} working entries - ${closing} closing reach max_concurrent_trades ${risk.max_concurrent_trades}`)
  }
  const cost = estimatedCost(idea, account)
  const available = state.cash + pending.reduce((a, o) => a + o.proceeds - o.reserve, 0)
  if (cost * (1 - CASH_GAP_ALLOWANCE) > available) return reject('insufficient_cash', `estimated cost ${round(cost)} exceeds available cash ${round(available)}`)
  return { status: 'auto_executed', action: 'ai_auto_executed', result: 'pass', rationale: 'all limits pass' }
}

export function estimatedCost(idea: Idea, account: AccountConfig): number {
  const c = account.costs
  const price = idea.price * (1 + c.slippage_bps / 10_000)
  return idea.qty * price + Math.max(c.commission_min, idea.qty * price * c.commission_pct + idea.qty * c.commission_per_share)
}

const round = (x: number) => Math.round(x * 100) / 100

/** Judges waiting ideas in arrival order, as long as no earlier order is still to settle. */
function drain(state: RiskState, account: AccountConfig, emit: Outbound[]): string | undefined {
  let outcome: string | undefined
  while (state.queue.length) {
    const idea = state.queue[0]!
    const blocked = Object.values(state.outstanding).some(
      (o) => o.signalTs < idea.ts && ((o.symbol === idea.symbol && o.timeframe === idea.timeframe) || idea.ts <= o.horizonTs),
    )
    if (blocked) return outcome ?? 'waiting'
    state.queue.shift()
    outcome = decide(state, idea, account, emit)
  }
  return outcome
}

function decide(state: RiskState, idea: Idea, account: AccountConfig, emit: Outbound[]): Status {
  const v = judge(state, idea, account)
  if (v.status === 'auto_executed') {
    const order = orderFor(idea)
    emit.push({ type: 'trade.order', data: order })
    const horizonTs = new Date(Date.parse(idea.ts) + FILL_HORIZON_BARS * timeframeMs(idea.timeframe)).toISOString()
    const held = Math.abs(state.positions[idea.symbol] ?? 0)
    state.outstanding[order.id] = {
      symbol: idea.symbol,
      timeframe: idea.timeframe,
      intent: idea.intent,
      signalTs: idea.ts,
      horizonTs,
      reserve: idea.intent === 'entry' ? estimatedCost(idea, account) : 0,
      proceeds: idea.intent === 'exit' ? held * idea.price : 0,
    }
  }
  emit.push({ type: 'trade.idea_status', data: statusOf(idea, v) }, { type: 'trade.decision', data: decisionOf(idea, v) })
  return v.status
}

/** What every message caused by an idea starts with: its id, type, the idea's bar time and lineage. */
function causedBy<T extends 'trade.order' | 'trade.idea_status' | 'trade.decision'>(idea: Idea, type: T, id: string) {
  return { id, type, ts: idea.ts, causation_id: idea.id, correlation_id: idea.correlation_id, account: idea.account, strategy_id: idea.strategy_id, symbol: idea.symbol, idea_id: idea.id }
}

/** The idea as traded: side, intent and quantity. */
const tradeOf = (idea: Idea) => ({ side: idea.side, intent: idea.intent, qty: idea.qty })

function orderFor(idea: Idea): Message<'trade.order'> {
  return {
    ...causedBy(idea, 'trade.order', `order:${idea.id}`),
    ...tradeOf(idea),
    timeframe: idea.timeframe,
    order_type: 'market',
    reduce_only: idea.intent === 'exit',
    close_position: idea.close_position,
    ref_price: idea.price,
    bar_seq: idea.bar_seq,
  }
}

function statusOf(idea: Idea, v: Verdict): Message<'trade.idea_status'> {
  return { ...causedBy(idea, 'trade.idea_status', `status:${idea.id}:${v.status}`), ...tradeOf(idea), confidence: idea.confidence, status: v.status, reason: v.result }
}

function decisionOf(idea: Idea, v: Verdict): Message<'trade.decision'> {
  return {
    ...causedBy(idea, 'trade.decision', `decision:${idea.id}:${v.action}`),
    action: v.action,
    status: v.status,
    risk_check_result: v.result,
    rationale: v.rationale,
    human_override: false,
    requested_by: null,
  }
}

export function handleRisk(state: RiskState, input: Inbound, account: AccountConfig): Step<RiskState> {
  const emit: Outbound[] = []
  let outcome: string | undefined
  switch (input.type) {
    case 'trade.idea':
      state.queue.push(input.data)
      outcome = drain(state, account, emit)
      break
    case 'trade.fill': {
      const f = input.data
      // Cash and the position move with the fill; the position and portfolio that follow confirm
      // them. Waiting ideas are judged right below, before those arrive, so both must be current.
      state.cash += f.side === 'buy' ? -(f.qty * f.price) - f.commission : f.qty * f.price - f.commission
      const held = (state.positions[f.symbol] ?? 0) + (f.side === 'buy' ? f.qty : -f.qty)
      if (held === 0) delete state.positions[f.symbol]
      else state.positions[f.symbol] = held
      delete state.outstanding[f.order_id]
      outcome = drain(state, account, emit) ?? 'books'
      break
    }
    case 'trade.order_status':
      delete state.outstanding[input.data.order_id]
      outcome = drain(state, account, emit) ?? 'books'
      break
    case 'trade.position':
      if (input.data.status === 'open') state.positions[input.data.symbol] = input.data.side === 'long' ? input.data.qty : -input.data.qty
      else delete state.positions[input.data.symbol]
      outcome = 'books'
      break
    case 'trade.portfolio':
      state.cash = input.data.cash
      outcome = 'books'
      break
    default:
      outcome = 'skipped'
  }
  return emit.length ? { state, emit, outcome } : { state, outcome }
}

export const riskGate = (accounts: AccountConfig[]) => {
  const byId = new Map(accounts.map((a) => [a.id, a]))
  return defineActor<RiskState>({
    name: 'risk-gate',
    ordered: true,
    scopes: accounts.map((a) => accountScope(a.id)),
    init: (scope) => ({ cash: byId.get(scope.key)!.starting_cash, positions: {}, outstanding: {}, queue: [] }),
    handle: (state, input, scope) => handleRisk(state, input, byId.get(scope.key)!),
  })
}
