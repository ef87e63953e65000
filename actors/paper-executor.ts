// paper-executor: the only actor that changes an account's books. A market order fills at the open
// of the first bar of its symbol after the signal bar — decided by data, not by arrival: if this
// executor has already handled that bar when the order arrives, it looks the bar up in the stream
// (ActorDef.lookup: the runtime reads it before the call); otherwise the order waits and fills when
// the bar comes. Orders and operator commands come through one consumer of the account's stream, so
// they are applied in the order they were written. Publishes the fill, the position and the
// portfolio after each fill, and the portfolio again when a bar moves the mark of a held symbol.
// The books are a fold in market time (lib/postings): when a fill lands behind bars already marked,
// the points from its bar on are held back and published again when the scope settles
// (settleBooks), so the curve does not depend on when an order arrived either.
// Protective exits (stop-loss, take-profit) are orders the strategy decided on the bar that fires
// them; they fill on that same bar, priced here from the levels this executor set at the entry's
// actual fill (lib/brackets). An entry that cash cannot cover waits while an exit that frees cash is
// due on a bar at or before its own (a rotation sells one symbol and buys another on the same day).
// Pure: no I/O, no clock.
import { defineActor, type BarLookup, type Found, type FoundBar, type Inbound, type Outbound, type Scope, type Step } from '../src/core/actor.js'
import type { AccountConfig, Costs } from '../src/core/config-file/accounts.js'
import type { Bar, Message } from '../src/core/contracts.js'
import { accountFilter, filterOf } from '../src/core/subjects.js'
import { Memo } from '../src/core/memo.js'
import { commissionOf, newBooks, revalue, type Books, type PositionBook } from './lib/books.js'
import { fillPrice, protectiveExit } from './lib/brackets.js'
import { commandStatus } from './lib/command-status.js'
import { entryFill, slipped, stopTouched, type EntryFill, type EntryOrder } from './lib/entry-orders.js'
import {
  append,
  applyPosting,
  baseAt,
  baseBooks,
  baseIndex,
  behind,
  fold,
  insert,
  markBar,
  mergeBars,
  LEDGER_DEPTH,
  copyBooks,
  newLedger,
  symbolsFrom,
  trim,
  foldSeqOf,
  type FoldEvent,
  type Ledger,
  type Posting,
} from './lib/postings.js'

type Order = Message<'trade.order'>

export interface ExecutorState {
  books: Books
  /** symbol → orders waiting for their fill bar. */
  working: Record<string, Order[]>
  /** Entries cash could not cover yet, with the bar they fill on, waiting for due exits. */
  deferred?: { order: Order; bar: Bar; seq: number }[]
  /** Orders partly filled under a volume cap: parts filled so far. */
  parts?: Record<string, number>
  /** Limit/stop entries still working: bars seen since the signal, and whether a stop-limit's stop was touched. */
  resting?: Record<string, { bars: number; triggered: boolean }>
  /** Highest stream sequence handled per input; their sum orders the books' versions (`seq`). */
  cursor: { orders: number; bars: number }
  /** The books as a fold in market time: the latest fills, to fold again from when one lands behind (lib/postings). */
  ledger?: Ledger
}

/**
 * The account's orders and operator commands through one consumer (in the order they were
 * written: a cancel never overtakes the order it cancels), and every bar.
 */
export const accountScope = (account: string): Scope => ({
  key: account,
  inputs: [
    { name: 'orders', stream: 'TRADE', filter: accountFilter(account), accepts: ['trade.order', 'trade.command'] },
    { name: 'bars', stream: 'MD', filter: filterOf('md.bar'), accepts: ['md.bar'] },
  ],
})

