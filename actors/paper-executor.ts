// paper-executor: the only actor that changes an account's books. A market order fills at the open
// of the first bar of its symbol after the signal bar — decided by data, not by arrival: if this
// executor has already handled that bar when the order arrives, the `market` port finds it in the
// stream; otherwise the order waits and fills when the bar comes. Publishes the fill, the position and the portfolio after each
// fill, and the portfolio again when a bar moves the mark of a held symbol.
// Protective exits (stop-loss, take-profit) are orders the strategy decided on the bar that fires
// them; they fill on that same bar, priced here from the levels this executor set at the entry's
// actual fill (lib/brackets). An entry that cash cannot cover waits while an exit that frees cash is
// due on a bar at or before its own (a rotation sells one symbol and buys another on the same day).
// Pure apart from the read-only `market` port (a lookup into the append-only bar stream).
import { defineActor, type Inbound, type Outbound, type Scope, type Step } from '../src/actor.js'
import type { AccountConfig, Costs } from '../src/config-file.js'
import { filterOf, type Bar, type Message } from '../src/contracts.js'
import { applyFill, commissionOf, mark, newBooks, revalue, type Books, type PositionBook } from './lib/books.js'
import { fillPrice, levelsOf, protectiveExit } from './lib/brackets.js'
import { entryFill, slipped, stopTouched, type EntryFill, type EntryOrder } from './lib/entry-orders.js'

type Order = Message<'trade.order'>

export type NextBar = { bar: Bar; seq: number } | null

export interface MarketData {
  /**
   * The first bar of `symbol`/`timeframe` stored after stream sequence `afterSeq`, if any yet. A
   * port that knows at once (the backtest's, in memory) may answer without a Promise.
   */
  nextBar(symbol: string, timeframe: string, afterSeq: number): NextBar | Promise<NextBar>
}

export interface ExecutorState {
  books: Books
  /** symbol → orders waiting for their fill bar. */
  working: Record<string, Order[]>
  /** Entries cash could not cover yet, with the bar they fill on, waiting for due exits. */
  deferred?: { order: Order; bar: Bar }[]
  /** Orders partly filled under a volume cap: parts filled so far. */
  parts?: Record<string, number>
  /** Limit/stop entries still working: bars seen since the signal, and whether a stop-limit's stop was touched. */
  resting?: Record<string, { bars: number; triggered: boolean }>
  /** Highest stream sequence handled per input; their sum orders the books' versions (`seq`). */
  cursor: { orders: number; bars: number; commands?: number }
}

export const accountScope = (account: string): Scope => ({
  key: account,
  inputs: [
    { name: 'orders', stream: 'TRADE', filter: filterOf('trade.order', { account }), accepts: ['trade.order'] },
    { name: 'bars', stream: 'MD', filter: filterOf('md.bar'), accepts: ['md.bar'] },
    { name: 'commands', stream: 'TRADE', filter: filterOf('trade.command', { account }), accepts: ['trade.command'] },
  ],
})

/** Emits of one handled message, with the books version each carries. */
class Out {
  readonly emit: Outbound[] = []
  private k = 0
  constructor(private readonly base: number) {}
  seq(): number {
    return this.base * 1024 + Math.min(this.k++, 1023)
  }
}

const NONE: readonly Order[] = []

/** A stop or target exit the strategy decided on its bar: it fills on the signal bar itself. */
const protective = (o: Order) => o.intent === 'exit' && o.order_type !== 'market'
/** A limit, stop or stop-limit entry: it may fill on any bar from the next one until it expires. */
const resting = (o: Order) => o.intent === 'entry' && o.order_type !== 'market'
const fillsOn = (o: Order, bar: Bar) => o.timeframe === bar.timeframe && (protective(o) ? bar.ts >= o.ts : bar.ts > o.ts)
const entryOrderOf = (o: Order): EntryOrder => ({ type: o.order_type, sign: o.side === 'buy' ? 1 : -1, limit: o.limit_price, stop: o.stop_price })

