// Where a risk limit is judged: one function that turns an idea, the books as of its bar and the
// account's risk config into a verdict. Add a risk field here (and in the config schema).
import type { AccountConfig } from '../../src/core/config-file/accounts.js'
import { availableCash, live } from '../lib/ledger.js'
import { CASH_GAP_ALLOWANCE, estimatedCost, round } from './sizing.js'
import type { Idea, RiskState, Sized, Verdict } from './state.js'

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
  if (state.disabled?.[idea.strategy_id] !== undefined)
    return reject('strategy_disabled', `strategy ${idea.strategy_id} was disabled by ${state.disabled[idea.strategy_id]}`)
  if (state.halted)
    return {
      status: 'halted_by_risk',
      action: 'risk_rejected',
      result: `fail:halted:${state.last_halt_reason ?? 'manual'}`,
      rationale: `trading is halted (${state.last_halt_reason ?? 'manual'})`,
    }
  if (!approved) {
    if (!risk.ai_trading_enabled)
      return {
        status: 'needs_approval',
        action: 'ai_proposed',
        result: 'approval:ai_trading_disabled',
        rationale: 'AI trading is disabled: a person must approve entries',
      }
    if (idea.confidence < risk.min_confidence_threshold) {
      return {
        status: 'needs_approval',
        action: 'ai_proposed',
        result: 'approval:min_confidence',
        rationale: `confidence ${idea.confidence} is below ${risk.min_confidence_threshold}`,
      }
    }
    if (watchlist && !watchlist.has(idea.symbol) && !risk.allow_off_watchlist_autotrade) {
      return {
        status: 'needs_approval',
        action: 'ai_proposed',
        result: 'approval:off_watchlist',
        rationale: `${idea.symbol} is not on strategy ${idea.strategy_id}'s watchlist`,
      }
    }
  }
  if (sized.qty <= 0) return reject('size_zero', `sizing ${idea.sizing?.method ?? 'qty'} gives less than one unit at ${idea.price}`)
  if (risk.max_lot_size !== null && sized.qty > risk.max_lot_size) return reject('max_lot_size', `qty ${sized.qty} exceeds max_lot_size ${risk.max_lot_size}`)
  if (risk.max_notional_per_order !== null && sized.qty * idea.price > risk.max_notional_per_order) {
    return reject('max_notional_per_order', `notional ${round(sized.qty * idea.price)} exceeds max_notional_per_order ${risk.max_notional_per_order}`)
  }
  const today = state.today?.day === idea.ts.slice(0, 10) ? state.today.orders : 0
  if (risk.max_orders_per_day !== null && today >= risk.max_orders_per_day)
    return reject('max_orders_per_day', `${today} entries passed today reach max_orders_per_day ${risk.max_orders_per_day}`)
  const pending = live(state.ledger)
  const positions = state.ledger.books.positions
  const open = Object.keys(positions).length
  const entries = pending.filter((o) => o.intent === 'entry').length
  const closing = pending.filter((o) => o.intent === 'exit').length
  const concurrent = open + entries - closing
  if (risk.max_concurrent_trades !== null && concurrent >= risk.max_concurrent_trades) {
    return reject(
      'max_concurrent_trades',
      `${open} open positions + ${entries} working entries - ${closing} closing reach max_concurrent_trades ${risk.max_concurrent_trades}`,
    )
  }
  if (idea.max_positions !== null) {
    const mine = (o: { strategy: string }) => o.strategy === idea.strategy_id
    const owners = Object.keys(positions).map((symbol) => ({ strategy: state.ledger.owners[symbol]?.strategy ?? '' }))
    const held =
      owners.filter(mine).length + pending.filter((o) => mine(o) && o.intent === 'entry').length - pending.filter((o) => mine(o) && o.intent === 'exit').length
    if (held >= idea.max_positions)
      return reject('max_concurrent_positions', `strategy ${idea.strategy_id} holds ${held} positions, its risk_caps allow ${idea.max_positions}`)
  }
  const cost = estimatedCost(idea, sized.qty, account)
  const available = availableCash(state.ledger)
  if (cost * (1 - CASH_GAP_ALLOWANCE) > available)
    return reject('insufficient_cash', `estimated cost ${round(cost)} exceeds available cash ${round(available)}`)
  return { status: 'auto_executed', action: 'ai_auto_executed', result: 'pass', rationale: 'all limits pass' }
}