/** Emits of one handled message, with the books version each carries. */
class Out {
  readonly emit: Outbound[] = []
  private k = 0
  /** The latest MD position a fill of this message was posted at. */
  at = 0
  /** Fills of this message posted on the bar being handled. */
  onBar = 0
  /** While a fold again publishes: the fold position it publishes from (its points' supersedes_from). */
  refoldFrom: number | undefined
  constructor(
    private readonly base: number,
    /** TRADE position of the last order or command handled: what the points it values knew. */
    readonly orders: number,
  ) {}
  seq(): number {
    // Room for a fold that publishes again a long stretch of points in one step.
    return this.base * 1_048_576 + Math.min(this.k++, 1_048_575)
  }
}

const NONE: readonly Order[] = []

/** A stop or target exit the strategy decided on its bar: it fills on the signal bar itself. */
const protective = (o: Order) => o.intent === 'exit' && o.order_type !== 'market'
/** A limit, stop or stop-limit entry: it may fill on any bar from the next one until it expires. */
const resting = (o: Order) => o.intent === 'entry' && o.order_type !== 'market'
/** The bars an order may fill on: its timeframe's, from the signal bar itself (protective) or the one after. */
const fillsOn = (o: Order, bar: Bar, seq: number) => o.timeframe === bar.timeframe && (protective(o) ? seq >= o.bar_seq : seq > o.bar_seq)
const entryOrderOf = (o: Order): EntryOrder => ({ type: o.order_type, sign: o.side === 'buy' ? 1 : -1, limit: o.limit_price, stop: o.stop_price })

/**
 * The bars an order needs that this executor has already handled (it came after its fill bar: a
 * replay, a restart, a slow risk gate): those of its symbol after its signal bar, up to the last bar
 * handled. A market order needs one; a limit/stop entry up to its validity; a volume cap any number.
 */
function orderLookup(
  state: ExecutorState,
  order: Pick<Order, 'symbol' | 'timeframe' | 'bar_seq' | 'order_type' | 'intent' | 'valid_bars'>,
  account: AccountConfig,
): BarLookup | null {
  const after = protective(order as Order) ? order.bar_seq - 1 : order.bar_seq
  if (after >= state.cursor.bars) return null
  const limit = account.costs.volume_cap_pct !== null ? undefined : resting(order as Order) ? (order.valid_bars ?? 1) : 1
  return { symbol: order.symbol, timeframe: order.timeframe, after, through: state.cursor.bars, ...(limit !== undefined ? { limit } : {}) }
}

/**
 * Handles an order. Whether there is a position to close is decided at the fill bar, like the price:
 * checked on arrival, the answer would depend on how far this executor had got through the bars.
 * Bars it has already handled (`late`, from the lookup) are walked now, in stream order; otherwise
 * the order waits and fills while handling its bar, in bar order with every other fill.
 */
function handleOrder(state: ExecutorState, order: Order, late: readonly FoundBar[], account: AccountConfig, out: Out): void {
  walk(state, order, late, account, out)
}

/** Walks an order (and what a volume cap leaves of it) over bars already handled; the rest waits. */
function walk(state: ExecutorState, order: Order, bars: readonly FoundBar[], account: AccountConfig, out: Out): void {
  let current: Order | undefined = order
  for (const { bar, seq } of bars) {
    if (!current) return
    if (!fillsOn(current, bar, seq)) continue
    if (resting(current)) {
      if (tryResting(state, current, bar, seq, account, out) !== 'waiting') return
      continue
    }
    current = fill(state, current, bar, seq, account, out)
  }
  if (current) (state.working[current.symbol] ??= []).push(current)
}

