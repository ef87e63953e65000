// risk-gate: the only actor that decides what may trade. For each idea of its account it publishes
// an order (trade.order) or not, the status the idea reached (trade.idea_status) and one audit entry
// (trade.decision). Exits (reduce-only) always pass. It follows the account's books from the
// executor's fills, positions and portfolios on the same stream, and judges each idea against the
// books as of the idea's bar (see FILL_HORIZON_BARS). It sizes entries (fixed, a share of equity, a
// risk budget over the stop distance, and the Phase-5 product) and keeps the account's Brier tracker,
// publishing metrics.phase5.<ACCT> at each position close and on the first portfolio of each day.
// Pure: no I/O, no clock.
import { defineActor, type Inbound, type Outbound, type Scope, type Step } from '../src/actor.js'
import type { AccountConfig } from '../src/config-file.js'
import { accountFilter, type Message } from '../src/contracts.js'
import { timeframeMs } from './lib/timeframe.js'
import {
  brierAdjustment, dpiEnhancement, floorQty, forecastFromNg, newBrier, newPhase5Stats, ngMultiplier, phase5Metrics, phase5Size,
  recordForecast, recordIdea, recordOutcome, recordTrade, type BrierState, type Phase5Stats,
} from './lib/phase5.js'

/**
 * The gate estimates an entry's cost at the signal bar's close; the executor makes the exact check
 * at the fill price. So the gate refuses only entries that would need the next open to gap down by
 * more than this fraction to become affordable, and leaves the close calls to the fill.
 */
export const CASH_GAP_ALLOWANCE = 0.1

/**
 * An idea is judged against the books as of its bar: an order the gate passed for an earlier bar
 * fills on a bar at or before this one, and a stop or target exit fills within its own bar, before
 * that bar's close; so the idea waits for that fill (or rejection). Replays that
 * run the strategy far ahead of the executor then decide exactly as a live run does.
 * For an order on the idea's own symbol and timeframe the wait always ends (the idea's bar proves
 * the fill bar exists). An order on another symbol may never get its bar (a halted feed), so it
 * holds ideas back only while they are within this many bars of its signal.
 */
export const FILL_HORIZON_BARS = 10

interface Outstanding {
  symbol: string
  strategy: string
  timeframe: string
  intent: 'entry' | 'exit'
  signalTs: string
  /** A stop or target exit: it fills on its signal bar itself, so it settles before that bar's close. */
  protective?: boolean
  /** Ideas after this bar time no longer wait for the order. */
  horizonTs: string
  /** Cash set aside for an entry (estimated cost at the reference price). */
  reserve: number
  /** Proceeds expected from an exit (position at the reference price). */
  proceeds: number
}

/** An open position as the gate follows it from fills. */
export interface Holding {
  /** Signed: long > 0, short < 0. */
  qty: number
  avg: number
  /** The strategy whose entry opened it. */
  strategy: string
  /** Realized P&L net of commissions, as the executor books it: its sign is the Brier outcome. */
  pnl?: number
}

export interface RiskState {
  cash: number
  positions: Record<string, Holding>
  /** Orders passed and not yet filled or rejected, by order id. */
  outstanding: Record<string, Outstanding>
  /** Ideas waiting for earlier orders to settle, in arrival order. */
  queue: Idea[]
  brier: BrierState
  stats: Phase5Stats
  /** The DPI regime of the latest entry idea that carried one. */
  regime: string | null
  /** Bar-time day of the last daily metrics row. */
  metricsDay: string | null
}

export const newRiskState = (cash: number): RiskState => ({ cash, positions: {}, outstanding: {}, queue: [], brier: newBrier(), stats: newPhase5Stats(), regime: null, metricsDay: null })

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

/** An idea with the quantity the gate sized it to and the Phase-5 factors that went into it. */
export interface Sized {
  qty: number
  phase5: Message<'trade.order'>['phase5']
}

/**
 * Equity for sizing, as of the idea's bar: settled cash, the idea's own symbol at the signal close,
 * other open positions at cost (the gate sees no bars of them; marking them would make a decision
 * depend on how far the executor has got).
 */
export function sizingEquity(state: RiskState, idea: Idea): number {
  let equity = state.cash
  for (const [symbol, h] of Object.entries(state.positions)) equity += h.qty * (symbol === idea.symbol ? idea.price : h.avg)
  return equity
}