/** Handles an order; a Promise only when the market port answers with one. */
export function handleOrder(state: ExecutorState, order: Order, account: AccountConfig, market: MarketData, out: Out): void | Promise<void> {
  // No check of the position here: whether there is one to close is decided at the fill bar, like
  // the price. Checked on arrival, the answer would depend on how far this executor had got through
  // the bars — after a restart, its orders and bars come back in a different interleaving.
  // The fill bar is known from the stream. If this executor has already handled it (the order is
  // late), fill now; otherwise wait and fill while handling that bar, in bar order with every other
  // fill — so an executor that lags behind the stream ends with the same books as one in step.
  const next = market.nextBar(order.symbol, order.timeframe, protective(order) ? order.bar_seq - 1 : order.bar_seq)
  if (next instanceof Promise) return next.then((n) => placeOrder(state, order, n, account, market, out))
  return placeOrder(state, order, next, account, market, out)
}

function placeOrder(state: ExecutorState, order: Order, next: NextBar, account: AccountConfig, market: MarketData, out: Out): void | Promise<void> {
  if (resting(order)) return placeResting(state, order, next, account, market, out)
  if (next && fillsOn(order, next.bar) && next.seq <= state.cursor.bars) {
    fill(state, order, next.bar, account, out)
    settleDeferred(state, account, out)
    return
  }
  ;(state.working[order.symbol] ??= []).push(order)
}

/** A late limit/stop entry walks the bars this executor has already handled, then waits for the rest. */
function placeResting(state: ExecutorState, order: Order, next: NextBar, account: AccountConfig, market: MarketData, out: Out): void | Promise<void> {
  let n = next
  for (;;) {
    if (!n || !fillsOn(order, n.bar) || n.seq > state.cursor.bars) {
      ;(state.working[order.symbol] ??= []).push(order)
      return
    }
    if (tryResting(state, order, n.bar, account, out) !== 'waiting') return settleDeferred(state, account, out)
    const after = market.nextBar(order.symbol, order.timeframe, n.seq)
    if (after instanceof Promise) return after.then((a) => placeResting(state, order, a, account, market, out))
    n = after
  }
}

/** One bar against a limit/stop entry: filled, expired (cancelled), or still waiting. */
function tryResting(state: ExecutorState, order: Order, bar: Bar, account: AccountConfig, out: Out): 'filled' | 'expired' | 'waiting' {
  const track = state.resting?.[order.id] ?? { bars: 0, triggered: false }
  const eo = entryOrderOf(order)
  const hit = entryFill(eo, bar, track.triggered)
  if (hit) {
    if (state.resting) delete state.resting[order.id]
    fill(state, order, bar, account, out, hit)
    return 'filled'
  }
  if (eo.type === 'stop_limit' && stopTouched(eo, bar)) track.triggered = true
  track.bars++
  if (track.bars >= (order.valid_bars ?? 1)) {
    if (state.resting) delete state.resting[order.id]
    cancel(order, bar.ts, bar.id, 'expired', out)
    return 'expired'
  }
  ;(state.resting ??= {})[order.id] = track
  return 'waiting'
}

export function handleBar(state: ExecutorState, bar: Bar, account: AccountConfig, out: Out): void {
  const waiting = state.working[bar.symbol]
  // Most bars find no order waiting: no array for them.
  const due = waiting ? waiting.filter((o) => fillsOn(o, bar)) : NONE
  if (!state.books.positions[bar.symbol] && due.length === 0) return
  mark(state.books, bar.symbol, bar.ts, bar.close)
  if (due.length) {
    const rest = waiting!.filter((o) => !due.includes(o))
    if (rest.length) state.working[bar.symbol] = rest
    else delete state.working[bar.symbol]
    // At the open first (market orders, exits before entries as they came), then limit/stop entries,
    // then the protective exits within the bar.
    for (const order of due) if (!protective(order) && !resting(order)) fill(state, order, bar, account, out)
    for (const order of due) {
      if (resting(order) && tryResting(state, order, bar, account, out) === 'waiting') (state.working[bar.symbol] ??= []).push(order)
    }
    for (const order of due) if (protective(order)) fill(state, order, bar, account, out)
    settleDeferred(state, account, out)
  } else {
    out.emit.push({ type: 'trade.portfolio', data: portfolio(state.books, account.id, portfolioIdPrefix(account.id) + bar.id, bar.ts, bar.id, bar.correlation_id, out.seq()) })
  }
}

const portfolioIds = new Map<string, string>()

/** `pf:${account}:`, built once: the portfolio of a held symbol is published on every bar. */
function portfolioIdPrefix(account: string): string {
  let prefix = portfolioIds.get(account)
  if (prefix === undefined) portfolioIds.set(account, (prefix = `pf:${account}:`))
  return prefix
}