/** One bar against a limit/stop entry: filled, expired (cancelled), or still waiting. */
function tryResting(state: ExecutorState, order: Order, bar: Bar, seq: number, account: AccountConfig, out: Out): 'filled' | 'expired' | 'waiting' {
  const track = state.resting?.[order.id] ?? { bars: 0, triggered: false }
  const eo = entryOrderOf(order)
  const hit = entryFill(eo, bar, track.triggered)
  if (hit) {
    if (state.resting) delete state.resting[order.id]
    const rest = fill(state, order, bar, seq, account, out, hit)
    if (rest) (state.working[rest.symbol] ??= []).push(rest)
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

export function handleBar(state: ExecutorState, bar: Bar, seq: number, account: AccountConfig, out: Out): void {
  const ledger = state.ledger!
  // Every bar is a position of the fold: a fill posted before it from now on lands behind it.
  ledger.last = foldSeqOf(seq, 0)
  const waiting = state.working[bar.symbol]
  // Most bars find no order waiting: no array for them.
  const due = waiting ? waiting.filter((o) => fillsOn(o, bar, seq)) : NONE
  const held = markBar(state.books, bar)
  if (!held && due.length === 0) return
  const keep = (rest: Order | undefined) => rest && (state.working[rest.symbol] ??= []).push(rest)
  if (due.length) {
    const rest = waiting!.filter((o) => !due.includes(o))
    if (rest.length) state.working[bar.symbol] = rest
    else delete state.working[bar.symbol]
    // At the open first (market orders, exits before entries as they came), then limit/stop entries,
    // then (below) the protective exits within the bar.
    for (const order of due) if (!protective(order) && !resting(order)) keep(fill(state, order, bar, seq, account, out))
    for (const order of due) {
      if (resting(order) && tryResting(state, order, bar, seq, account, out) === 'waiting') (state.working[bar.symbol] ??= []).push(order)
    }
  }
  // The bar's point, when nothing of its symbol filled at its open (a fill's point says the same and
  // more). A stop or target exit is decided on the bar it fills on, after the bar: its fill comes
  // after the point, as when the order reaches the executor after the bar (as it almost always does).
  if (out.onBar === 0 && ledger.dirty === undefined && state.books.positions[bar.symbol]) {
    out.emit.push(barPoint(state.books, account.id, bar, seq, out))
    ledger.last = foldSeqOf(seq, 1)
  }
  for (const order of due) if (protective(order)) keep(fill(state, order, bar, seq, account, out))
  if (due.length) settleDeferred(state, account, out)
}

const barPoint = (b: Books, account: string, bar: Bar, seq: number, out: Out): Outbound => ({
  type: 'trade.portfolio',
  data: portfolio(b, account, portfolioIdPrefix(account) + bar.id, bar.ts, bar.id, bar.correlation_id, foldSeqOf(seq, 1), null, out),
})

/**
 * A fill's point. It supersedes the points after it in the fold that knew fewer orders: in one run
 * there are none, but a run that died before its inputs were acknowledged may have published some
 * (it marked bars before the order came), which the run after it, the order now in before those
 * bars, will not publish again.
 */
const fillPoint = (b: Books, account: string, p: Posting, out: Out): Outbound => ({
  type: 'trade.portfolio',
  data: portfolio(b, account, `pf:${p.fillId}`, p.ts, p.fillId, p.correlation, foldSeqOf(p.at, p.phase), foldSeqOf(p.at, p.phase) + 1, out),
})

/** `pf:${account}:`, built once: the portfolio of a held symbol is published on every bar. */
const portfolioIds = new Memo((account) => `pf:${account}:`)
const portfolioIdPrefix = (account: string): string => portfolioIds.get(account)

/**
 * What a volume cap leaves of an order works on from the next bar of its symbol, at that bar's open
 * (a market order for the rest, whatever the first part was).
 */
function carryOver(order: Order, rest: number, bar: Bar, seq: number): Order {
  return { ...order, ts: bar.ts, bar_seq: seq, qty: rest, order_type: 'market', limit_price: null, stop_price: null, valid_bars: null }
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
  // Filled now, priced at their own bars: posted where the exit that freed the cash was.
  const at = out.at || state.cursor.bars
  for (const { order, bar, seq } of deferred) {
    const rest = fill(state, order, bar, seq, account, out, undefined, at)
    if (rest) (state.working[rest.symbol] ??= []).push(rest)
  }
  if (!state.deferred.length) delete state.deferred
}

/**
 * Fills `order` on `bar` (stream sequence `seq`), or rejects or defers it. Returns what a volume cap
 * leaves of it, to work on the next bar of its symbol. `deferredAt`: an entry cash deferred, filled
 * after the exit posted there.
 */
function fill(
  state: ExecutorState,
  order: Order,
  bar: Bar,
  seq: number,
  account: AccountConfig,
  out: Out,
  entry?: EntryFill,
  deferredAt?: number,
): Order | undefined {
  const b = state.books
  const held = b.positions[order.symbol]
  const sign = order.side === 'buy' ? 1 : -1
  if (order.close_position && (!held || Math.sign(held.qty) === sign)) return reject(order, bar.ts, 'no_position', out)
  const wanted = order.close_position ? Math.abs(held!.qty) : order.qty
  const c: Costs = account.costs
  // Volume cap: a fill takes at most this share of the bar's volume; the rest works on the next bar.
  const cap = account.costs.volume_cap_pct === null ? Infinity : Math.floor(bar.volume * account.costs.volume_cap_pct)
  if (cap <= 0) return carryOver(order, wanted, bar, seq)
  const qty = Math.min(wanted, cap)
  let price: number
  let model: EntryFill['model'] = 'next_open'
  if (entry) {
    price = slipped(entry, sign, c.slippage_bps)
    model = entry.model
  } else if (protective(order)) {
    const side = held!.qty > 0 ? 'long' : 'short'
    const hit = protectiveExit({ stop: held!.stop ?? null, target: held!.target ?? null }, side, bar)
    if (!hit || hit.reason !== order.exit_reason) return reject(order, bar.ts, 'not_triggered', out)
    price = fillPrice(hit.price, sign, hit.order_type, c.slippage_bps)
    model = hit.order_type
  } else {
    price = fillPrice(bar.open, sign, 'market', c.slippage_bps)
  }
  const commission = commissionOf(qty, price, c)
  // An entry needs its notional in cash, long or short (100% margin).
  if (order.intent === 'entry' && qty * price + commission > b.cash) {
    if (exitDue(state, bar.ts)) {
      ;(state.deferred ??= []).push({ order, bar, seq })
      return undefined
    }
    return reject(order, bar.ts, 'insufficient_cash', out)
  }
  // Parts of an order beyond the first (volume cap) get their own ids; the first keeps the plain one.
  const part = state.parts?.[order.id] ?? 0
  const fillId = part === 0 ? `fill:${order.id}` : `fill:${order.id}:${part + 1}`
  let remainder: Order | undefined
  if (qty < wanted) {
    ;(state.parts ??= {})[order.id] = part + 1
    remainder = carryOver(order, wanted - qty, bar, seq)
  } else if (part > 0) delete state.parts![order.id]
  const ledger = state.ledger!
  const posting: Posting = {
    at: deferredAt ?? seq,
    phase: deferredAt !== undefined ? 3 : protective(order) ? 2 : 0,
    n: ledger.n++,
    symbol: order.symbol,
    sign,
    qty,
    price,
    commission,
    ts: bar.ts,
    close: bar.close,
    positionId: `position:${fillId}`,
    timeframe: order.timeframe,
    bracket: order.intent === 'entry' ? order.bracket : null,
    fillId,
    correlation: order.correlation_id,
  }
  const { position, closed } = applyPosting(b, posting)
  out.at = Math.max(out.at, posting.at)
  if (posting.phase === 0 && posting.at === state.cursor.bars) out.onBar++
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
        fill_model: {
          type: model,
          slippage_bps: c.slippage_bps,
          commission_pct: c.commission_pct,
          commission_per_share: c.commission_per_share,
          commission_min: c.commission_min,
          volume_cap_pct: c.volume_cap_pct,
        },
        bar_id: bar.id,
        bar_seq: seq,
        exit_reason: order.intent === 'exit' ? (order.exit_reason ?? 'signal') : null,
        phase5: order.intent === 'entry' ? order.phase5 : null,
        leaves_qty: wanted - qty,
      },
    },
    positionMessage(order, fillId, bar.ts, changed, closed !== null, out.seq()),
  )
  if (closed && position !== closed) out.emit.push(positionMessage(order, fillId, bar.ts, position, false, out.seq()))
  if (ledger.dirty === undefined && !behind(ledger, posting)) {
    out.emit.push(fillPoint(b, order.account, posting, out))
    append(ledger, posting, b)
  } else {
    // Behind bars already folded (or after such a fill): the books are folded again, and their
    // points published, when the scope settles (settleBooks).
    insert(ledger, posting)
    ledger.dirty = Math.min(ledger.dirty ?? posting.at, posting.at)
    if (ledger.partway && ledger.partway.at > ledger.dirty) delete ledger.partway
  }
  return remainder
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