export function sizeOf(state: RiskState, idea: Idea): Sized {
  if (idea.intent === 'exit') return { qty: Math.abs(state.positions[idea.symbol]?.qty ?? 0), phase5: null }
  const sizing = idea.sizing
  if (!sizing) return { qty: idea.qty ?? 0, phase5: null }
  const equity = sizingEquity(state, idea)
  let qty: number
  if (sizing.method === 'fixed_qty') qty = sizing.value
  else if (sizing.method === 'pct_equity') qty = floorQty((sizing.value * equity) / idea.price)
  else qty = idea.stop_distance ? floorQty((sizing.value * equity) / idea.stop_distance) : 0
  let phase5: Sized['phase5'] = null
  if (sizing.phase5) {
    phase5 = {
      ng_score: idea.ng_score,
      ng_multiplier: ngMultiplier(idea.ng_score),
      brier_adjustment: brierAdjustment(state.brier),
      dpi_enhancement: dpiEnhancement(idea.dpi, idea.position_side),
    }
    qty = phase5Size({ base: qty, ngMultiplier: phase5.ng_multiplier, brierAdjustment: phase5.brier_adjustment, dpiEnhancement: phase5.dpi_enhancement, equity, price: idea.price }).qty
  }
  if (idea.max_qty !== null) qty = Math.min(qty, idea.max_qty)
  return { qty: Math.max(0, qty), phase5 }
}

export function judge(state: RiskState, idea: Idea, account: AccountConfig, sized: Sized): Verdict {
  const risk = account.risk
  const reject = (reason: string, rationale: string): Verdict => ({ status: 'rejected', action: 'risk_rejected', result: `fail:${reason}`, rationale })
  if (idea.intent === 'exit') {
    if (sized.qty === 0) return reject('no_position', `no open ${idea.symbol} position to exit`)
    return { status: 'auto_executed', action: 'ai_auto_executed', result: 'pass', rationale: 'exits (reduce-only) always pass' }
  }
  if (!risk.ai_trading_enabled) return { status: 'needs_approval', action: 'ai_proposed', result: 'approval:ai_trading_disabled', rationale: 'AI trading is disabled: a person must approve entries' }
  if (idea.confidence < risk.min_confidence_threshold) {
    return { status: 'needs_approval', action: 'ai_proposed', result: 'approval:min_confidence', rationale: `confidence ${idea.confidence} is below ${risk.min_confidence_threshold}` }
  }
  if (sized.qty <= 0) return reject('size_zero', `sizing ${idea.sizing?.method ?? 'qty'} gives less than one unit at ${idea.price}`)
  if (risk.max_lot_size !== null && sized.qty > risk.max_lot_size) return reject('max_lot_size', `qty ${sized.qty} exceeds max_lot_size ${risk.max_lot_size}`)
  const pending = Object.values(state.outstanding)
  const open = Object.values(state.positions).length
  const entries = pending.filter((o) => o.intent === 'entry').length
  const closing = pending.filter((o) => o.intent === 'exit').length
  const concurrent = open + entries - closing
  if (risk.max_concurrent_trades !== null && concurrent >= risk.max_concurrent_trades) {
    return reject('max_concurrent_trades', `${open} open positions + ${entries} working entries - ${closing} closing reach max_concurrent_trades ${risk.max_concurrent_trades}`)
  }
  if (idea.max_positions !== null) {
    const mine = (o: { strategy: string }) => o.strategy === idea.strategy_id
    const held = Object.values(state.positions).filter(mine).length + pending.filter((o) => mine(o) && o.intent === 'entry').length - pending.filter((o) => mine(o) && o.intent === 'exit').length
    if (held >= idea.max_positions) return reject('max_concurrent_positions', `strategy ${idea.strategy_id} holds ${held} positions, its risk_caps allow ${idea.max_positions}`)
  }
  const cost = estimatedCost(idea, sized.qty, account)
  const available = state.cash + pending.reduce((a, o) => a + o.proceeds - o.reserve, 0)
  if (cost * (1 - CASH_GAP_ALLOWANCE) > available) return reject('insufficient_cash', `estimated cost ${round(cost)} exceeds available cash ${round(available)}`)
  return { status: 'auto_executed', action: 'ai_auto_executed', result: 'pass', rationale: 'all limits pass' }
}

/** Cash an entry needs at the reference price: the notional (100% margin for shorts too) plus commission. */
export function estimatedCost(idea: Idea, qty: number, account: AccountConfig): number {
  const c = account.costs
  const price = idea.price * (1 + c.slippage_bps / 10_000)
  return qty * price + Math.max(c.commission_min, qty * price * c.commission_pct + qty * c.commission_per_share)
}