/**
 * What a volume cap leaves of an order works on from the next bar of its symbol, at that bar's open
 * (a market order for the rest, whatever the first part was).
 */
function carryOver(state: ExecutorState, order: Order, rest: number, bar: Bar): void {
  const remainder: Order = { ...order, ts: bar.ts, qty: rest, order_type: 'market', limit_price: null, stop_price: null, valid_bars: null }
  ;(state.working[order.symbol] ??= []).push(remainder)
}

/** Whether an exit still to fill, on a bar at or before `ts`, could free cash for an entry. */
function exitDue(state: ExecutorState, ts: string): boolean {
  for (const orders of Object.values(state.working)) for (const o of orders) if (o.intent === 'exit' && o.ts < ts) return true
  return false
}

/** Retries deferred entries after exits filled; those no exit can help any more are rejected. */
function settleDeferred(state: ExecutorState, account: AccountConfig, out: Out): void {
  const deferred = state.deferred
  if (!deferred?.length) return
  state.deferred = []
  for (const { order, bar } of deferred) fill(state, order, bar, account, out)
  if (!state.deferred.length) delete state.deferred
}

function fill(state: ExecutorState, order: Order, bar: Bar, account: AccountConfig, out: Out, entry?: EntryFill): void {
  const b = state.books
  const held = b.positions[order.symbol]
  const sign = order.side === 'buy' ? 1 : -1
  if (order.close_position && (!held || Math.sign(held.qty) === sign)) return reject(order, 'no_position', out)
  const wanted = order.close_position ? Math.abs(held!.qty) : order.qty
  const c: Costs = account.costs
  // Volume cap: a fill takes at most this share of the bar's volume; the rest works on the next bar.
  const cap = account.costs.volume_cap_pct === null ? Infinity : Math.floor(bar.volume * account.costs.volume_cap_pct)
  if (cap <= 0) return carryOver(state, order, wanted, bar)
  const qty = Math.min(wanted, cap)
  let price: number
  let model: EntryFill['model'] = 'next_open'
  if (entry) {
    price = slipped(entry, sign, c.slippage_bps)
    model = entry.model
  } else if (protective(order)) {
    const side = held!.qty > 0 ? 'long' : 'short'
    const hit = protectiveExit({ stop: held!.stop ?? null, target: held!.target ?? null }, side, bar)
    if (!hit || hit.reason !== order.exit_reason) return reject(order, 'not_triggered', out)
    price = fillPrice(hit.price, sign, hit.order_type, c.slippage_bps)
    model = hit.order_type
  } else {
    price = fillPrice(bar.open, sign, 'market', c.slippage_bps)
  }
  const commission = commissionOf(qty, price, c)
  // An entry needs its notional in cash, long or short (100% margin).
  if (order.intent === 'entry' && qty * price + commission > b.cash) {
    if (exitDue(state, bar.ts)) {
      ;(state.deferred ??= []).push({ order, bar })
      return
    }
    return reject(order, 'insufficient_cash', out)
  }
  // Parts of an order beyond the first (volume cap) get their own ids; the first keeps the plain one.
  const part = state.parts?.[order.id] ?? 0
  const fillId = part === 0 ? `fill:${order.id}` : `fill:${order.id}:${part + 1}`
  if (qty < wanted) {
    ;(state.parts ??= {})[order.id] = part + 1
    carryOver(state, order, wanted - qty, bar)
  } else if (part > 0) delete state.parts![order.id]
  const { position, closed } = applyFill(b, order.symbol, sign, qty, price, commission, bar.ts, `position:${fillId}`)
  if (position !== closed) position.timeframe ??= order.timeframe
  if (order.intent === 'entry' && order.bracket && position !== closed) {
    const levels = levelsOf(order.bracket, position.qty > 0 ? 'long' : 'short', price)
    position.stop = levels.stop
    position.target = levels.target
  }
  mark(b, order.symbol, bar.ts, bar.close)
  const changed = closed ?? position
  out.emit.push(
    {
      type: 'trade.fill',
      data: {
        id: fillId,
        type: 'trade.fill',
        ts: bar.ts,
        causation_id: order.id,
        correlation_id: order.correlation_id,
        account: order.account,
        strategy_id: order.strategy_id,
        symbol: order.symbol,
        side: order.side,
        intent: order.intent,
        qty,
        order_id: order.id,
        idea_id: order.idea_id,
        position_id: changed.position_id,
        price,
        commission,
        fill_model: { type: model, slippage_bps: c.slippage_bps, commission_pct: c.commission_pct, commission_per_share: c.commission_per_share, commission_min: c.commission_min, volume_cap_pct: c.volume_cap_pct },
        bar_id: bar.id,
        exit_reason: order.intent === 'exit' ? (order.exit_reason ?? 'signal') : null,
        phase5: order.intent === 'entry' ? order.phase5 : null,
      },
    },
    positionMessage(order, fillId, bar.ts, changed, closed !== null, out.seq()),
  )
  if (closed && position !== closed) out.emit.push(positionMessage(order, fillId, bar.ts, position, false, out.seq()))
  out.emit.push({ type: 'trade.portfolio', data: portfolio(b, order.account, `pf:${fillId}`, bar.ts, fillId, order.correlation_id, out.seq()) })
}

