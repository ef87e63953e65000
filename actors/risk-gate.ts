// risk-gate: the only actor that decides what may trade. For each idea of its account it publishes
// an order (trade.order) or not, the status the idea reached (trade.idea_status) and one audit entry
// (trade.decision). Exits (reduce-only) always pass. It judges each idea against the account's books
// as of the idea's bar — a ledger (lib/ledger) kept from the executor's fills and the bars it looks
// up, advanced in market-stream order, so the decision is the same whenever the executor's messages
// arrive (after a restart, in a fast replay, with the executor far behind). Ideas and operator
// commands are handled in the order they were written, one after another: an idea waits while an
// order may still settle on a bar at or before its own, and everything behind it waits with it.
// It sizes entries (fixed, a share of equity, a risk budget over the stop distance, and the Phase-5
// product), halts on drawdown or a daily target as the books reach them, and keeps the account's
// Brier tracker, publishing metrics.phase5.<ACCT> at each position close and once a bar-time day.
// Pure: no I/O, no clock.
import { defineActor, type BarLookup, type Found, type Inbound, type Outbound, type Scope, type Step } from '../src/core/actor.js'
import type { AccountConfig, AnyStrategyConfig, RiskConfig } from '../src/core/config-file.js'
import { DEFAULT_SYMBOLS } from '../src/core/gayed-roles.js'
import { accountFilter, type Message } from '../src/core/contracts.js'
import { commissionOf } from './lib/books.js'
import { fillPrice } from './lib/brackets.js'
import {
  absorbBars, advance, availableCash, complete, equityOf, follow, live, newLedger, receiveFill, receiveSettlement, relevantFrom,
  type AdvanceHooks, type Ledger, type Outstanding,
} from './lib/ledger.js'
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

type Command = Message<'trade.command'>
/** What waits its turn: ideas and operator commands, in the order they were written. */
type Turn = { idea: Message<'trade.idea'> } | { command: Command }

export interface RiskState {
  ledger: Ledger
  /** Ideas and commands not handled yet, in arrival order. */
  queue: Turn[]
  brier: BrierState
  stats: Phase5Stats
  /** The DPI regime of the latest entry idea that carried one. */
  regime: string | null
  /** Bar-time day of the last daily metrics row. */
  metricsDay: string | null
  /** The risk config as it applies now: the file's, changed at runtime by ctl.risk.set. */
  risk: RiskConfig
  halted: boolean
  last_halt_reason: string | null
  /** Version of the risk state (trade.risk_state), raised by every change. */
  version: number
  /** Ideas waiting for a person, by id. */
  approvals: Record<string, { idea: Idea; expires_at: string }>
  /** Entries passed on the current bar-time day (max_orders_per_day). */
  today?: { day: string; orders: number }
  /** Strategies a person disabled: their entries are rejected (exits still pass). */
  disabled?: Record<string, string>
}

export const newRiskState = (cash: number, risk: RiskConfig): RiskState => ({
  ledger: newLedger(cash), queue: [], brier: newBrier(), stats: newPhase5Stats(), regime: null, metricsDay: null,
  risk: { ...risk }, halted: false, last_halt_reason: null, version: 0, approvals: {},
})

type Idea = Message<'trade.idea'>
type Status = Message<'trade.idea_status'>['status']
type Action = Message<'trade.decision'>['action']

/** Everything about the account on TRADE; of it the gate reads ideas, commands and the executor's settlements. */
export const accountScope = (account: string): Scope => ({
  key: account,
  inputs: [{ stream: 'TRADE', filter: accountFilter(account), accepts: ['trade.idea', 'trade.fill', 'trade.order_status', 'trade.command'] }],
})

interface Verdict { status: Status; action: Action; result: string; rationale: string }

/** An idea with the quantity the gate sized it to and the Phase-5 factors that went into it. */
export interface Sized {
  qty: number
  phase5: Message<'trade.order'>['phase5']
}

/** Equity for sizing, as of the idea's bar: cash and every position at its last close. */
export const sizingEquity = (state: RiskState): number => equityOf(state.ledger)

