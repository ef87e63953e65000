// risk-gate: the only actor that decides what may trade. For each idea of its account it publishes
// an order (trade.order) or not, the status the idea reached (trade.idea_status) and one audit entry
// (trade.decision). Exits (reduce-only) always pass. It follows the account's books from the
// executor's fills, positions and portfolios on the same stream, and judges each idea against the
// books as of the idea's bar (see FILL_HORIZON_BARS). It sizes entries (fixed, a share of equity, a
// risk budget over the stop distance, and the Phase-5 product) and keeps the account's Brier tracker,
// publishing metrics.phase5.<ACCT> at each position close and on the first portfolio of each day.
// Pure: no I/O, no clock.
import { defineActor, type Inbound, type Outbound, type Scope, type Step } from '../src/actor.js'
import type { AccountConfig, AnyStrategyConfig, RiskConfig } from '../src/config-file.js'
import { DEFAULT_SYMBOLS } from './lib/gayed.js'
import { accountFilter, type Message } from '../src/contracts.js'
import { commissionOf } from './lib/books.js'
import { fillPrice } from './lib/brackets.js'
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
  /** The risk config as it applies now: the file's, changed at runtime by ctl.risk.set. */
  risk?: RiskConfig
  halted?: boolean
  last_halt_reason?: string | null
  /** Version of the risk state (trade.risk_state), raised by every change. */
  version?: number
  /** Ideas waiting for a person, by id, with the quantity they were sized to. */
  approvals?: Record<string, { idea: Idea; expires_at: string }>
  /** The latest bar time the gate has seen (ideas, portfolios): approvals expire against it. */
  clock?: string
  /** Entries passed on the current bar-time day (max_orders_per_day). */
  today?: { day: string; orders: number }
  /** Strategies a person disabled: their entries are rejected (exits still pass). */
  disabled?: Record<string, string>
}

export const newRiskState = (cash: number, risk?: RiskConfig): RiskState => ({
  cash, positions: {}, outstanding: {}, queue: [], brier: newBrier(), stats: newPhase5Stats(), regime: null, metricsDay: null,
  ...(risk ? { risk: { ...risk }, halted: false, last_halt_reason: null, version: 0, approvals: {} } : {}),
})

type Idea = Message<'trade.idea'>
type Status = Message<'trade.idea_status'>['status']
type Action = Message<'trade.decision'>['action']

