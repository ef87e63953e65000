// An independent, deliberately naive reference broker for ONE symbol, ONE strategy, ONE account.
//
// The integration tests compare the trading daemon (paperd) against this file. It deliberately
// shares no code with paperd: nothing under actors/ or src/ is imported (only the whole-array
// indicator references in reference-indicators.ts, themselves written independently, are reused).
// It is a plain loop over the bars, written straight from the rules:
//
//   * every indicator is computed over the whole series first (no streaming state);
//   * conditions are evaluated at the close of bar i with three-valued logic (a missing value makes
//     a comparison UNKNOWN; only TRUE fires);
//   * signals become market orders that fill at the next bar's open (exit before entry);
//   * an entry may instead be a limit, stop or stop-limit order priced off the signal close, that
//     works from the next bar for valid_bars bars (the symbol is frozen meanwhile) or expires;
//   * protective exits (max_bars, stop, target) are checked on every bar after the entry bar;
//   * market and stop fills pay slippage, take-profit and limit fills do not (a stop-limit
//     triggered inside a bar fills at its stop price without slippage);
//   * commission = max(min, qty·price·pct + qty·perShare).
//
// Speed and elegance are non-goals: each rule should be readable next to its statement.
import { reference, type Out } from './reference-indicators.js'

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------
export interface RefBar {
  ts: string
  open: number
  high: number
  low: number
  close: number
  volume: number
}

export type RefFillReason = 'entry' | 'signal' | 'stop_loss' | 'take_profit' | 'max_bars' | 'reversal'
export type RefExitReason = Exclude<RefFillReason, 'entry'>

export interface RefFill {
  ts: string
  side: 'buy' | 'sell'
  qty: number
  price: number
  commission: number
  reason: RefFillReason
}

export type RefOperand = string | number
export type RefCond =
  | { gt: [RefOperand, RefOperand] }
  | { gte: [RefOperand, RefOperand] }
  | { lt: [RefOperand, RefOperand] }
  | { lte: [RefOperand, RefOperand] }
  | { eq: [RefOperand, RefOperand] }
  | { crossesAbove: [RefOperand, RefOperand] }
  | { crossesBelow: [RefOperand, RefOperand] }
  | { all: RefCond[] }
  | { any: RefCond[] }
  | { not: RefCond }

export type RefIndicator =
  | { type: 'sma' | 'ema'; period: number; source?: 'open' | 'high' | 'low' | 'close' | 'volume' }
  | { type: 'rsi'; period: number }
  | { type: 'atr'; period: number }
  | { type: 'macd'; fast: number; slow: number; signal: number }
  | { type: 'bbands'; period: number; stddev: number }
  | { type: 'highest' | 'lowest'; period: number; source?: 'open' | 'high' | 'low' | 'close' | 'volume' }

export type RefStopLoss = { pct: number } | { atr: number; indicator: string } | { price: number }
export type RefTakeProfit = { pct: number } | { rr: number }

/**
 * How an entry is placed. Absent or 'market': a market order at the next bar's open. Otherwise the
 * order is priced off the signal close C and works from the next bar for valid_bars bars:
 *   limit      long L = C·(1 − offset_pct),  short L = C·(1 + offset_pct)
 *   stop       long S = C·(1 + offset_pct),  short S = C·(1 − offset_pct)
 *   stop_limit S as for stop; long L = S·(1 + limit_offset_pct), short L = S·(1 − limit_offset_pct)
 */
export interface RefEntryOrder {
  type: 'market' | 'limit' | 'stop' | 'stop_limit'
  offset_pct?: number // default 0
  limit_offset_pct?: number // default 0 (stop_limit only)
  valid_bars?: number // default 1
}

export interface RefConfig {
  cash: number
  costs: { commission_pct: number; commission_per_share: number; commission_min: number; slippage_bps: number }
  indicators: Record<string, RefIndicator>
  entry: { long?: RefCond; short?: RefCond }
  exit: { long?: RefCond; short?: RefCond; stop_loss?: RefStopLoss; take_profit?: RefTakeProfit; max_bars?: number }
  forbidden?: RefCond[]
  rr_expectation?: number
  sizing: { fixed_qty: number } | { pct_equity: number } | { risk_pct: number }
  entry_order?: RefEntryOrder
}

export type RefSide = 'long' | 'short'

export interface RefResult {
  fills: RefFill[]
  cash: number
  position: { side: RefSide; qty: number } | null
  exits: { ts: string; reason: string }[]
  /** Entry orders (limit/stop/stop_limit) cancelled unfilled after valid_bars bars: the ts of that last bar. */
  expired: { ts: string }[]
}

