// How many units an idea is worth: fixed, a share of equity (capped by the cash the account may
// spend), a risk budget over the stop distance, then the Phase-5 product. Money arithmetic is
// books.ts's; the fill price model is brackets.ts's.
import type { AccountConfig } from '../../src/core/config-file/accounts.js'
import { commissionOf } from '../lib/books.js'
import { fillPrice } from '../lib/brackets.js'
import { availableCash, equityOf } from '../lib/ledger.js'
import { brierAdjustment, dpiEnhancement, floorQty, ngMultiplier, phase5Size } from '../lib/phase5.js'
import type { Idea, RiskState, Sized } from './state.js'

/**
 * The gate estimates an entry's cost at the signal bar's close; the executor makes the exact check
 * at the fill price. So the gate refuses only entries that would need the next open to gap down by
 * more than this fraction to become affordable, and leaves the close calls to the fill.
 */
export const CASH_GAP_ALLOWANCE = 0.1

/** Equity for sizing, as of the idea's bar: cash and every position at its last close. */
const sizingEquity = (state: RiskState): number => equityOf(state.ledger)

export function sizeOf(state: RiskState, idea: Idea, account: AccountConfig): Sized {
  if (idea.intent === 'exit') return { qty: Math.abs(state.ledger.books.positions[idea.symbol]?.qty ?? 0), phase5: null }
  const sizing = idea.sizing
  if (!sizing) return { qty: idea.qty ?? 0, phase5: null }
  const equity = sizingEquity(state)
  let qty: number
  if (sizing.method === 'fixed_qty') qty = sizing.value
  else if (sizing.method === 'pct_equity') qty = floorQty((sizing.value * equity) / idea.price)
  else qty = idea.stop_distance ? floorQty((sizing.value * equity) / idea.stop_distance) : 0
  let phase5: Sized['phase5'] = null
  if (sizing.phase5) {
    phase5 = {
      ng_score: idea.ng_score,
      ng_multiplier: ngMultiplier(idea.ng_score),
      brier_adjustment: brierAdjustment(state.brier),
      dpi_enhancement: dpiEnhancement(idea.dpi, idea.position_side),
    }
    qty = phase5Size({
      base: qty,
      ngMultiplier: phase5.ng_multiplier,
      brierAdjustment: phase5.brier_adjustment,
      dpiEnhancement: phase5.dpi_enhancement,
      equity,
      price: idea.price,
    }).qty
  }
  if (idea.max_qty !== null) qty = Math.min(qty, idea.max_qty)
  // A share of equity is a share of what the account can spend: never more than the cash it may use
  // (exits working count at what they bring) buys at the reference price, costs included — so a
  // rotation that sells one symbol to buy another is affordable by construction.
  if (sizing.method === 'pct_equity') qty = Math.min(qty, affordable(availableCash(state.ledger), idea, account))
  return { qty: Math.max(0, qty), phase5 }
}

/** Cash an entry needs at the reference price: the notional (100% margin for shorts too) plus commission. */
export function estimatedCost(idea: Idea, qty: number, account: AccountConfig): number {
  const price = fillPrice(idea.price, 1, 'market', account.costs.slippage_bps)
  return qty * price + commissionOf(qty, price, account.costs)
}

/** Money shown in a rationale, to the cent. */
export const round = (x: number) => Math.round(x * 100) / 100

/** The most units `cash` pays for at the idea's reference price, slippage and commission included. */
function affordable(cash: number, idea: Idea, account: AccountConfig): number {
  if (cash <= 0) return 0
  let qty = floorQty(cash / fillPrice(idea.price, 1, 'market', account.costs.slippage_bps))
  while (qty > 0 && estimatedCost(idea, qty, account) > cash) qty--
  return qty
}