const round = (x: number) => Math.round(x * 100) / 100

/** Judges waiting ideas in arrival order, as long as no earlier order is still to settle. */
function drain(state: RiskState, account: AccountConfig, emit: Outbound[]): string | undefined {
  let outcome: string | undefined
  while (state.queue.length) {
    const idea = state.queue[0]!
    const blocked = Object.values(state.outstanding).some(
      (o) => (o.signalTs < idea.ts || (o.protective === true && o.signalTs === idea.ts)) && ((o.symbol === idea.symbol && o.timeframe === idea.timeframe) || idea.ts <= o.horizonTs),
    )
    if (blocked) return outcome ?? 'waiting'
    state.queue.shift()
    outcome = decide(state, idea, account, emit)
  }
  return outcome
}

function decide(state: RiskState, idea: Idea, account: AccountConfig, emit: Outbound[]): Status {
  const sized = sizeOf(state, idea)
  const v = judge(state, idea, account, sized)
  if (v.status === 'auto_executed') {
    const order = orderFor(idea, sized)
    emit.push({ type: 'trade.order', data: order })
    const horizonTs = new Date(Date.parse(idea.ts) + FILL_HORIZON_BARS * timeframeMs(idea.timeframe)).toISOString()
    const held = state.positions[idea.symbol]?.qty ?? 0
    state.outstanding[order.id] = {
      symbol: idea.symbol,
      strategy: idea.strategy_id,
      timeframe: idea.timeframe,
      intent: idea.intent,
      signalTs: idea.ts,
      ...(idea.order_type !== 'market' ? { protective: true } : {}),
      horizonTs,
      reserve: idea.intent === 'entry' ? estimatedCost(idea, sized.qty, account) : 0,
      // Selling a long brings cash in; buying back a short takes it out.
      proceeds: idea.intent === 'exit' ? held * idea.price : 0,
    }
  }
  emit.push({ type: 'trade.idea_status', data: statusOf(idea, v, sized.qty) }, { type: 'trade.decision', data: decisionOf(idea, v) })
  return v.status
}

// The three messages an idea causes start with the same fields (its id, type, the idea's bar time
// and lineage). They are written out in each literal rather than spread from a shared head: V8 adds
// every property that follows a spread on a slow path (about a microsecond each), which made these
// builders the hottest code of the gate.

function orderFor(idea: Idea, sized: Sized): Message<'trade.order'> {
  return {
    id: `order:${idea.id}`,
    type: 'trade.order',
    ts: idea.ts,
    causation_id: idea.id,
    correlation_id: idea.correlation_id,
    account: idea.account,
    strategy_id: idea.strategy_id,
    symbol: idea.symbol,
    idea_id: idea.id,
    side: idea.side,
    intent: idea.intent,
    qty: sized.qty,
    timeframe: idea.timeframe,
    order_type: idea.order_type,
    exit_reason: idea.exit_reason,
    reduce_only: idea.intent === 'exit',
    close_position: idea.close_position,
    ref_price: idea.price,
    bar_seq: idea.bar_seq,
    limit_price: idea.limit_price,
    stop_price: idea.stop_price,
    valid_bars: idea.valid_bars,
    bracket: idea.bracket,
    phase5: sized.phase5,
  }
}

function statusOf(idea: Idea, v: Verdict, qty: number): Message<'trade.idea_status'> {
  return {
    id: `status:${idea.id}:${v.status}`,
    type: 'trade.idea_status',
    ts: idea.ts,
    causation_id: idea.id,
    correlation_id: idea.correlation_id,
    account: idea.account,
    strategy_id: idea.strategy_id,
    symbol: idea.symbol,
    idea_id: idea.id,
    side: idea.side,
    intent: idea.intent,
    qty,
    confidence: idea.confidence,
    status: v.status,
    reason: v.result,
  }
}

function decisionOf(idea: Idea, v: Verdict): Message<'trade.decision'> {
  return {
    id: `decision:${idea.id}:${v.action}`,
    type: 'trade.decision',
    ts: idea.ts,
    causation_id: idea.id,
    correlation_id: idea.correlation_id,
    account: idea.account,
    strategy_id: idea.strategy_id,
    symbol: idea.symbol,
    idea_id: idea.id,
    action: v.action,
    status: v.status,
    risk_check_result: v.result,
    rationale: v.rationale,
    human_override: false,
    requested_by: null,
  }
}