// ---------------------------------------------------------------------------------------------
// Indicator values and operands
// ---------------------------------------------------------------------------------------------
const BAR_FIELDS = ['open', 'high', 'low', 'close', 'volume'] as const
type BarField = (typeof BAR_FIELDS)[number]

/** The spec in the shape reference-indicators.ts expects (same field names as RefIndicator). */
type IndicatorSpecArg = Parameters<typeof reference>[0]

/** Every configured indicator over the whole series, keyed by name; each bar maps output → value. */
function computeIndicators(bars: RefBar[], indicators: Record<string, RefIndicator>): Map<string, Out[]> {
  const out = new Map<string, Out[]>()
  for (const [name, spec] of Object.entries(indicators)) {
    out.set(name, reference(spec as IndicatorSpecArg, bars))
  }
  return out
}

/**
 * The value of an operand at bar i, or undefined when it is missing (indicator not warmed up, or
 * i before the first bar). A plain indicator name reads its single output (key '' in the
 * references); "name.suffix" reads a named output (macd line/signal/hist, bbands upper/middle/lower).
 * Indicator names win over bar fields, so an indicator called "close" would shadow the bar field.
 */
function operandValue(op: RefOperand, i: number, bars: RefBar[], ind: Map<string, Out[]>): number | undefined {
  if (i < 0) return undefined
  if (typeof op === 'number') return op
  let series = ind.get(op)
  let key = ''
  if (series === undefined) {
    const dot = op.lastIndexOf('.')
    if (dot > 0 && ind.has(op.slice(0, dot))) {
      series = ind.get(op.slice(0, dot))
      key = op.slice(dot + 1)
    }
  }
  if (series !== undefined) {
    const values = series[i]
    if (values === undefined) return undefined
    if (!(key in values)) throw new Error(`reference broker: indicator operand "${op}" has no output "${key}"`)
    const v = values[key]
    return v === undefined || Number.isNaN(v) ? undefined : v
  }
  if ((BAR_FIELDS as readonly string[]).includes(op)) return bars[i]![op as BarField]
  throw new Error(`reference broker: unknown operand "${op}"`)
}

// ---------------------------------------------------------------------------------------------
// Three-valued conditions: true, false, or null for UNKNOWN.
// ---------------------------------------------------------------------------------------------
type Tri = boolean | null

function evalCond(c: RefCond, i: number, bars: RefBar[], ind: Map<string, Out[]>): Tri {
  const v = (op: RefOperand, at: number) => operandValue(op, at, bars, ind)
  /** A comparison of the two operands at bar i; UNKNOWN when either is missing. */
  const compare = (ops: [RefOperand, RefOperand], f: (a: number, b: number) => boolean): Tri => {
    const a = v(ops[0], i)
    const b = v(ops[1], i)
    return a === undefined || b === undefined ? null : f(a, b)
  }
  /** A cross needs both operands at bars i−1 and i; any missing value makes it UNKNOWN. */
  const cross = (ops: [RefOperand, RefOperand], above: boolean): Tri => {
    const a0 = v(ops[0], i - 1)
    const b0 = v(ops[1], i - 1)
    const a1 = v(ops[0], i)
    const b1 = v(ops[1], i)
    if (a0 === undefined || b0 === undefined || a1 === undefined || b1 === undefined) return null
    return above ? a0 <= b0 && a1 > b1 : a0 >= b0 && a1 < b1
  }
  if ('gt' in c) return compare(c.gt, (a, b) => a > b)
  if ('gte' in c) return compare(c.gte, (a, b) => a >= b)
  if ('lt' in c) return compare(c.lt, (a, b) => a < b)
  if ('lte' in c) return compare(c.lte, (a, b) => a <= b)
  if ('eq' in c) return compare(c.eq, (a, b) => a === b)
  if ('crossesAbove' in c) return cross(c.crossesAbove, true)
  if ('crossesBelow' in c) return cross(c.crossesBelow, false)
  if ('all' in c) {
    const rs = c.all.map((x) => evalCond(x, i, bars, ind))
    if (rs.includes(false)) return false
    return rs.includes(null) ? null : true
  }
  if ('any' in c) {
    const rs = c.any.map((x) => evalCond(x, i, bars, ind))
    if (rs.includes(true)) return true
    return rs.includes(null) ? null : false
  }
  if ('not' in c) {
    const r = evalCond(c.not, i, bars, ind)
    return r === null ? null : !r
  }
  throw new Error(`reference broker: unknown condition ${JSON.stringify(c)}`)
}

/** Only TRUE fires; an absent condition never fires. */
const fires = (c: RefCond | undefined, i: number, bars: RefBar[], ind: Map<string, Out[]>) => c !== undefined && evalCond(c, i, bars, ind) === true