function positionMessage(order: Order, fillId: string, ts: string, p: PositionBook, closed: boolean, seq: number): Outbound {
  return {
    type: 'trade.position',
    data: {
      id: `pos:${fillId}:${p.position_id}`,
      type: 'trade.position',
      ts,
      causation_id: fillId,
      correlation_id: order.correlation_id,
      account: order.account,
      position_id: p.position_id,
      symbol: order.symbol,
      side: p.qty < 0 ? 'short' : 'long',
      qty: closed ? 0 : Math.abs(p.qty),
      avg_price: p.avg_price,
      realized_pnl: p.realized_pnl,
      status: closed ? 'closed' : 'open',
      opened_at: p.opened_at,
      closed_at: closed ? ts : null,
      exit_reason: closed ? (order.intent === 'exit' ? (order.exit_reason ?? 'signal') : 'reversal') : null,
      stop_price: closed ? null : (p.stop ?? null),
      target_price: closed ? null : (p.target ?? null),
      seq,
    },
  }
}

function portfolio(b: Books, account: string, id: string, ts: string, cause: string, correlation: string, seq: number): Message<'trade.portfolio'> {
  const v = revalue(b, ts)
  return {
    id,
    type: 'trade.portfolio',
    ts,
    causation_id: cause,
    correlation_id: correlation,
    account,
    starting_cash: b.starting_cash,
    cash: b.cash,
    equity: v.equity,
    realized_pnl: b.realized_pnl,
    unrealized_pnl: v.unrealized,
    peak_equity: b.peak_equity,
    drawdown: v.drawdown,
    daily_pnl: v.daily_pnl,
    trade_count: b.trade_count,
    winning_trades: b.winning_trades,
    open_positions: v.open,
    seq,
  }
}

function reject(order: Order, reason: string, out: Out): void {
  out.emit.push({
    type: 'trade.order_status',
    data: {
      id: `order-status:${order.id}:rejected`,
      type: 'trade.order_status',
      ts: order.ts,
      causation_id: order.id,
      correlation_id: order.correlation_id,
      account: order.account,
      order_id: order.id,
      idea_id: order.idea_id,
      symbol: order.symbol,
      status: 'rejected',
      reason,
    },
  })
}

type Command = Message<'trade.command'>

/**
 * An operator's command, ordered with the account's orders: cancel a working order, or close a
 * position at the next bar of its timeframe (an exit order of reason `manual`). Every command ends in
 * a trade.command_status saying what became of it.
 */