export function sizeOf(state: RiskState, idea: Idea, account: AccountConfig): Sized {
  if (idea.intent === 'exit') return { qty: Math.abs(state.ledger.books.positions[idea.symbol]?.qty ?? 0), phase5: null }
  const sizing = idea.sizing
  if (!sizing) return { qty: idea.qty ?? 0, phase5: null }
  const equity = sizingEquity(state)
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
  // A share of equity is a share of what the account can spend: never more than the cash it may use
  // (exits working count at what they bring) buys at the reference price, costs included — so a
  // rotation that sells one symbol to buy another is affordable by construction.
  if (sizing.method === 'pct_equity') qty = Math.min(qty, affordable(availableCash(state.ledger), idea, account))
  return { qty: Math.max(0, qty), phase5 }
}

/**
 * The verdict on an idea. Exits always pass (reduce-only), halted or not. An entry, in order: halted
 * → halted_by_risk; AI trading disabled, low confidence or a symbol off the strategy's watchlist →
 * needs_approval (unless `approved`: a person said yes, and the limits are checked again); then
 * every limit → rejected with its reason; else auto_executed.
 */
export function judge(state: RiskState, idea: Idea, account: AccountConfig, sized: Sized, approved = false, watchlist?: ReadonlySet<string>): Verdict {
  const risk = state.risk
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
  const pending = live(state.ledger)
  const positions = state.ledger.books.positions
  const open = Object.keys(positions).length
  const entries = pending.filter((o) => o.intent === 'entry').length
  const closing = pending.filter((o) => o.intent === 'exit').length
  const concurrent = open + entries - closing
  if (risk.max_concurrent_trades !== null && concurrent >= risk.max_concurrent_trades) {
    return reject('max_concurrent_trades', `${open} open positions + ${entries} working entries - ${closing} closing reach max_concurrent_trades ${risk.max_concurrent_trades}`)
  }
  if (idea.max_positions !== null) {
    const mine = (o: { strategy: string }) => o.strategy === idea.strategy_id
    const owners = Object.keys(positions).map((symbol) => ({ strategy: state.ledger.owners[symbol]?.strategy ?? '' }))
    const held = owners.filter(mine).length + pending.filter((o) => mine(o) && o.intent === 'entry').length - pending.filter((o) => mine(o) && o.intent === 'exit').length
    if (held >= idea.max_positions) return reject('max_concurrent_positions', `strategy ${idea.strategy_id} holds ${held} positions, its risk_caps allow ${idea.max_positions}`)
  }
  const cost = estimatedCost(idea, sized.qty, account)
  const available = availableCash(state.ledger)
  if (cost * (1 - CASH_GAP_ALLOWANCE) > available) return reject('insufficient_cash', `estimated cost ${round(cost)} exceeds available cash ${round(available)}`)
  return { status: 'auto_executed', action: 'ai_auto_executed', result: 'pass', rationale: 'all limits pass' }
}

/** Cash an entry needs at the reference price: the notional (100% margin for shorts too) plus commission. */
export function estimatedCost(idea: Idea, qty: number, account: AccountConfig): number {
  const price = fillPrice(idea.price, 1, 'market', account.costs.slippage_bps)
  return qty * price + commissionOf(qty, price, account.costs)
}

const round = (x: number) => Math.round(x * 100) / 100

/** The most units `cash` pays for at the idea's reference price, slippage and commission included. */
function affordable(cash: number, idea: Idea, account: AccountConfig): number {
  if (cash <= 0) return 0
  let qty = floorQty(cash / fillPrice(idea.price, 1, 'market', account.costs.slippage_bps))
  while (qty > 0 && estimatedCost(idea, qty, account) > cash) qty--
  return qty
}

/**
 * Handles waiting ideas and commands in arrival order. An idea is judged once the books can be
 * advanced to its bar (no order may still settle at or before it unheard of); until then it and
 * everything behind it wait — so a command written after an idea always finds it judged.
 */
function drain(state: RiskState, account: AccountConfig, emit: Outbound[], lists?: Watchlists): string | undefined {
  let outcome: string | undefined
  while (state.queue.length) {
    const turn = state.queue[0]!
    if ('idea' in turn) {
      const idea = turn.idea
      const n = Math.max(idea.bar_seq, state.ledger.asOf)
      if (!complete(state.ledger, n)) return outcome ?? 'waiting'
      advanceTo(state, n, account, emit)
      state.queue.shift()
      outcome = decide(state, idea, account, emit, lists)
    } else {
      state.queue.shift()
      handleCommand(state, turn.command, account, emit, lists)
      outcome = 'command'
    }
  }
  return outcome
}