// ---------------------------------------------------------------------------------------------
// The broker loop
// ---------------------------------------------------------------------------------------------
interface Position {
  side: RefSide
  qty: number
  entryBar: number // bar index whose open filled the entry
  stop: number | undefined
  target: number | undefined
}

interface PendingEntry {
  side: RefSide
  qty: number
  signalBar: number
}

/** A limit / stop / stop-limit entry order working on the bars after its signal bar. */
interface WorkingEntry extends PendingEntry {
  type: 'limit' | 'stop' | 'stop_limit'
  limit: number | undefined // L (limit, stop_limit)
  stop: number | undefined // S (stop, stop_limit)
  triggered: boolean // stop_limit only: the stop has been reached, it is now a limit at L
  barsWorked: number
}

/**
 * The entry order priced off the signal close C (the exact expressions of the rules).
 * long buys, short sells.
 */
function workingEntry(e: PendingEntry, C: number, o: RefEntryOrder): WorkingEntry {
  const type = o.type
  if (type === 'market') throw new Error('reference broker: a market entry does not work over bars')
  const offset_pct = o.offset_pct ?? 0
  const limit_offset_pct = o.limit_offset_pct ?? 0
  let limit: number | undefined
  let stop: number | undefined
  if (type === 'limit') {
    limit = e.side === 'long' ? C * (1 - offset_pct) : C * (1 + offset_pct)
  } else {
    stop = e.side === 'long' ? C * (1 + offset_pct) : C * (1 - offset_pct)
    if (type === 'stop_limit') limit = e.side === 'long' ? stop * (1 + limit_offset_pct) : stop * (1 - limit_offset_pct)
  }
  return { ...e, type, limit, stop, triggered: false, barsWorked: 0 }
}

/**
 * Whether the working order fills on this bar, and at what base price (before slippage); null when
 * it does not. May set w.triggered (stop_limit reached at the open without filling its limit).
 */
function entryOrderFill(w: WorkingEntry, bar: RefBar): { base: number; slipped: boolean } | null {
  const O = bar.open
  const H = bar.high
  const Lo = bar.low
  const buy = w.side === 'long'
  /** limit buy: O ≤ L → O, else Lo ≤ L → L. limit sell: O ≥ L → O, else H ≥ L → L. No slippage. */
  const asLimit = (L: number): { base: number; slipped: boolean } | null => {
    if (buy) {
      if (O <= L) return { base: O, slipped: false }
      if (Lo <= L) return { base: L, slipped: false }
    } else {
      if (O >= L) return { base: O, slipped: false }
      if (H >= L) return { base: L, slipped: false }
    }
    return null
  }
  if (w.type === 'limit') return asLimit(w.limit!)
  const S = w.stop!
  if (w.type === 'stop') {
    // stop buy: O ≥ S → O, else H ≥ S → S. stop sell: O ≤ S → O, else Lo ≤ S → S. Slippage applies.
    if (buy) {
      if (O >= S) return { base: O, slipped: true }
      if (H >= S) return { base: S, slipped: true }
    } else {
      if (O <= S) return { base: O, slipped: true }
      if (Lo <= S) return { base: S, slipped: true }
    }
    return null
  }
  // stop_limit: once triggered, a plain limit at L on every later bar.
  if (w.triggered) return asLimit(w.limit!)
  if (buy ? O >= S : O <= S) {
    // Triggered at the open: on this same bar it fills like the limit, or stays triggered.
    w.triggered = true
    return asLimit(w.limit!)
  }
  // Triggered inside the bar: fills at S, without slippage.
  if (buy ? H >= S : Lo <= S) return { base: S, slipped: false }
  return null
}

