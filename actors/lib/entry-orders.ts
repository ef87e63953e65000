// Entry orders other than market (SPEC §5.4, issue 4): limit, stop and stop-limit, filled when a bar
// trades through them — decided by data. The strategy follows its own pending entry with these
// functions and the executor fills it with them, so both agree on the bar and the price. Pure.
import { fillPrice } from './brackets.js'

type EntryType = 'market' | 'limit' | 'stop' | 'stop_limit'

export interface EntryOrder {
  type: EntryType
  /** +1 buy (a long entry), −1 sell (a short entry). */
  sign: 1 | -1
  limit: number | null
  stop: number | null
}

interface Ohlc {
  open: number
  high: number
  low: number
}

export interface EntryFill {
  /** Before slippage: the open when the bar gaps through the level, else the level. */
  price: number
  /** How it filled: a stop fill pays slippage, a limit fill never fills worse than its limit. */
  model: 'next_open' | 'limit' | 'stop' | 'stop_limit'
}

/**
 * Whether `bar` fills the order. A limit buy at L fills at the open when the open is at or below L,
 * else at L when the low reaches it (sells mirrored); a stop buy at S fills at the open when the bar
 * gaps to or above S, else at S when the high reaches it (sells mirrored). A stop-limit becomes a
 * limit once its stop is touched (`triggered` carries that across bars): triggered at the open it
 * fills like the limit on that bar; triggered within the bar it fills at the stop, which its limit allows.
 */
export function entryFill(o: EntryOrder, bar: Ohlc, triggered = false): EntryFill | null {
  const buy = o.sign > 0
  if (o.type === 'market') return { price: bar.open, model: 'next_open' }
  if (o.type === 'limit' || (o.type === 'stop_limit' && triggered)) {
    const l = o.limit!
    const model = o.type === 'limit' ? 'limit' : 'stop_limit'
    if (buy ? bar.open <= l : bar.open >= l) return { price: bar.open, model }
    if (buy ? bar.low <= l : bar.high >= l) return { price: l, model }
    return null
  }
  const s = o.stop!
  const gap = buy ? bar.open >= s : bar.open <= s
  const touched = buy ? bar.high >= s : bar.low <= s
  if (o.type === 'stop') return gap ? { price: bar.open, model: 'stop' } : touched ? { price: s, model: 'stop' } : null
  // stop_limit, not yet triggered
  if (gap) return entryFill(o, bar, true)
  return touched ? { price: s, model: 'stop_limit' } : null
}

/** Whether a stop-limit's stop is touched on `bar` (it then works as a limit from that bar on). */
export function stopTouched(o: EntryOrder, bar: Ohlc): boolean {
  return o.stop !== null && (o.sign > 0 ? bar.high >= o.stop : bar.low <= o.stop)
}

/** Fill price after slippage: stops and market orders pay it, limit and stop-limit fills do not. */
export function slipped(fill: EntryFill, sign: 1 | -1, slippageBps: number): number {
  return fillPrice(fill.price, sign, fill.model === 'limit' || fill.model === 'stop_limit' ? 'limit' : 'market', slippageBps)
}
