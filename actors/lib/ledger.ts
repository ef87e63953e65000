// The risk gate's view of an account's books, in market time. The MD stream is the clock: every
// idea names its bar's position in it (bar_seq), and the gate judges the idea against the books as
// of that position — every fill on a bar at or before it and none after, every held symbol marked at
// its last close at or before it. The executor's fills reach the gate whenever they do (they carry
// the position of the bar they filled on); the ledger keeps them, and the bars it looked up, until
// the books are advanced past them, in stream order. So what an idea sees does not depend on how
// fast the executor ran, on a restart, or on how its messages interleave with the ideas.
//
// To advance to position n, no order may still settle (fill, be rejected, expire) on a bar at or
// before n without the ledger having heard of it: `complete` tells, from the bars looked up — a
// market order settles on the first bar of its symbol after its signal bar, a stop/target exit on its
// signal bar, a limit/stop entry on the bar that triggers it or on which it expires. Pure.
import type { FoundBar } from '../../src/core/actor.js'
import type { Message } from '../../src/core/contracts.js'
import { applyFill, mark, newBooks, revalue, valuation, type Books } from './books.js'
import { entryFill, stopTouched, type EntryOrder } from './entry-orders.js'

type Fill = Message<'trade.fill'>

/** An order the gate let through, followed until the bar it settles on is behind the books. */
export interface Outstanding {
  symbol: string
  strategy: string
  timeframe: string
  intent: 'entry' | 'exit'
  /** MD position of the bar it was decided on (or, for what a volume cap left, of the last part's bar). */
  signalSeq: number
  signalTs: string
  kind: 'market' | 'protective' | 'resting'
  /** A limit/stop entry: its prices, how many bars it works, and its progress over the bars seen. */
  entry?: { order: EntryOrder; valid: number; seen: number; triggered: boolean }
  qty: number
  filled: number
  /** Cash set aside for an entry (its estimated cost). */
  reserve: number
  /** MD position of the bar it settles on, once the bars looked up show it. */
  settleSeq?: number
  /** The executor said how it settled (filled in full, rejected, expired, cancelled). */
  settled?: boolean
}

export interface Ledger {
  books: Books
  /** MD position the books are as of: every fill and bar at or before it is applied. */
  asOf: number
  /** Bar time of the last bar or fill applied. */
  asOfTs: string | null
  /** symbol → bars looked up after `asOf`, in stream order. */
  bars: Record<string, FoundBar[]>
  /** symbol → MD position its bars have been looked up to. */
  fetched: Record<string, number>
  /** Fills received and not yet applied (their bar is after `asOf`), in arrival order. */
  fills: Fill[]
  /** Orders by id, until they settled on a bar behind the books. */
  orders: Record<string, Outstanding>
  /** symbol → strategy whose entry opened the position, and the timeframe it trades on. */
  owners: Record<string, { strategy: string; timeframe: string }>
}

export const newLedger = (cash: number): Ledger => ({ books: newBooks(cash), asOf: 0, asOfTs: null, bars: {}, fetched: {}, fills: [], orders: {}, owners: {} })

/** Bars a lookup found: kept until the books pass them; each order's settling bar noted. */
export function absorbBars(l: Ledger, symbol: string, through: number, found: readonly FoundBar[]): void {
  const list = (l.bars[symbol] ??= [])
  const from = l.fetched[symbol] ?? 0
  // The symbol's orders, gathered once: a held symbol's bars come a few hundred at a time.
  let mine: Outstanding[] | undefined
  for (const id in l.orders) if (l.orders[id]!.symbol === symbol) (mine ??= []).push(l.orders[id]!)
  for (const f of found) {
    if (f.seq <= from || f.seq <= l.asOf) continue
    list.push(f)
    if (mine) for (const o of mine) track(o, f)
  }
  if (!list.length) delete l.bars[symbol]
  if (through > from) l.fetched[symbol] = through
}