/** Advances the books to MD position n: fills and marks in stream order, halts and days as they come. */
function advanceTo(state: RiskState, n: number, account: AccountConfig, emit: Outbound[]): void {
  const hooks: AdvanceHooks = {
    filled(f, closedPnl) {
      if (closedPnl !== null) {
        recordOutcome(state.brier, f.position_id, closedPnl > 0)
        emit.push(metrics(state, account.id, 'position_closed', `p5:${account.id}:close:${f.position_id}`, f.ts, f.id))
      }
      if (f.intent === 'entry' && f.phase5) {
        recordForecast(state.brier, f.position_id, forecastFromNg(f.phase5.ng_score))
        recordTrade(state.stats, f.phase5.ng_score, f.phase5.dpi_enhancement)
      }
    },
    valued(ts, cause, v) {
      const day = ts.slice(0, 10)
      if (state.metricsDay !== day) {
        if (state.metricsDay !== null && day > state.metricsDay) emit.push(metrics(state, account.id, 'daily', `p5:${account.id}:daily:${day}`, ts, cause))
        if (state.metricsDay === null || day > state.metricsDay) state.metricsDay = day
      }
      checkHalts(state, v, ts, cause, account, emit)
    },
  }
  advance(state.ledger, n, hooks)
  expireApprovals(state, account, emit)
}

function decide(state: RiskState, idea: Idea, account: AccountConfig, emit: Outbound[], lists?: Watchlists): Status {
  const sized = sizeOf(state, idea, account)
  const v = judge(state, idea, account, sized, false, lists?.get(idea.strategy_id) ?? (lists ? EMPTY : undefined))
  if (v.status === 'needs_approval') {
    const minutes = state.risk.approval_timeout_minutes
    state.approvals[idea.id] = { idea, expires_at: new Date(Date.parse(idea.ts) + minutes * 60_000).toISOString() }
  }
  if (v.status === 'auto_executed') place(state, idea, sized, account, emit)
  emit.push({ type: 'trade.idea_status', data: statusOf(idea, v, sized.qty) }, { type: 'trade.decision', data: decisionOf(idea, v) })
  return v.status
}

/**
 * Emits the order of a passed idea and follows it until it settles. It fills on the first bar of its
 * symbol after `barSeq` — the idea's bar, or for an approval the bar the books had reached by then.
 */
function place(state: RiskState, idea: Idea, sized: Sized, account: AccountConfig, emit: Outbound[], barSeq = idea.bar_seq): void {
  if (idea.intent === 'entry') {
    const day = idea.ts.slice(0, 10)
    state.today = state.today?.day === day ? { day, orders: state.today.orders + 1 } : { day, orders: 1 }
  }
  const order = orderFor(idea, sized, barSeq)
  emit.push({ type: 'trade.order', data: order })
  const kind: Outstanding['kind'] = idea.intent === 'exit' ? (idea.order_type === 'market' ? 'market' : 'protective') : idea.order_type === 'market' ? 'market' : 'resting'
  follow(state.ledger, order.id, {
    symbol: idea.symbol,
    strategy: idea.strategy_id,
    timeframe: idea.timeframe,
    intent: idea.intent,
    signalSeq: barSeq,
    signalTs: idea.ts,
    kind,
    ...(kind === 'resting'
      ? { entry: { order: { type: idea.order_type, sign: idea.side === 'buy' ? 1 : -1, limit: idea.limit_price, stop: idea.stop_price }, valid: idea.valid_bars ?? 1, seen: 0, triggered: false } }
      : {}),
    qty: sized.qty,
    filled: 0,
    reserve: idea.intent === 'entry' ? estimatedCost(idea, sized.qty, account) : 0,
  })
}

// The three messages an idea causes start with the same fields (its id, type, the idea's bar time
// and lineage). They are written out in each literal rather than spread from a shared head: V8 adds
// every property that follows a spread on a slow path (about a microsecond each), which made these
// builders the hottest code of the gate.

