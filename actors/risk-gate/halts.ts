// Halts: by a person (ctl.risk.halt) or by the books, when drawdown breaches its limit or the day's
// profit reaches its target. A halted account rejects entries; exits still pass.
import type { Outbound } from '../../src/core/actor.js'
import type { AccountConfig } from '../../src/core/config-file/accounts.js'
import { accountDecision, riskStateMessage } from './messages.js'
import type { RiskState } from './state.js'

/** Halts the account (entries end halted_by_risk until a resume); exits still pass. */
export function halt(state: RiskState, account: string, reason: string, ts: string, cause: string, by: string | null, emit: Outbound[]): void {
  state.halted = true
  state.last_halt_reason = reason
  emit.push(
    accountDecision(account, `decision:halt:${cause}`, ts, cause, 'ai_halted', `fail:${reason}`, by ? `halted by ${by}: ${reason}` : `halted: ${reason}`, by),
    riskStateMessage(state, account, ts, cause, by ?? 'system'),
  )
}

/** Books breaching the drawdown limit or reaching the daily target halt the account, at that bar. */
export function checkHalts(
  state: RiskState,
  v: { drawdown: number; daily_pnl: number },
  ts: string,
  cause: string,
  account: AccountConfig,
  emit: Outbound[],
): void {
  const risk = state.risk
  if (state.halted) return
  if (risk.halt_on_drawdown && risk.max_drawdown_amount !== null && v.drawdown > risk.max_drawdown_amount) {
    halt(state, account.id, 'max_drawdown', ts, cause, null, emit)
  } else if (risk.stop_after_target && risk.daily_profit_target !== null && v.daily_pnl >= risk.daily_profit_target) {
    halt(state, account.id, 'daily_target_reached', ts, cause, null, emit)
  }
}