export function referenceBroker(bars: RefBar[], cfg: RefConfig): RefResult {
  const ind = computeIndicators(bars, cfg.indicators)
  const costs = cfg.costs
  const stopCfg = cfg.exit.stop_loss
  const targetCfg = cfg.exit.take_profit

  let cash = cfg.cash
  let position: Position | null = null
  const fills: RefFill[] = []
  const exits: { ts: string; reason: string }[] = []
  const expired: { ts: string }[] = []

  const entryOrder = cfg.entry_order
  const marketEntries = entryOrder === undefined || entryOrder.type === 'market'
  const validBars = entryOrder?.valid_bars ?? 1
  if (!marketEntries && !(Number.isInteger(validBars) && validBars >= 1)) {
    throw new Error(`reference broker: entry_order.valid_bars must be a positive integer, got ${validBars}`)
  }

  // Market orders decided at a close, filled at the next bar's open (exit before entry).
  let pendingExit: RefExitReason | null = null
  let pendingEntry: PendingEntry | null = null
  // A limit / stop / stop-limit entry order working from the bar after its signal bar.
  let working: WorkingEntry | null = null

  /** The ATR (or any named indicator's single output) at bar i, for ATR stops. */
  const atrAt = (name: string, i: number) => operandValue(name, i, bars, ind)

  /** Books one fill: direction s = +1 buy, −1 sell; slippage only when asked (not for limits). */
  const fill = (k: number, side: 'buy' | 'sell', qty: number, base: number, slipped: boolean, reason: RefFillReason) => {
    const s = side === 'buy' ? 1 : -1
    const price = slipped ? base * (1 + (s * costs.slippage_bps) / 10000) : base
    const commission = commissionFor(qty, price)
    if (side === 'buy') cash -= qty * price + commission
    else cash += qty * price - commission
    fills.push({ ts: bars[k]!.ts, side, qty, price, commission, reason })
    return price
  }
  const commissionFor = (qty: number, price: number) => Math.max(costs.commission_min, qty * price * costs.commission_pct + qty * costs.commission_per_share)

  /**
   * Fills an entry at bar k at `base` (slipped or not) when the cash covers it and returns the new
   * position, its stop and target measured from the fill price; otherwise skips it silently (null).
   */
  const enter = (k: number, e: PendingEntry, base: number, slipped: boolean): Position | null => {
    const side = e.side === 'long' ? 'buy' : 'sell'
    const s = side === 'buy' ? 1 : -1
    const price = slipped ? base * (1 + (s * costs.slippage_bps) / 10000) : base
    // 100% margin for shorts too: the account must be able to pay the whole notional + commission.
    if (cash >= e.qty * price + commissionFor(e.qty, price)) {
      const F = fill(k, side, e.qty, base, slipped, 'entry')
      return { side: e.side, qty: e.qty, entryBar: k, ...protectiveLevels(e, F) }
    }
    return null
  }

  /** Closes the whole position: a long is sold, a short is bought back. */
  const closePosition = (k: number, base: number, slipped: boolean, reason: RefExitReason) => {
    const p = position!
    fill(k, p.side === 'long' ? 'sell' : 'buy', p.qty, base, slipped, reason)
    exits.push({ ts: bars[k]!.ts, reason })
    position = null
  }

  /**
   * Distance from the signal close C to the stop, used for risk sizing and rr_expectation:
   * pct·C, atr_multiple·ATR at the signal bar, or |C − price|. undefined when there is no stop or
   * the ATR has no value yet.
   */
  const stopDistanceAtSignal = (i: number): number | undefined => {
    if (stopCfg === undefined) return undefined
    const c = bars[i]!.close
    if ('pct' in stopCfg) return stopCfg.pct * c
    if ('atr' in stopCfg) {
      const a = atrAt(stopCfg.indicator, i)
      return a === undefined ? undefined : stopCfg.atr * a
    }
    return Math.abs(c - stopCfg.price)
  }

  for (let k = 0; k < bars.length; k++) {
    const bar = bars[k]!

    // 1. Orders decided at the previous close fill at this open: the exit first, then the entry.
    if (pendingExit !== null && position !== null) closePosition(k, bar.open, true, pendingExit)
    pendingExit = null
    if (pendingEntry !== null && position === null) {
      const e: PendingEntry = pendingEntry
      if (marketEntries) position = enter(k, e, bar.open, true)
      else working = workingEntry(e, bars[e.signalBar]!.close, entryOrder!)
    }
    pendingEntry = null

    // 1b. A working limit / stop / stop-limit entry: it fills on this bar (the rest of the bar then
    //     proceeds as usual), or the bar is skipped entirely (no position, no signals); after the
    //     valid_bars-th bar without a fill it is cancelled. A fill the cash cannot cover ends the
    //     order as a skipped entry, as for market orders, and the bar proceeds.
    if (working !== null) {
      const w: WorkingEntry = working
      w.barsWorked++
      const at = entryOrderFill(w, bar)
      if (at !== null) {
        working = null
        position = enter(k, w, at.base, at.slipped) // flat while the order works
      } else {
        if (w.barsWorked >= validBars) {
          expired.push({ ts: bar.ts })
          working = null
        }
        continue
      }
    }

    // 2. Protective exits, only for a position entered on an earlier bar.
    if (position !== null && position.entryBar < k) {
      const p: Position = position
      if (cfg.exit.max_bars !== undefined && k - p.entryBar === cfg.exit.max_bars) {
        closePosition(k, bar.open, true, 'max_bars')
      } else if (p.side === 'long') {
        // The stop is checked first, so a bar touching both levels exits at the stop.
        if (p.stop !== undefined && bar.open <= p.stop) closePosition(k, bar.open, true, 'stop_loss')
        else if (p.stop !== undefined && bar.low <= p.stop) closePosition(k, p.stop, true, 'stop_loss')
        else if (p.target !== undefined && bar.open >= p.target) closePosition(k, bar.open, false, 'take_profit')
        else if (p.target !== undefined && bar.high >= p.target) closePosition(k, p.target, false, 'take_profit')
      } else {
        if (p.stop !== undefined && bar.open >= p.stop) closePosition(k, bar.open, true, 'stop_loss')
        else if (p.stop !== undefined && bar.high >= p.stop) closePosition(k, p.stop, true, 'stop_loss')
        else if (p.target !== undefined && bar.open <= p.target) closePosition(k, bar.open, false, 'take_profit')
        else if (p.target !== undefined && bar.low <= p.target) closePosition(k, p.target, false, 'take_profit')
      }
    }

    // 3. Exit signal at this close for the position held.
    const held: Position | null = position
    if (held !== null && fires(held.side === 'long' ? cfg.exit.long : cfg.exit.short, k, bars, ind)) {
      pendingExit = 'signal'
    }

    // 4. Entry signal at this close.
    const wantLong = fires(cfg.entry.long, k, bars, ind)
    const wantShort = fires(cfg.entry.short, k, bars, ind)
    if (wantLong === wantShort) continue // neither, or both (contradictory) → no entry
    const want: RefSide = wantLong ? 'long' : 'short'
    if ((cfg.forbidden ?? []).some((c) => fires(c, k, bars, ind))) continue
    // The position as it will be after step 3's exit (if any): a position already being exited
    // counts as flat, so only a position that stays open blocks a same-side entry.
    const after: Position | null = pendingExit !== null ? null : held
    if (after !== null && after.side === want) continue

    const C = bar.close
    const stopDist = stopDistanceAtSignal(k)
    if (stopCfg !== undefined && 'atr' in stopCfg && stopDist === undefined) continue // ATR not warm

    if (cfg.rr_expectation !== undefined && stopDist !== undefined && targetCfg !== undefined) {
      const reward = 'pct' in targetCfg ? targetCfg.pct * C : targetCfg.rr * stopDist
      if (!(reward / stopDist >= cfg.rr_expectation)) continue
    }

    // Sizing at the signal close, with equity marked at C BEFORE any reversal exit fills.
    const equity = cash + (held === null ? 0 : (held.side === 'long' ? 1 : -1) * held.qty * C)
    const floorTol = (x: number) => Math.floor(x + 1e-9 * Math.abs(x))
    let qty: number
    if ('fixed_qty' in cfg.sizing) qty = cfg.sizing.fixed_qty
    else if ('pct_equity' in cfg.sizing) qty = floorTol((cfg.sizing.pct_equity * equity) / C)
    else {
      if (stopDist === undefined || !(stopDist > 0)) continue // risk sizing needs a positive stop distance
      qty = floorTol((cfg.sizing.risk_pct * equity) / stopDist)
    }
    if (!Number.isFinite(qty) || qty <= 0) continue
    if (!('fixed_qty' in cfg.sizing) && qty < 1) continue

    // An opposite position that is not already being exited is closed first (reversal).
    if (after !== null) pendingExit = 'reversal'
    pendingEntry = { side: want, qty, signalBar: k }
  }

  // End of the series: pending and working orders are dropped (not counted as expired); an open
  // position is reported as it is.
  const pos = position as Position | null
  return { fills, cash, position: pos === null ? null : { side: pos.side, qty: pos.qty }, exits, expired }

  /** Stop and target levels, fixed when the entry fills at F (the actual fill price, slipped or not). */
  function protectiveLevels(e: PendingEntry, F: number): { stop: number | undefined; target: number | undefined } {
    const dir = e.side === 'long' ? 1 : -1
    let stop: number | undefined
    if (stopCfg !== undefined) {
      if ('pct' in stopCfg) stop = F * (1 - dir * stopCfg.pct)
      else if ('atr' in stopCfg) stop = F - dir * stopCfg.atr * atrAt(stopCfg.indicator, e.signalBar)!
      else stop = stopCfg.price
    }
    let target: number | undefined
    if (targetCfg !== undefined) {
      if ('pct' in targetCfg) target = F * (1 + dir * targetCfg.pct)
      else if (stop !== undefined) target = F + dir * targetCfg.rr * Math.abs(F - stop) // rr needs a stop
    }
    return { stop, target }
  }
}