function orderFor(idea: Idea, sized: Sized, barSeq: number): Message<'trade.order'> {
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
    bar_seq: barSeq,
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


/** The account's risk as ctl.risk.get shows it. */
export function riskView(state: RiskState) {
  return { risk: state.risk, halted: state.halted, last_halt_reason: state.last_halt_reason }
}

/** The account's strategies and whether each may enter, as ctl.strategies.list shows them. */
export function strategiesView(state: RiskState, ids: readonly string[]) {
  return ids.map((id) => ({ id, enabled: state.disabled?.[id] === undefined, ...(state.disabled?.[id] !== undefined ? { disabled_by: state.disabled[id] } : {}) }))
}

/** Ideas waiting for a person, as ctl.ideas.pending shows them. */
export function pendingView(state: RiskState, account: AccountConfig) {
  return Object.values(state.approvals ?? {}).map(({ idea, expires_at }) => ({
    id: idea.id, strategy_id: idea.strategy_id, symbol: idea.symbol, side: idea.side, qty: sizeOf(state, idea, account).qty, confidence: idea.confidence, reason: idea.reason, ts: idea.ts, expires_at,
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
  state.version += 1
  return {
    type: 'trade.risk_state',
    data: {
      id: `risk-state:${account}:${state.version}`, type: 'trade.risk_state', ts, causation_id: cause, correlation_id: cause, account,
      risk: { ...state.risk }, halted: state.halted, last_halt_reason: state.last_halt_reason, updated_by: by, version: state.version,
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
  // A command takes effect at the bar the books have reached (a person's clock is not market time).
  const ts = state.ledger.asOfTs ?? cmd.ts
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
      return status(true, null, { halted: false, last_halt_reason: state.last_halt_reason })
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
      if (!expire(state, cmd.idea_id ?? '', `no approval within ${state.risk.approval_timeout_minutes} min`, account, emit)) {
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
      const sized = sizeOf(state, idea, account)
      if (cmd.command === 'idea_reject') v = { status: 'rejected', action: 'human_rejected', result: `fail:human:${cmd.reason ?? 'rejected'}`, rationale: cmd.reason ?? 'rejected by a person' }
      else {
        // Approval re-checks every limit as the books are now.
        v = judge(state, idea, account, sized, true, lists?.get(idea.strategy_id))
        if (v.status === 'auto_executed') {
          v = { ...v, action: 'human_approved', rationale: `approved by ${cmd.requested_by}; all limits pass` }
          // It fills on the first bar after the one the books have reached: an approval never buys the past.
          place(state, idea, sized, account, emit, Math.max(idea.bar_seq, state.ledger.asOf))
        }
      }
      emit.push({ type: 'trade.idea_status', data: statusOf(idea, v, sized.qty, `:${v.action}`) }, { type: 'trade.decision', data: decisionOf(idea, v, by) })
      return status(true, null, { status: v.status, reason: v.result })
    }
    case 'close_position': {
      // The executor closes at the first bar after the one the command names: follow that exit.
      const p = state.ledger.books.positions[cmd.symbol ?? '']
      if (!p || cmd.bar_seq === null || cmd.bar_seq === undefined) return
      const owner = state.ledger.owners[cmd.symbol!]
      follow(state.ledger, `order:${cmd.id}`, {
        symbol: cmd.symbol!, strategy: 'manual', timeframe: owner?.timeframe ?? '1d', intent: 'exit', signalSeq: cmd.bar_seq, signalTs: ts, kind: 'market', qty: Math.abs(p.qty), filled: 0, reserve: 0,
      })
      return
    }
    default:
      return // cancel_order: the executor answers, and its order status settles the order here
  }
}

/** Ideas that waited for a person longer than approval_timeout_minutes (bar time) are rejected. */
function expireApprovals(state: RiskState, account: AccountConfig, emit: Outbound[]): void {
  const clock = state.ledger.asOfTs
  if (!clock) return
  for (const { idea, expires_at } of Object.values(state.approvals)) {
    if (expires_at <= clock) expire(state, idea.id, `no approval by ${expires_at} (bar time)`, account, emit)
  }
}

/** Rejects an idea still waiting for approval: approval_expired. */
function expire(state: RiskState, id: string, rationale: string, account: AccountConfig, emit: Outbound[]): boolean {
  const waiting = state.approvals[id]
  if (!waiting) return false
  delete state.approvals[id]
  const v: Verdict = { status: 'rejected', action: 'risk_rejected', result: 'fail:approval_expired', rationale }
  emit.push({ type: 'trade.idea_status', data: statusOf(waiting.idea, v, sizeOf(state, waiting.idea, account).qty, ':expired') }, { type: 'trade.decision', data: decisionOf(waiting.idea, v, null) })
  return true
}

/** Books breaching the drawdown limit or reaching the daily target halt the account, at that bar. */
function checkHalts(state: RiskState, v: { drawdown: number; daily_pnl: number }, ts: string, cause: string, account: AccountConfig, emit: Outbound[]): void {
  const risk = state.risk
  if (state.halted) return
  if (risk.halt_on_drawdown && risk.max_drawdown_amount !== null && v.drawdown > risk.max_drawdown_amount) {
    halt(state, account.id, 'max_drawdown', ts, cause, null, emit)
  } else if (risk.stop_after_target && risk.daily_profit_target !== null && v.daily_pnl >= risk.daily_profit_target) {
    halt(state, account.id, 'daily_target_reached', ts, cause, null, emit)
  }
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

export function handleRisk(state: RiskState, input: Inbound, account: AccountConfig, lists?: Watchlists, found: Found = NOTHING): Step<RiskState> {
  const emit: Outbound[] = []
  for (const { lookup, bars } of found) absorbBars(state.ledger, lookup.symbol, lookup.through, bars)
  let outcome: string | undefined
  switch (input.type) {
    case 'trade.idea': {
      const idea = input.data
      if (idea.intent === 'entry') {
        recordIdea(state.stats, idea.ng_score)
        if (idea.dpi_regime !== null) state.regime = idea.dpi_regime
      }
      state.queue.push({ idea })
      outcome = drain(state, account, emit, lists)
      break
    }
    case 'trade.command':
      state.queue.push({ command: input.data })
      outcome = drain(state, account, emit, lists) ?? 'waiting'
      break
    case 'trade.fill':
      receiveFill(state.ledger, input.data)
      // A fill on the bar the books are at (a stop or target exit) belongs to them now.
      if (input.data.bar_seq <= state.ledger.asOf) advanceTo(state, state.ledger.asOf, account, emit)
      outcome = drain(state, account, emit, lists) ?? 'books'
      break
    case 'trade.order_status':
      receiveSettlement(state.ledger, input.data.order_id)
      outcome = drain(state, account, emit, lists) ?? 'books'
      break
    default:
      outcome = 'skipped'
  }
  return emit.length ? { state, emit, outcome } : { state, outcome }
}

const NOTHING: Found = []

/**
 * The bars handling `input` may need: those of every symbol the books may touch up to the furthest
 * bar of the ideas waiting (this one included), from where each was looked up to. The same state and
 * input always name the same bars.
 */
export function riskLookup(state: RiskState, input: Inbound): BarLookup[] | null {
  if (input.type !== 'trade.idea' && input.type !== 'trade.command' && input.type !== 'trade.fill') return null
  let through = 0
  const waiting: { symbol: string; from: number }[] = []
  const note = (idea: Idea) => {
    through = Math.max(through, idea.bar_seq)
    waiting.push({ symbol: idea.symbol, from: idea.bar_seq - 1 })
  }
  for (const turn of state.queue) {
    if ('idea' in turn) note(turn.idea)
    else {
      const approved = state.approvals[turn.command.idea_id ?? '']
      if (approved) waiting.push({ symbol: approved.idea.symbol, from: approved.idea.bar_seq - 1 })
    }
  }
  if (input.type === 'trade.idea') note(input.data)
  else if (input.type === 'trade.command') {
    const approved = state.approvals[input.data.idea_id ?? '']
    if (approved) waiting.push({ symbol: approved.idea.symbol, from: approved.idea.bar_seq - 1 })
  } else if (input.type === 'trade.fill') waiting.push({ symbol: input.data.symbol, from: input.data.bar_seq - 1 })
  if (through <= 0) return null
  const out: BarLookup[] = []
  for (const [symbol, after] of relevantFrom(state.ledger, waiting)) if (after < through) out.push({ symbol, after, through })
  return out.length ? out : null
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
    // 4: the books as a ledger in market time (fills and looked-up bars), ideas and commands in one queue.
    stateVersion: 4,
    scopes: accounts.map((a) => accountScope(a.id)),
    init: (scope) => newRiskState(byId.get(scope.key)!.starting_cash, byId.get(scope.key)!.risk),
    held: (state) => state.queue.length,
    lookup: (state, input) => riskLookup(state, input),
    handle: (state, input, scope, found) => handleRisk(state, input, byId.get(scope.key)!, lists, found),
  })
}
