// Account books: cash, average-cost positions (signed quantity: long > 0, short < 0), realized and
// unrealized P&L, peak equity and drawdown. Plain data and pure functions, shared by the executor
// and the backtest. Commission is charged to the position the fill changes, so a position's
// realized P&L is net of every commission it paid, and account realized P&L is their sum.

export interface PositionBook {
  position_id: string
  qty: number
  avg_price: number
  realized_pnl: number
  opened_at: string
  /** Protective levels set by the entry that opened it (null: none). */
  stop?: number | null
  target?: number | null
  /** Timeframe of the order that opened it: a manual close fills on that timeframe's next bar. */
  timeframe?: string
}

export interface Books {
  starting_cash: number
  cash: number
  realized_pnl: number
  peak_equity: number
  trade_count: number
  winning_trades: number
  positions: Record<string, PositionBook>
  /** symbol → last known close and its bar time. */
  marks: Record<string, { ts: string; price: number }>
  /** Bar-time UTC day of the last valuation, and the equity the day started from (daily P&L). */
  day?: string
  day_start_equity?: number
  last_equity?: number
}

export const newBooks = (startingCash: number): Books => ({
  starting_cash: startingCash,
  cash: startingCash,
  realized_pnl: 0,
  peak_equity: startingCash,
  trade_count: 0,
  winning_trades: 0,
  positions: {},
  marks: {},
})

interface FillEffect {
  position: PositionBook
  /** The position this fill closed, if any (it is removed from the books). */
  closed: PositionBook | null
}

/**
 * Applies a fill of `qty` (> 0) at `price` in direction `sign` (+1 buy, −1 sell). A fill larger than
 * an opposite position closes it and opens the remainder the other way.
 */
export function applyFill(b: Books, symbol: string, sign: 1 | -1, qty: number, price: number, commission: number, ts: string, positionId: string): FillEffect {
  // Written as a trader books it (a buy costs notional + commission, a sell brings notional − commission),
  // so the cash of an independent ledger doing the same arithmetic is equal to the last bit.
  b.cash = sign > 0 ? b.cash - (qty * price + commission) : b.cash + (qty * price - commission)
  b.realized_pnl -= commission
  let pos = b.positions[symbol]
  let closed: PositionBook | null = null
  if (!pos) {
    pos = b.positions[symbol] = { position_id: positionId, qty: sign * qty, avg_price: price, realized_pnl: -commission, opened_at: ts }
    return { position: pos, closed }
  }
  pos.realized_pnl -= commission
  if (Math.sign(pos.qty) === sign) {
    const held = Math.abs(pos.qty)
    pos.avg_price = (held * pos.avg_price + qty * price) / (held + qty)
    pos.qty += sign * qty
    return { position: pos, closed }
  }
  const closing = Math.min(qty, Math.abs(pos.qty))
  const pnl = (price - pos.avg_price) * closing * Math.sign(pos.qty)
  pos.realized_pnl += pnl
  b.realized_pnl += pnl
  pos.qty += sign * closing
  if (pos.qty === 0) {
    closed = pos
    delete b.positions[symbol]
    b.trade_count += 1
    if (pos.realized_pnl > 0) b.winning_trades += 1
    const rest = qty - closing
    if (rest > 0) {
      pos = b.positions[symbol] = { position_id: positionId, qty: sign * rest, avg_price: price, realized_pnl: 0, opened_at: ts }
      return { position: pos, closed }
    }
  }
  return { position: pos, closed }
}

function markPrice(b: Books, symbol: string): number | undefined {
  return b.marks[symbol]?.price
}

/** Records a newer close; older bars (late fills looked up from the stream) do not move the mark back. */
export function mark(b: Books, symbol: string, ts: string, price: number): void {
  const m = b.marks[symbol]
  if (!m) b.marks[symbol] = { ts, price }
  else if (ts >= m.ts) {
    // In place: a held symbol is marked on every bar, and nothing keeps a mark but the books.
    m.ts = ts
    m.price = price
  }
}

/**
 * Equity at the latest marks as of bar time `ts`: raises the peak on a new high, and rolls the
 * daily P&L over when `ts` starts a new UTC day (the day starts from the last equity of the one before).
 */
export function revalue(b: Books, ts?: string) {
  const v = valuation(b)
  if (v.equity > b.peak_equity) b.peak_equity = v.equity
  if (ts !== undefined) {
    const day = ts.slice(0, 10)
    // Only forward: a late fill priced on an older bar does not reopen a day already closed.
    if (b.day === undefined || day > b.day) {
      b.day_start_equity = b.last_equity ?? b.starting_cash
      b.day = day
    }
    b.last_equity = v.equity
  }
  return {
    equity: v.equity,
    unrealized: v.unrealized,
    open: v.open,
    drawdown: b.peak_equity - v.equity,
    daily_pnl: v.equity - (b.day_start_equity ?? b.starting_cash),
  }
}

/** Equity, unrealized P&L and open positions at the latest marks, changing nothing (for reads). */
export function valuation(b: Books) {
  let unrealized = 0
  let value = 0
  let open = 0
  // for…in visits a plain object's keys in Object.keys order (so the sums are the same to the bit)
  // without the arrays Object.entries builds on every bar of a held symbol.
  for (const symbol in b.positions) {
    const p = b.positions[symbol]!
    const price = markPrice(b, symbol) ?? p.avg_price
    unrealized += (price - p.avg_price) * p.qty
    value += price * p.qty
    open++
  }
  return { equity: b.cash + value, unrealized, open }
}

export function commissionOf(qty: number, price: number, c: { commission_pct: number; commission_per_share: number; commission_min: number }): number {
  return Math.max(c.commission_min, qty * price * c.commission_pct + qty * c.commission_per_share)
}