/** Moves an order's progress over one more bar of its symbol, and notes the bar it settles on. */
function track(o: Outstanding, f: FoundBar): void {
  if (o.settleSeq !== undefined || f.bar.timeframe !== o.timeframe) return
  if (o.kind === 'protective') {
    if (f.seq === o.signalSeq) o.settleSeq = f.seq
    return
  }
  if (f.seq <= o.signalSeq) return
  if (o.kind === 'market' || !o.entry) {
    o.settleSeq = f.seq
    return
  }
  const e = o.entry
  if (entryFill(e.order, f.bar, e.triggered)) o.settleSeq = f.seq
  else {
    if (e.order.type === 'stop_limit' && stopTouched(e.order, f.bar)) e.triggered = true
    if (++e.seen >= e.valid) o.settleSeq = f.seq // expires on this bar
  }
}

/**
 * Starts following an order; the bars already looked up after its signal tell where it settles. A
 * stop or target exit settles on its own bar — the one the books have just reached — so the ideas
 * after it wait for its fill, which is applied at that bar as soon as it comes.
 */
export function follow(l: Ledger, id: string, o: Outstanding): void {
  l.orders[id] = o
  if (o.kind === 'protective' && o.signalSeq <= l.asOf) o.settleSeq = o.signalSeq
  for (const f of l.bars[o.symbol] ?? []) track(o, f)
}

/**
 * A fill from the executor: its order is one part nearer settled (the executor says what is left of
 * it: a close fills what the account holds then, which may not be what the gate sized it at); the
 * fill waits for its bar.
 */
export function receiveFill(l: Ledger, f: Fill): void {
  const o = l.orders[f.order_id]
  if (o) {
    o.filled += f.qty
    if (f.leaves_qty !== undefined ? f.leaves_qty === 0 : o.filled >= o.qty) o.settled = true
    else if (f.bar_seq >= o.signalSeq) {
      // A volume cap left the rest: a market order for it from the next bar of its symbol.
      o.kind = 'market'
      o.signalSeq = f.bar_seq
      o.signalTs = f.ts
      delete o.settleSeq
      delete o.entry
      for (const b of l.bars[o.symbol] ?? []) track(o, b)
    }
  }
  l.fills.push(f)
}

/**
 * The executor's word that an order left the book without a fill: rejected or expired on its bar,
 * or cancelled by an operator (a command that races the fill; it counts from now).
 */
export function receiveSettlement(l: Ledger, orderId: string): void {
  const o = l.orders[orderId]
  if (!o) return
  o.settled = true
  if (o.settleSeq === undefined) o.settleSeq = l.asOf
}

/**
 * Whether the books can be advanced to MD position n: every order that settles on a bar at or
 * before n has been heard of. An order whose bars have not been looked up that far cannot be told
 * apart from one still working: it holds the books back too.
 */
export function complete(l: Ledger, n: number): boolean {
  for (const o of Object.values(l.orders)) {
    if (o.settled) continue
    if (o.settleSeq !== undefined ? o.settleSeq <= n : (l.fetched[o.symbol] ?? 0) < n) return false
  }
  return true
}

/** What advancing the books reports, event by event, so the gate can judge halts and days. */
export interface AdvanceHooks {
  /** A fill applied; `closedPnl` is the net P&L of the position it closed, if it closed one. */
  filled(f: Fill, closedPnl: number | null): void
  /** The books revalued after a bar of a held symbol or a fill, at bar time `ts`. */
  valued(ts: string, cause: string, v: { equity: number; drawdown: number; daily_pnl: number }): void
}

/**
 * Applies, in stream order, every fill and bar at or before MD position n (a fill before the mark of
 * its own bar: it filled within the bar, the mark is its close), then drops what it applied. With n
 * at the books' own position it applies what settled there since (a stop or target exit's fill).
 */