/**
 * Follows a fill: cash, and the position with its average cost and net P&L, exactly as the
 * executor's books move. Returns the net P&L of the position the fill closed, if it closed one: the
 * outcome is known here, with the fill, before any idea waiting on it is judged.
 */
function applyFill(state: RiskState, f: Message<'trade.fill'>): number | null {
  state.cash += f.side === 'buy' ? -(f.qty * f.price) - f.commission : f.qty * f.price - f.commission
  const signed = f.side === 'buy' ? f.qty : -f.qty
  const h = state.positions[f.symbol]
  if (!h) {
    state.positions[f.symbol] = { qty: signed, avg: f.price, strategy: f.strategy_id, pnl: -f.commission }
    return null
  }
  h.pnl = (h.pnl ?? 0) - f.commission
  if (Math.sign(h.qty) === Math.sign(signed)) {
    const held = Math.abs(h.qty)
    h.avg = (held * h.avg + f.qty * f.price) / (held + f.qty)
    h.qty += signed
    return null
  }
  const closing = Math.min(f.qty, Math.abs(h.qty))
  h.pnl += (f.price - h.avg) * closing * Math.sign(h.qty)
  const rest = h.qty + signed
  if (rest !== 0 && Math.sign(rest) === Math.sign(h.qty)) {
    h.qty = rest
    return null
  }
  const pnl = h.pnl
  if (rest === 0) delete state.positions[f.symbol]
  else state.positions[f.symbol] = { qty: rest, avg: f.price, strategy: f.strategy_id, pnl: 0 }
  return pnl
}

function metrics(state: RiskState, account: string, trigger: 'position_closed' | 'daily', id: string, ts: string, cause: string): Outbound {
  return {
    type: 'metrics.phase5',
    data: {
      id,
      type: 'metrics.phase5',
      ts,
      causation_id: cause,
      correlation_id: cause,
      account,
      trigger,
      ...phase5Metrics({ brier: state.brier, stats: state.stats, dpiRegime: state.regime }),
    },
  }
}

export function handleRisk(state: RiskState, input: Inbound, account: AccountConfig): Step<RiskState> {
  const emit: Outbound[] = []
  let outcome: string | undefined
  switch (input.type) {
    case 'trade.idea': {
      const idea = input.data
      if (idea.intent === 'entry') {
        recordIdea(state.stats, idea.ng_score)
        if (idea.dpi_regime !== null) state.regime = idea.dpi_regime
      }
      state.queue.push(idea)
      outcome = drain(state, account, emit)
      break
    }
    case 'trade.fill': {
      const f = input.data
      // Cash and the position move with the fill; the position and portfolio that follow confirm
      // them. Waiting ideas are judged right below, before those arrive, so both must be current.
      const closedPnl = applyFill(state, f)
      if (closedPnl !== null) {
        recordOutcome(state.brier, f.position_id, closedPnl > 0)
        emit.push(metrics(state, account.id, 'position_closed', `p5:${account.id}:close:${f.position_id}`, f.ts, f.id))
      }
      if (f.intent === 'entry' && f.phase5) {
        recordForecast(state.brier, f.position_id, forecastFromNg(f.phase5.ng_score))
        recordTrade(state.stats, f.phase5.ng_score, f.phase5.dpi_enhancement)
      }
      delete state.outstanding[f.order_id]
      outcome = drain(state, account, emit) ?? 'books'
      break
    }
    case 'trade.order_status':
      delete state.outstanding[input.data.order_id]
      outcome = drain(state, account, emit) ?? 'books'
      break
    case 'trade.position':
      outcome = 'books'
      break
    case 'trade.portfolio': {
      const p = input.data
      state.cash = p.cash
      const day = p.ts.slice(0, 10)
      if (state.metricsDay !== day) {
        if (state.metricsDay !== null) emit.push(metrics(state, account.id, 'daily', `p5:${account.id}:daily:${day}`, p.ts, p.id))
        state.metricsDay = day
      }
      outcome = 'books'
      break
    }
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
    // 2: positions carry their average cost and net P&L; the Brier tracker and Phase-5 stats.
    stateVersion: 2,
    scopes: accounts.map((a) => accountScope(a.id)),
    init: (scope) => newRiskState(byId.get(scope.key)!.starting_cash),
    handle: (state, input, scope) => handleRisk(state, input, byId.get(scope.key)!),
  })
}
