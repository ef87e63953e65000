// Protective exits of a position (SPEC §5.2, §5.4): stop-loss, take-profit and max_bars. The strategy
// uses these functions to decide, on each bar, whether its position's bracket fires (so the exit is an
// idea in the same ordered flow as every other exit, decided by data whatever the executor's lag);
// the executor uses the same functions to price the exit from its own fill price. Pure.
import type { Message } from '../../src/core/contracts.js'

export type Bracket = NonNullable<Message<'trade.idea'>['bracket']>
export type Level = NonNullable<Bracket['stop_loss']>
export type PositionSide = 'long' | 'short'

export interface Levels {
  stop: number | null
  target: number | null
}

/**
 * Stop and target prices from the entry's fill price `fill`. Written the way a trader states them
 * (long stop = fill × (1 − pct), target = fill + rr × |fill − stop|) so that an independent
 * implementation of the same rule lands on the same floating-point number.
 */
export function levelsOf(b: Bracket, side: PositionSide, fill: number): Levels {
  const long = side === 'long'
  let stop: number | null = null
  const s = b.stop_loss
  if (s) {
    if (s.kind === 'pct') stop = long ? fill * (1 - s.value) : fill * (1 + s.value)
    else if (s.kind === 'distance') stop = long ? fill - s.value : fill + s.value
    else if (s.kind === 'price') stop = s.value
  }
  let target: number | null = null
  const t = b.take_profit
  if (t) {
    if (t.kind === 'pct') target = long ? fill * (1 + t.value) : fill * (1 - t.value)
    else if (t.kind === 'rr' && stop !== null) target = long ? fill + t.value * Math.abs(fill - stop) : fill - t.value * Math.abs(fill - stop)
  }
  return { stop: stop !== null && stop > 0 ? stop : null, target: target !== null && target > 0 ? target : null }
}

interface ProtectiveExit {
  reason: 'stop_loss' | 'take_profit'
  /** stop: a stop order (slippage applies); limit: a take-profit limit (never worse than its level). */
  order_type: 'stop' | 'limit'
  /** The price before slippage: the level, or the open when the bar gaps through it. */
  price: number
}

interface Ohlc {
  open: number
  high: number
  low: number
}

/**
 * Whether a bar (after the fill bar) takes the position out. A gap through a level fills at the open;
 * a bar touching both the stop and the target is assumed to hit the stop first.
 */
export function protectiveExit(levels: Levels, side: PositionSide, bar: Ohlc): ProtectiveExit | null {
  const { stop, target } = levels
  if (side === 'long') {
    if (stop !== null) {
      if (bar.open <= stop) return { reason: 'stop_loss', order_type: 'stop', price: bar.open }
      if (bar.low <= stop) return { reason: 'stop_loss', order_type: 'stop', price: stop }
    }
    if (target !== null) {
      if (bar.open >= target) return { reason: 'take_profit', order_type: 'limit', price: bar.open }
      if (bar.high >= target) return { reason: 'take_profit', order_type: 'limit', price: target }
    }
  } else {
    if (stop !== null) {
      if (bar.open >= stop) return { reason: 'stop_loss', order_type: 'stop', price: bar.open }
      if (bar.high >= stop) return { reason: 'stop_loss', order_type: 'stop', price: stop }
    }
    if (target !== null) {
      if (bar.open <= target) return { reason: 'take_profit', order_type: 'limit', price: bar.open }
      if (bar.low <= target) return { reason: 'take_profit', order_type: 'limit', price: target }
    }
  }
  return null
}

/** The fill price of an order of direction `sign` (+1 buy, −1 sell): slippage against the trader, except on limits. */
export function fillPrice(base: number, sign: 1 | -1, orderType: 'market' | 'stop' | 'limit', slippageBps: number): number {
  return orderType === 'limit' ? base : base * (1 + (sign * slippageBps) / 10_000)
}

/** Stop distance at a reference price (the signal close): what risk_pct sizing and rr_expectation use. */
export function stopDistance(level: Level, price: number): number | null {
  if (level.kind === 'pct') return price * level.value
  if (level.kind === 'distance') return level.value
  if (level.kind === 'price') return Math.abs(price - level.value)
  return null
}

/** Reward distance at a reference price, given the stop distance. */
export function targetDistance(level: Level, price: number, stop: number | null): number | null {
  if (level.kind === 'pct') return price * level.value
  if (level.kind === 'rr') return stop === null ? null : level.value * stop
  return null
}