export function advance(l: Ledger, n: number, hooks: AdvanceHooks): void {
  if (n < l.asOf) n = l.asOf
  const due = l.fills.filter((f) => f.bar_seq <= n)
  if (due.length) l.fills = l.fills.filter((f) => f.bar_seq > n)
  // Fills in stream order of their bars; fills of one bar in the order the executor made them.
  due.sort((a, b) => a.bar_seq - b.bar_seq)
  const bars: FoundBar[] = []
  for (const symbol of Object.keys(l.bars)) {
    const list = l.bars[symbol]!
    let k = 0
    while (k < list.length && list[k]!.seq <= n) bars.push(list[k++]!)
    if (k === list.length) delete l.bars[symbol]
    else if (k) l.bars[symbol] = list.slice(k)
  }
  bars.sort((a, b) => a.seq - b.seq)
  let i = 0
  let j = 0
  while (i < due.length || j < bars.length) {
    if (i < due.length && (j >= bars.length || due[i]!.bar_seq <= bars[j]!.seq)) applyOne(l, due[i++]!, hooks)
    else markOne(l, bars[j++]!, hooks)
  }
  l.asOf = n
  for (const [id, o] of Object.entries(l.orders)) if (o.settled && (o.settleSeq ?? 0) <= n) delete l.orders[id]
}

function applyOne(l: Ledger, f: Fill, hooks: AdvanceHooks): void {
  const b = l.books
  const { position, closed } = applyFill(b, f.symbol, f.side === 'buy' ? 1 : -1, f.qty, f.price, f.commission, f.ts, f.position_id)
  if (closed) delete l.owners[f.symbol]
  if (position !== closed && !l.owners[f.symbol]) {
    const o = l.orders[f.order_id]
    l.owners[f.symbol] = { strategy: f.strategy_id, timeframe: o?.timeframe ?? '1d' }
  }
  if (!l.asOfTs || f.ts > l.asOfTs) l.asOfTs = f.ts
  hooks.filled(f, closed ? closed.realized_pnl : null)
  hooks.valued(f.ts, f.id, revalue(b, f.ts))
}

function markOne(l: Ledger, f: FoundBar, hooks: AdvanceHooks): void {
  const bar = f.bar
  if (!l.asOfTs || bar.ts > l.asOfTs) l.asOfTs = bar.ts
  if (!l.books.positions[bar.symbol]) return
  mark(l.books, bar.symbol, bar.ts, bar.close)
  hooks.valued(bar.ts, bar.id, revalue(l.books, bar.ts))
}

/** The orders that still count as of the books: not settled on a bar behind them. */
export function live(l: Ledger): Outstanding[] {
  return Object.values(l.orders).filter((o) => !(o.settled && (o.settleSeq ?? 0) <= l.asOf))
}

/** The account's equity as of the books, each position at its last close. */
export const equityOf = (l: Ledger): number => valuation(l.books).equity

/**
 * Cash an entry may use as of the books: cash, less what entries still working set aside, plus
 * what exits still working will bring (each position at its last close — a rotation's sale pays
 * for its purchase at the prices it was decided on).
 */
export function availableCash(l: Ledger): number {
  let cash = l.books.cash
  for (const o of live(l)) {
    if (o.intent === 'entry') cash -= o.reserve
    else {
      const p = l.books.positions[o.symbol]
      if (p) cash += p.qty * (l.books.marks[o.symbol]?.price ?? p.avg_price)
    }
  }
  return cash
}

/**
 * Symbols whose bars the books may need up to a later position: held, with an order working, with a
 * fill waiting, or named by an idea or approval still waiting to be judged. Each with the position
 * its bars are needed from.
 */
export function relevantFrom(l: Ledger, waiting: Iterable<{ symbol: string; from: number }>): Map<string, number> {
  const out = new Map<string, number>()
  const need = (symbol: string, from: number) => {
    const at = l.fetched[symbol] ?? from
    const prev = out.get(symbol)
    if (prev === undefined || at < prev) out.set(symbol, at)
  }
  for (const symbol of Object.keys(l.books.positions)) need(symbol, l.asOf)
  for (const o of Object.values(l.orders)) need(o.symbol, o.signalSeq - 1)
  for (const f of l.fills) need(f.symbol, f.bar_seq - 1)
  for (const w of waiting) need(w.symbol, w.from)
  return out
}