export const accountScope = (account: string): Scope => ({
  key: account,
  inputs: [{
    stream: 'TRADE',
    filter: accountFilter(account),
    accepts: ['trade.idea', 'trade.fill', 'trade.position', 'trade.portfolio', 'trade.order_status', 'trade.command'],
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

/**
 * The verdict on an idea. Exits always pass (reduce-only), halted or not. An entry, in order: halted
 * → halted_by_risk; AI trading disabled, low confidence or a symbol off the strategy's watchlist →
 * needs_approval (unless `approved`: a person said yes, and the limits are checked again); then
 * every limit → rejected with its reason; else auto_executed.
 */
export function judge(state: RiskState, idea: Idea, account: AccountConfig, sized: Sized, approved = false, watchlist?: ReadonlySet<string>): Verdict {
  const risk = state.risk ?? account.risk
  const reject = (reason: string, rationale: string): Verdict => ({ status: 'rejected', action: 'risk_rejected', result: `fail:${reason}`, rationale })
  if (idea.intent === 'exit') {
    if (sized.qty === 0) return reject('no_position', `no open ${idea.symbol} position to exit`)
    return { status: 'auto_executed', action: approved ? 'human_approved' : 'ai_auto_executed', result: 'pass', rationale: 'exits (reduce-only) always pass' }
  }
  if (state.disabled?.[idea.strategy_id] !== undefined) return reject('strategy_disabled', `strategy ${idea.strategy_id} was disabled by ${state.disabled[idea.strategy_id]}`)
  if (state.halted) return { status: 'halted_by_risk', action: 'risk_rejected', result: `fail:halted:${state.last_halt_reason ?? 'manual'}`, rationale: `trading is halted (${state.last_halt_reason ?? 'manual'})` }
  if (!approved) {
    if (!risk.ai_trading_enabled) return { status: 'needs_approval', action: 'ai_proposed', result: 'approval:ai_trading_disabled', rationale: 'AI trading is disabled: a person must approve entries' }
    if (idea.confidence < risk.min_confidence_threshold) {
      return { status: 'needs_approval', action: 'ai_proposed', result: 'approval:min_confidence', rationale: `confidence ${idea.confidence} is below ${risk.min_confidence_threshold}` }
    }
    if (watchlist && !watchlist.has(idea.symbol) && !risk.allow_off_watchlist_autotrade) {
      return { status: 'needs_approval', action: 'ai_proposed', result: 'approval:off_watchlist', rationale: `${idea.symbol} is not on strategy ${idea.strategy_id}'s watchlist` }
    }
  }
  if (sized.qty <= 0) return reject('size_zero', `sizing ${idea.sizing?.method ?? 'qty'} gives less than one unit at ${idea.price}`)
  if (risk.max_lot_size !== null && sized.qty > risk.max_lot_size) return reject('max_lot_size', `qty ${sized.qty} exceeds max_lot_size ${risk.max_lot_size}`)
  if (risk.max_notional_per_order !== null && sized.qty * idea.price > risk.max_notional_per_order) {
    return reject('max_notional_per_order', `notional ${round(sized.qty * idea.price)} exceeds max_notional_per_order ${risk.max_notional_per_order}`)
  }
  const today = state.today?.day === idea.ts.slice(0, 10) ? state.today.orders : 0
  if (risk.max_orders_per_day !== null && today >= risk.max_orders_per_day) return reject('max_orders_per_day', `${today} entries passed today reach max_orders_per_day ${risk.max_orders_per_day}`)
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
  const price = fillPrice(idea.price, 1, 'market', account.costs.slippage_bps)
  return qty * price + commissionOf(qty, price, account.costs)
}

const round = (x: number) => Math.round(x * 100) / 100

/** Judges waiting ideas in arrival order, as long as no earlier order is still to settle. */
function drain(state: RiskState, account: AccountConfig, emit: Outbound[], lists?: Watchlists): string | undefined {
  let outcome: string | undefined
  while (state.queue.length) {
    const idea = state.queue[0]!
    const blocked = Object.values(state.outstanding).some(
      (o) => (o.signalTs < idea.ts || (o.protective === true && o.signalTs === idea.ts)) && ((o.symbol === idea.symbol && o.timeframe === idea.timeframe) || idea.ts <= o.horizonTs),
    )
    if (blocked) return outcome ?? 'waiting'
    state.queue.shift()
    outcome = decide(state, idea, account, emit, lists)
  }
  return outcome
}

function decide(state: RiskState, idea: Idea, account: AccountConfig, emit: Outbound[], lists?: Watchlists): Status {
  const sized = sizeOf(state, idea)
  const v = judge(state, idea, account, sized, false, lists?.get(idea.strategy_id) ?? (lists ? EMPTY : undefined))
  if (v.status === 'needs_approval' && state.approvals) {
    const minutes = (state.risk ?? account.risk).approval_timeout_minutes
    state.approvals[idea.id] = { idea, expires_at: new Date(Date.parse(idea.ts) + minutes * 60_000).toISOString() }
  }
  if (v.status === 'auto_executed') place(state, idea, sized, account, emit)
  emit.push({ type: 'trade.idea_status', data: statusOf(idea, v, sized.qty) }, { type: 'trade.decision', data: decisionOf(idea, v) })
  return v.status
}

/** Emits the order of a passed idea and sets its cash aside until it settles. */
function place(state: RiskState, idea: Idea, sized: Sized, account: AccountConfig, emit: Outbound[]): void {
  if (idea.intent === 'entry') {
    const day = idea.ts.slice(0, 10)
    state.today = state.today?.day === day ? { day, orders: state.today.orders + 1 } : { day, orders: 1 }
  }
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
    // Only a stop or target exit fills on its own bar; a limit/stop entry works from the next bar on.
    ...(idea.intent === 'exit' && idea.order_type !== 'market' ? { protective: true } : {}),
    horizonTs,
    reserve: idea.intent === 'entry' ? estimatedCost(idea, sized.qty, account) : 0,
    // Selling a long brings cash in; buying back a short takes it out.
    proceeds: idea.intent === 'exit' ? held * idea.price : 0,
  }
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

function statusOf(idea: Idea, v: Verdict, qty: number, suffix = ''): Message<'trade.idea_status'> {
  return {
    id: `status:${idea.id}:${v.status}${suffix}`,
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

function decisionOf(idea: Idea, v: Verdict, by: { requested_by: string; cause: string; ts: string } | null = null): Message<'trade.decision'> {
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
    human_override: by !== null,
    requested_by: by?.requested_by ?? null,
  }
}

/** Strategy id → the symbols it watches (off-watchlist ideas need approval). */
export type Watchlists = ReadonlyMap<string, ReadonlySet<string>>
const EMPTY: ReadonlySet<string> = new Set()
const GAYED_DEFAULT_SYMBOLS = Object.values(DEFAULT_SYMBOLS)

type Command = Message<'trade.command'>

/** The account's risk as ctl.risk.get shows it. */
export function riskView(state: RiskState) {
  return { risk: state.risk ?? null, halted: state.halted ?? false, last_halt_reason: state.last_halt_reason ?? null }
}

/** The account's strategies and whether each may enter, as ctl.strategies.list shows them. */
export function strategiesView(state: RiskState, ids: readonly string[]) {
  return ids.map((id) => ({ id, enabled: state.disabled?.[id] === undefined, ...(state.disabled?.[id] !== undefined ? { disabled_by: state.disabled[id] } : {}) }))
}

/** Ideas waiting for a person, as ctl.ideas.pending shows them. */
export function pendingView(state: RiskState) {
  return Object.values(state.approvals ?? {}).map(({ idea, expires_at }) => ({
    id: idea.id, strategy_id: idea.strategy_id, symbol: idea.symbol, side: idea.side, qty: sizeOf(state, idea).qty, confidence: idea.confidence, reason: idea.reason, ts: idea.ts, expires_at,
  }))
}

/** A decision about the account itself (a halt, a resume): no idea, no symbol. */
function accountDecision(account: string, id: string, ts: string, cause: string, action: 'ai_halted' | 'ai_resumed', result: string, rationale: string, by: string | null): Outbound {
  return {
    type: 'trade.decision',
    data: {
      id, type: 'trade.decision', ts, causation_id: cause, correlation_id: cause, account, strategy_id: null, symbol: null, idea_id: null,
      action, status: null, risk_check_result: result, rationale, human_override: by !== null, requested_by: by,
    },
  }
}

/** The risk state after a change, for risk_config and anyone watching. */
function riskStateMessage(state: RiskState, account: string, ts: string, cause: string, by: string): Outbound {
  state.version = (state.version ?? 0) + 1
  return {
    type: 'trade.risk_state',
    data: {
      id: `risk-state:${account}:${state.version}`, type: 'trade.risk_state', ts, causation_id: cause, correlation_id: cause, account,
      risk: { ...state.risk! }, halted: state.halted ?? false, last_halt_reason: state.last_halt_reason ?? null, updated_by: by, version: state.version,
    },
  }
}

/** Halts the account (entries end halted_by_risk until a resume); exits still pass. */
function halt(state: RiskState, account: string, reason: string, ts: string, cause: string, by: string | null, emit: Outbound[]): void {
  state.halted = true
  state.last_halt_reason = reason
  emit.push(
    accountDecision(account, `decision:halt:${cause}`, ts, cause, 'ai_halted', `fail:${reason}`, by ? `halted by ${by}: ${reason}` : `halted: ${reason}`, by),
    riskStateMessage(state, account, ts, cause, by ?? 'system'),
  )
}

/** An operator command for the gate: change limits, halt, resume, approve or reject an idea. */
function handleCommand(state: RiskState, cmd: Command, account: AccountConfig, emit: Outbound[], lists?: Watchlists): void {
  const status = (ok: boolean, error: string | null, detail: Record<string, unknown> | null): void => {
    emit.push({
      type: 'trade.command_status',
      data: { id: `command-status:${cmd.id}`, type: 'trade.command_status', ts: cmd.ts, causation_id: cmd.id, correlation_id: cmd.correlation_id, account: cmd.account, command_id: cmd.id, command: cmd.command, ok, error, order_id: null, detail },
    })
  }
  const ts = state.clock ?? cmd.ts
  state.risk ??= { ...account.risk }
  state.approvals ??= {}
  switch (cmd.command) {
    case 'risk_set':
      Object.assign(state.risk, cmd.risk ?? {})
      emit.push(riskStateMessage(state, account.id, ts, cmd.id, cmd.requested_by))
      return status(true, null, { risk: { ...state.risk } })
    case 'risk_halt':
      halt(state, account.id, cmd.reason ?? 'manual', ts, cmd.id, cmd.requested_by, emit)
      return status(true, null, { halted: true, last_halt_reason: state.last_halt_reason })
    case 'risk_resume':
      if (state.halted) {
        state.halted = false
        emit.push(
          accountDecision(account.id, `decision:resume:${cmd.id}`, ts, cmd.id, 'ai_resumed', 'pass', `resumed by ${cmd.requested_by}`, cmd.requested_by),
          riskStateMessage(state, account.id, ts, cmd.id, cmd.requested_by),
        )
      }
      return status(true, null, { halted: false, last_halt_reason: state.last_halt_reason ?? null })
    case 'strategy_enable':
    case 'strategy_disable': {
      const id = cmd.strategy_id ?? ''
      if (lists && !lists.has(id)) return status(false, `unknown strategy "${id}"`, null)
      state.disabled ??= {}
      if (cmd.command === 'strategy_disable') state.disabled[id] = cmd.requested_by
      else delete state.disabled[id]
      return status(true, null, { strategy: id, enabled: cmd.command === 'strategy_enable' })
    }
    case 'idea_expire':
      // Sent by the control plane when an idea has waited approval_timeout_minutes of wall time.
      if (!expire(state, cmd.idea_id ?? '', `no approval within ${(state.risk ?? account.risk).approval_timeout_minutes} min`, emit)) {
        return status(false, `idea ${cmd.idea_id} is not waiting for approval`, null)
      }
      return status(true, null, { status: 'rejected', reason: 'fail:approval_expired' })
    case 'idea_approve':
    case 'idea_reject': {
      const waiting = state.approvals[cmd.idea_id ?? '']
      if (!waiting) return status(false, `idea ${cmd.idea_id} is not waiting for approval (decided, expired or unknown)`, null)
      delete state.approvals[waiting.idea.id]
      const idea = waiting.idea
      const by = { requested_by: cmd.requested_by, cause: cmd.id, ts }
      let v: Verdict
      const sized = sizeOf(state, idea)
      if (cmd.command === 'idea_reject') v = { status: 'rejected', action: 'human_rejected', result: `fail:human:${cmd.reason ?? 'rejected'}`, rationale: cmd.reason ?? 'rejected by a person' }
      else {
        // Approval re-checks every limit as the books are now.
        v = judge(state, idea, account, sized, true, lists?.get(idea.strategy_id))
        if (v.status === 'auto_executed') {
          v = { ...v, action: 'human_approved', rationale: `approved by ${cmd.requested_by}; all limits pass` }
          place(state, idea, sized, account, emit)
        }
      }
      emit.push({ type: 'trade.idea_status', data: statusOf(idea, v, sized.qty, `:${v.action}`) }, { type: 'trade.decision', data: decisionOf(idea, v, by) })
      return status(true, null, { status: v.status, reason: v.result })
    }
    default:
      return // the executor's commands
  }
}

/** Ideas that waited for a person longer than approval_timeout_minutes (bar time) are rejected. */
function expireApprovals(state: RiskState, emit: Outbound[]): void {
  if (!state.approvals || !state.clock) return
  for (const { idea, expires_at } of Object.values(state.approvals)) {
    if (expires_at <= state.clock) expire(state, idea.id, `no approval by ${expires_at} (bar time)`, emit)
  }
}

/** Rejects an idea still waiting for approval: approval_expired. */
function expire(state: RiskState, id: string, rationale: string, emit: Outbound[]): boolean {
  const waiting = state.approvals?.[id]
  if (!waiting) return false
  delete state.approvals![id]
  const v: Verdict = { status: 'rejected', action: 'risk_rejected', result: 'fail:approval_expired', rationale }
  emit.push({ type: 'trade.idea_status', data: statusOf(waiting.idea, v, sizeOf(state, waiting.idea).qty, ':expired') }, { type: 'trade.decision', data: decisionOf(waiting.idea, v, null) })
  return true
}

/** A portfolio breaching the drawdown limit or reaching the daily target halts the account. */
function checkHalts(state: RiskState, p: Message<'trade.portfolio'>, account: AccountConfig, emit: Outbound[]): void {
  const risk = state.risk
  if (!risk || state.halted) return
  if (risk.halt_on_drawdown && risk.max_drawdown_amount !== null && p.drawdown > risk.max_drawdown_amount) {
    halt(state, account.id, 'max_drawdown', p.ts, p.id, null, emit)
  } else if (risk.stop_after_target && risk.daily_profit_target !== null && p.daily_pnl >= risk.daily_profit_target) {
    halt(state, account.id, 'daily_target_reached', p.ts, p.id, null, emit)
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

export function handleRisk(state: RiskState, input: Inbound, account: AccountConfig, lists?: Watchlists): Step<RiskState> {
  const emit: Outbound[] = []
  let outcome: string | undefined
  // Bar time moves with ideas and portfolios (never with commands, which carry the clock of a person).
  if ((input.type === 'trade.idea' || input.type === 'trade.portfolio') && (!state.clock || input.data.ts > state.clock)) {
    state.clock = input.data.ts
    expireApprovals(state, emit)
  }
  switch (input.type) {
    case 'trade.command':
      handleCommand(state, input.data, account, emit, lists)
      outcome = emit.length ? 'command' : 'skipped'
      break
    case 'trade.idea': {
      const idea = input.data
      if (idea.intent === 'entry') {
        recordIdea(state.stats, idea.ng_score)
        if (idea.dpi_regime !== null) state.regime = idea.dpi_regime
      }
      state.queue.push(idea)
      outcome = drain(state, account, emit, lists)
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
      outcome = drain(state, account, emit, lists) ?? 'books'
      break
    }
    case 'trade.order_status':
      delete state.outstanding[input.data.order_id]
      outcome = drain(state, account, emit, lists) ?? 'books'
      break
    case 'trade.position':
      outcome = 'books'
      break
    case 'trade.portfolio': {
      const p = input.data
      state.cash = p.cash
      checkHalts(state, p, account, emit)
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

/** Each strategy's watchlist: its symbols (a Gayed strategy: its inputs and what it may hold). */
export function watchlistsOf(strategies: readonly AnyStrategyConfig[]): Watchlists {
  return new Map(strategies.map((s) => [s.id, new Set(s.type === 'gayed' ? [...Object.values(s.inputs).filter((v): v is string => !!v), ...GAYED_DEFAULT_SYMBOLS, s.risk_on, s.defensive] : s.symbols)]))
}

export const riskGate = (accounts: AccountConfig[], strategies: readonly AnyStrategyConfig[] = []) => {
  const byId = new Map(accounts.map((a) => [a.id, a]))
  const lists = watchlistsOf(strategies)
  return defineActor<RiskState>({
    name: 'risk-gate',
    ordered: true,
    // 3: positions with cost and P&L, the Brier tracker and Phase-5 stats, runtime risk, halts, approvals.
    stateVersion: 3,
    scopes: accounts.map((a) => accountScope(a.id)),
    init: (scope) => newRiskState(byId.get(scope.key)!.starting_cash, byId.get(scope.key)!.risk),
    handle: (state, input, scope) => handleRisk(state, input, byId.get(scope.key)!, lists),
  })
}