function portfolio(
  b: Books,
  account: string,
  id: string,
  ts: string,
  cause: string,
  correlation: string,
  foldSeq: number,
  supersedes: number | null,
  out: Out,
): Message<'trade.portfolio'> {
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
    seq: out.seq(),
    fold_seq: foldSeq,
    orders_seq: out.orders,
    supersedes_from: out.refoldFrom ?? supersedes,
  }
}

/** Rejects an order on the bar at `ts` (its fill bar): it leaves the book without a fill. */
function reject(order: Order, ts: string, reason: string, out: Out): undefined {
  out.emit.push({
    type: 'trade.order_status',
    data: {
      id: `order-status:${order.id}:rejected`,
      type: 'trade.order_status',
      ts,
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
  return undefined
}

type Command = Message<'trade.command'>

/**
 * An operator's command, ordered with the account's orders: cancel a working order, or close a
 * position at the next bar of its timeframe (an exit order of reason `manual`). Every command ends in
 * a trade.command_status saying what became of it.
 */
export function handleCommand(state: ExecutorState, cmd: Command, late: readonly FoundBar[], account: AccountConfig, out: Out): void {
  // Risk commands travel on the same subject; the risk gate answers them.
  if (cmd.command !== 'cancel_order' && cmd.command !== 'close_position') return
  const status = (ok: boolean, error: string | null, orderId: string | null): void => {
    out.emit.push(commandStatus(cmd, { ok, error, order_id: orderId }))
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
  const order = closeOrder(state, cmd)
  if (!order) return status(false, `no open ${cmd.symbol ?? ''} position`, null)
  if (state.working[order.symbol]?.some((o) => o.close_position && o.strategy_id === 'manual'))
    return status(false, `an order closing ${order.symbol} is already working`, null)
  walk(state, order, late, account, out)
  status(true, null, order.id)
}

/**
 * The order a close_position command places: an exit of the whole position (decided at its fill bar,
 * like every exit), filling on the first bar of the position's timeframe after the stream position
 * the command names (the control plane stamps the symbol's last bar when it writes the command).
 * Null when there is neither a position nor an entry working on the symbol.
 */
function closeOrder(state: ExecutorState, cmd: Command): Order | null {
  const symbol = cmd.symbol ?? ''
  const held = state.books.positions[symbol]
  const entry = state.working[symbol]?.find((o) => o.intent === 'entry') ?? state.deferred?.find((d) => d.order.symbol === symbol)?.order
  if (!held && !entry) return null
  const sign = held ? Math.sign(held.qty) : entry!.side === 'buy' ? 1 : -1
  return {
    id: `order:${cmd.id}`,
    type: 'trade.order',
    ts: cmd.ts,
    causation_id: cmd.id,
    correlation_id: cmd.correlation_id,
    account: cmd.account,
    strategy_id: 'manual',
    symbol,
    side: sign > 0 ? 'sell' : 'buy',
    intent: 'exit',
    qty: held ? Math.abs(held.qty) : entry!.qty,
    idea_id: cmd.id,
    timeframe: held?.timeframe ?? entry!.timeframe,
    order_type: 'market',
    exit_reason: 'manual',
    limit_price: null,
    stop_price: null,
    valid_bars: null,
    reduce_only: true,
    close_position: true,
    ref_price: state.books.marks[symbol]?.price ?? held?.avg_price ?? entry!.ref_price,
    // Without a stamp (a command written by hand) the close follows the bars this executor has seen.
    bar_seq: cmd.bar_seq ?? state.cursor.bars,
    bracket: null,
    phase5: null,
  }
}

function cancelled(order: Order, cmd: Command, out: Out): void {
  cancel(order, cmd.ts, cmd.id, `cancelled by ${cmd.requested_by}`, out)
}

function cancel(order: Order, ts: string, cause: string, reason: string, out: Out): void {
  out.emit.push({
    type: 'trade.order_status',
    data: {
      id: `order-status:${order.id}:cancelled`,
      type: 'trade.order_status',
      ts,
      causation_id: cause,
      correlation_id: order.correlation_id,
      account: order.account,
      order_id: order.id,
      idea_id: order.idea_id,
      symbol: order.symbol,
      status: 'cancelled',
      reason,
    },
  })
}

/** What handling `input` needs from the stream: the bars an order (or a close) placed late must walk. */
export function executorLookup(state: ExecutorState, input: Inbound, account: AccountConfig): BarLookup[] | null {
  let order: Order | null = null
  if (input.type === 'trade.order') order = input.data
  else if (input.type === 'trade.command' && input.data.command === 'close_position') order = closeOrder(state, input.data)
  const l = order && orderLookup(state, order, account)
  return l ? [l] : null
}

/**
 * How far behind the bars a late fill may leave the books before they are folded again at once
 * (MD positions), and how many fills may wait: a replay running far ahead of its orders keeps at
 * most this much unpublished.
 */
const SETTLE_SPAN = 50_000
const SETTLE_FILLS = 4 * LEDGER_DEPTH
/**
 * After how long without a message the books are folded again, as far as the orders have come (the
 * latest signal bar of an order handled: what an order still to come fills after, from a strategy
 * scope that sends its ideas in bar order), and all the way (an order could still come for a bar
 * marked, but a second without one says the replay, or the burst, is over). While orders keep
 * coming behind bars marked long before, each fold publishes only what the orders have passed.
 */
const SETTLE_SOON_MS = 50
const SETTLE_SOON_SPAN = 2_000
const SETTLE_ALL_MS = 1_000

/**
 * After a rebuild replayed messages onto the state `before`: points of the bars after it may not
 * have been published by the run that first handled them (it may have been waiting to fold its
 * books again, and the replay, in its own interleaving, was not), so they are folded and published
 * again from there.
 */
function replayedBooks(state: ExecutorState, before: ExecutorState): ExecutorState {
  const ledger = (state.ledger ??= newLedger())
  const from = before.cursor.bars + 1
  if (state.cursor.bars >= from) ledger.dirty = Math.min(ledger.dirty ?? from, from)
  return state
}

/** Whether so much waits that the books are folded again all the way, at once. */
const overdue = (state: ExecutorState): boolean => state.cursor.bars - state.ledger!.dirty! > SETTLE_SPAN || state.ledger!.postings.length > SETTLE_FILLS

/**
 * After how many ms without a message the books are folded again (null: nothing to fold). As far as
 * the orders have come: after a moment, or at once once they have come SETTLE_SOON_SPAN further
 * (a steady flow of bars and orders is never idle); all the way: after a second.
 */
function settleDue(state: ExecutorState): number | null {
  const ledger = state.ledger
  if (ledger?.dirty === undefined) return null
  if (overdue(state)) return 0
  const ahead = reached(state) - ledger.dirty
  return ahead > 0 ? (ahead >= SETTLE_SOON_SPAN ? 0 : SETTLE_SOON_MS) : SETTLE_ALL_MS
}

/**
 * As far as a fold may publish before it knows the orders are all in (exclusive): the orders'
 * frontier, but not past the bars handled (orders may run ahead of a bar input catching up).
 */
const reached = (state: ExecutorState): number => Math.min(state.ledger!.frontier ?? 0, state.cursor.bars + 1)

/** Up to which MD position (exclusive) a fold after `idleMs` without a message publishes: as far as the orders have come, or all. */
function settledUpTo(state: ExecutorState, idleMs: number): number {
  if (overdue(state) || idleMs >= SETTLE_ALL_MS || reached(state) <= state.ledger!.dirty!) return Number.POSITIVE_INFINITY
  return reached(state)
}

/**
 * Where a fold again starts: the books as far as the last partial fold went (`partway`), or those
 * kept after the last fill before the held-back position (−1: the opening books); the MD position
 * its bars come after, the fills it takes, the symbols it may hold. Null: nothing kept to start from.
 */
function originOf(ledger: Ledger): { k: number | 'partway'; after: number; postings: Posting[]; symbols: Set<string> } | null {
  const dirty = ledger.dirty!
  const partway = ledger.partway
  if (partway && partway.at <= dirty) {
    const postings = ledger.postings.filter((p) => p.at >= partway.at)
    return { k: 'partway', after: partway.at - 1, postings, symbols: new Set([...Object.keys(partway.books.positions), ...postings.map((p) => p.symbol)]) }
  }
  const k = baseIndex(ledger, dirty)
  if (k === null) return null
  return { k, after: baseAt(ledger, k), postings: ledger.postings.slice(k + 1), symbols: symbolsFrom(ledger, k) }
}

/** The bars folding the books again reads: every symbol that may be held since its origin, as far as it publishes. */
function settleLookup(state: ExecutorState, idleMs: number): BarLookup[] {
  const ledger = state.ledger
  if (ledger?.dirty === undefined) return []
  const origin = originOf(ledger)
  if (!origin) return []
  const through = Math.min(state.cursor.bars, settledUpTo(state, idleMs) - 1)
  return [...origin.symbols].sort().map((symbol) => ({ symbol, after: origin.after, through }))
}

/**
 * Folds the books again from its origin over the bars looked up and every fill since, and publishes
 * every point from the held-back position on, each saying so (`supersedes_from`): any point of the
 * account there that knew fewer orders is withdrawn — those this fold makes again, and those that no
 * longer exist (a position a late exit closed held nothing there), even ones a run that died before
 * its inputs were acknowledged had published. A fold all the way leaves its books as the state; one
 * as far as the orders have come keeps its books there (`partway`) for the next. Called between
 * messages (ActorDef.settle): one fold for every late fill since the last, however many.
 */
function settleBooks(state: ExecutorState, account: AccountConfig, found: Found, idleMs: number): Step<ExecutorState> {
  const ledger = state.ledger
  if (ledger?.dirty === undefined) return { state }
  const from = ledger.dirty
  const upTo = settledUpTo(state, idleMs)
  const partly = upTo !== Number.POSITIVE_INFINITY
  const c = state.cursor
  const out = new Out(c.orders + c.bars, c.orders)
  const origin = originOf(ledger)
  if (!origin) {
    // Nothing kept to fold again from (more than LEDGER_DEPTH fills late): each late fill's point on
    // the books as they are, and a ledger that starts here.
    for (const p of ledger.postings) if (!p.after) out.emit.push(fillPoint(state.books, account.id, p, out))
    ledger.postings = []
    ledger.trimmed = true
    // Later late fills fold again from here, the books as they now are after every bar handled.
    ledger.base = { at: c.bars, books: copyBooks(state.books) }
    ledger.last = foldSeqOf(c.bars, 3)
    delete ledger.dirty
    delete ledger.partway
    return { state, emit: out.emit }
  }
  const books = origin.k === 'partway' ? copyBooks(ledger.partway!.books) : baseBooks(ledger, origin.k, account.starting_cash)
  let last = 0
  out.refoldFrom = foldSeqOf(from, 0)
  const postings = partly ? origin.postings.filter((p) => p.at < upTo) : origin.postings
  fold(books, postings, mergeBars(found.map((f) => f.bars)), (event, key, folded) => {
    last = foldSeqOf(key[0], key[1])
    // Every event is valued (the valuation moves the peak and the day); the points from `from` on published.
    if (key[0] >= from) out.emit.push(pointOf(event, folded, account, out))
    else revalue(folded, event.kind === 'bar' ? event.bar.ts : event.posting.ts)
  })
  if (partly) {
    ledger.dirty = upTo
    ledger.partway = { at: upTo, books }
  } else {
    state.books = books
    ledger.last = Math.max(ledger.last, last)
    delete ledger.dirty
    delete ledger.partway
  }
  trim(ledger)
  return out.emit.length ? { state, emit: out.emit } : { state }
}

/** The point a fold event makes on the fold's books. */
const pointOf = (event: FoldEvent, books: Books, account: AccountConfig, out: Out): Outbound =>
  event.kind === 'bar' ? barPoint(books, account.id, event.bar, event.seq, out) : fillPoint(books, account.id, event.posting, out)

/** One message through the executor. */
export function handleExecution(state: ExecutorState, input: Inbound, account: AccountConfig, found: Found = NO_BARS): Step<ExecutorState> {
  const c = state.cursor
  const ledger = (state.ledger ??= newLedger())
  if (input.type === 'md.bar') c.bars = Math.max(c.bars, input.seq)
  else c.orders = Math.max(c.orders, input.seq)
  const out = new Out(c.orders + c.bars, c.orders)
  if (input.type === 'trade.order') {
    // The furthest signal bar an order has come for: what later orders of a scope fill after.
    ledger.frontier = Math.max(ledger.frontier ?? 0, input.data.bar_seq)
    handleOrder(state, input.data, found[0]?.bars ?? NONE_FOUND, account, out)
  } else if (input.type === 'md.bar') handleBar(state, input.data, input.seq, account, out)
  else if (input.type === 'trade.command') handleCommand(state, input.data, found[0]?.bars ?? NONE_FOUND, account, out)
  else return { state, outcome: 'skipped' }
  settleDeferred(state, account, out)
  trim(ledger)
  return out.emit.length ? { state, emit: out.emit } : { state }
}

const NO_BARS: Found = []
const NONE_FOUND: readonly FoundBar[] = []

export const paperExecutor = (accounts: AccountConfig[]) => {
  const byId = new Map(accounts.map((a) => [a.id, a]))
  return defineActor<ExecutorState>({
    name: 'paper-executor',
    ordered: true,
    // 2: orders and commands through one consumer; fills decided by stream position.
    // 3: the ledger (postings to fold the books again from); marks only of held symbols.
    stateVersion: 3,
    scopes: accounts.map((a) => accountScope(a.id)),
    init: (scope) => ({ books: newBooks(byId.get(scope.key)!.starting_cash), working: {}, cursor: { orders: 0, bars: 0 }, ledger: newLedger() }),
    lookup: (state, input, scope) => executorLookup(state, input, byId.get(scope.key)!),
    handle: (state, input, scope, found) => handleExecution(state, input, byId.get(scope.key)!, found),
    // Books a late fill left to fold again: unpublished points, which `replay --wait` waits for.
    held: (state) => (state.ledger?.dirty === undefined ? 0 : 1),
    settle: {
      due: settleDue,
      lookup: (state, _scope, idleMs) => settleLookup(state, idleMs),
      run: (state, scope, found, idleMs) => settleBooks(state, byId.get(scope.key)!, found, idleMs),
      replayed: replayedBooks,
    },
  })
}
