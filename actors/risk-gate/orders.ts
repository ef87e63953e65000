// A passed idea becomes an order: counted against the day's entries, published, and followed in the
// ledger until it settles (its cash reserved meanwhile).
import type { Outbound } from '../../src/core/actor.js'
import type { AccountConfig } from '../../src/core/config-file/accounts.js'
import { follow, type Outstanding } from '../lib/ledger.js'
import { orderFor } from './messages.js'
import { estimatedCost } from './sizing.js'
import type { Idea, RiskState, Sized } from './state.js'

/**
 * Emits the order of a passed idea and follows it until it settles. It fills on the first bar of its
 * symbol after `barSeq` — the idea's bar, or for an approval the bar the books had reached by then.
 */
export function place(state: RiskState, idea: Idea, sized: Sized, account: AccountConfig, emit: Outbound[], barSeq = idea.bar_seq): void {
  if (idea.intent === 'entry') {
    const day = idea.ts.slice(0, 10)
    state.today = state.today?.day === day ? { day, orders: state.today.orders + 1 } : { day, orders: 1 }
  }
  const order = orderFor(idea, sized, barSeq)
  emit.push({ type: 'trade.order', data: order })
  const kind: Outstanding['kind'] =
    idea.intent === 'exit' ? (idea.order_type === 'market' ? 'market' : 'protective') : idea.order_type === 'market' ? 'market' : 'resting'
  follow(state.ledger, order.id, {
    symbol: idea.symbol,
    strategy: idea.strategy_id,
    timeframe: idea.timeframe,
    intent: idea.intent,
    signalSeq: barSeq,
    signalTs: idea.ts,
    kind,
    ...(kind === 'resting'
      ? {
          entry: {
            order: { type: idea.order_type, sign: idea.side === 'buy' ? 1 : -1, limit: idea.limit_price, stop: idea.stop_price },
            valid: idea.valid_bars ?? 1,
            seen: 0,
            triggered: false,
          },
        }
      : {}),
    qty: sized.qty,
    filled: 0,
    reserve: idea.intent === 'entry' ? estimatedCost(idea, sized.qty, account) : 0,
  })
}
