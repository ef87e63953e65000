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
 * symbol after the idea's bar — or, when the books had passed that bar by the time the idea was
 * judged (an approval, or an idea that reached the gate after one of a later bar: ideas of several
 * strategy scopes), after the bar the books had reached. It was judged against those books, and an
 * order settling on a bar behind them would change books that later ideas were already judged on
 * (the executor would fill it in the past, where the gate did not wait for it). A stop or target exit
 * is the exception: it settles on its own bar, and the gate waits for it there (ledger `follow`).
 */
export function place(state: RiskState, idea: Idea, sized: Sized, account: AccountConfig, emit: Outbound[]): void {
  const protective = idea.intent === 'exit' && idea.order_type !== 'market'
  const barSeq = protective ? idea.bar_seq : Math.max(idea.bar_seq, state.ledger.asOf)
  if (idea.intent === 'entry') {
    const day = idea.ts.slice(0, 10)
    state.today = state.today?.day === day ? { day, orders: state.today.orders + 1 } : { day, orders: 1 }
  }
  const order = orderFor(idea, sized, barSeq)
  emit.push({ type: 'trade.order', data: order })
  const kind: Outstanding['kind'] = protective ? 'protective' : idea.order_type === 'market' ? 'market' : 'resting'
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