export function handleCommand(state: ExecutorState, cmd: Command, out: Out): void {
  // Risk commands travel on the same subject; the risk gate answers them.
  if (cmd.command !== 'cancel_order' && cmd.command !== 'close_position') return
  const status = (ok: boolean, error: string | null, orderId: string | null): void => {
    out.emit.push({
      type: 'trade.command_status',
      data: { id: `command-status:${cmd.id}`, type: 'trade.command_status', ts: cmd.ts, causation_id: cmd.id, correlation_id: cmd.correlation_id, account: cmd.account, command_id: cmd.id, command: cmd.command, ok, error, order_id: orderId, detail: null },
    })
  }
  if (cmd.command === 'cancel_order') {
    const id = cmd.order_id ?? ''
    for (const symbol of Object.keys(state.working)) {
      const orders = state.working[symbol]!
      const order = orders.find((o) => o.id === id)
      if (!order) continue
      if (orders.length === 1) delete state.working[symbol]
      else state.working[symbol] = orders.filter((o) => o !== order)
      if (state.resting) delete state.resting[order.id]
      cancelled(order, cmd, out)
      return status(true, null, id)
    }
    const deferred = state.deferred?.find((d) => d.order.id === id)
    if (deferred) {
      state.deferred = state.deferred!.filter((d) => d !== deferred)
      if (!state.deferred.length) delete state.deferred
      cancelled(deferred.order, cmd, out)
      return status(true, null, id)
    }
    return status(false, `order ${id} is not working (filled, rejected, cancelled or unknown)`, null)
  }
  const symbol = cmd.symbol ?? ''
  const held = state.books.positions[symbol]
  const mark = state.books.marks[symbol]
  if (!held || !mark) return status(false, `no open ${symbol} position`, null)
  if (state.working[symbol]?.some((o) => o.close_position)) return status(false, `an order closing ${symbol} is already working`, null)
  const order: Order = {
    id: `order:${cmd.id}`,
    type: 'trade.order',
    // The last bar this executor handled for the symbol: the close fills at the open of the next one.
    ts: mark.ts,
    causation_id: cmd.id,
    correlation_id: cmd.correlation_id,
    account: cmd.account,
    strategy_id: 'manual',
    symbol,
    side: held.qty > 0 ? 'sell' : 'buy',
    intent: 'exit',
    qty: Math.abs(held.qty),
    idea_id: cmd.id,
    timeframe: held.timeframe ?? '1d',
    order_type: 'market',
    exit_reason: 'manual',
    limit_price: null,
    stop_price: null,
    valid_bars: null,
    reduce_only: true,
    close_position: true,
    ref_price: mark.price,
    bar_seq: state.cursor.bars,
    bracket: null,
    phase5: null,
  }
  ;(state.working[symbol] ??= []).push(order)
  status(true, null, order.id)
}

function cancelled(order: Order, cmd: Command, out: Out): void {
  cancel(order, cmd.ts, cmd.id, `cancelled by ${cmd.requested_by}`, out)
}

function cancel(order: Order, ts: string, cause: string, reason: string, out: Out): void {
  out.emit.push({
    type: 'trade.order_status',
    data: {
      id: `order-status:${order.id}:cancelled`, type: 'trade.order_status', ts, causation_id: cause, correlation_id: order.correlation_id,
      account: order.account, order_id: order.id, idea_id: order.idea_id, symbol: order.symbol, status: 'cancelled', reason,
    },
  })
}

/**
 * One message through the executor. Synchronous unless an order has to wait for the market port's
 * Promise: a bar (most messages) never does, so a caller running many pays no tick for them.
 */
export function handleExecution(state: ExecutorState, input: Inbound, account: AccountConfig, market: MarketData): Step<ExecutorState> | Promise<Step<ExecutorState>> {
  const c = state.cursor
  if (input.type === 'trade.order') c.orders = Math.max(c.orders, input.seq)
  else if (input.type === 'trade.command') c.commands = Math.max(c.commands ?? 0, input.seq)
  else c.bars = Math.max(c.bars, input.seq)
  const out = new Out(c.orders + c.bars + (c.commands ?? 0))
  if (input.type === 'trade.order') {
    const placed = handleOrder(state, input.data, account, market, out)
    if (placed) return placed.then(() => finish(state, account, out))
  } else if (input.type === 'md.bar') handleBar(state, input.data, account, out)
  else if (input.type === 'trade.command') handleCommand(state, input.data, out)
  else return { state, outcome: 'skipped' }
  return finish(state, account, out)
}

function finish(state: ExecutorState, account: AccountConfig, out: Out): Step<ExecutorState> {
  settleDeferred(state, account, out)
  return out.emit.length ? { state, emit: out.emit } : { state }
}

export const paperExecutor = (accounts: AccountConfig[], market: MarketData) => {
  const byId = new Map(accounts.map((a) => [a.id, a]))
  return defineActor<ExecutorState>({
    name: 'paper-executor',
    ordered: true,
    scopes: accounts.map((a) => accountScope(a.id)),
    init: (scope) => ({ books: newBooks(byId.get(scope.key)!.starting_cash), working: {}, cursor: { orders: 0, bars: 0 } }),
    handle: (state, input, scope) => handleExecution(state, input, byId.get(scope.key)!, market),
  })
}
