// Ideas waiting for a person expire: after approval_timeout_minutes of bar time as the books advance,
// or when the control plane says they waited that long in wall time (idea_expire).
import type { Outbound } from '../../src/core/actor.js'
import type { AccountConfig } from '../../src/core/config-file/accounts.js'
import { decisionOf, statusOf } from './messages.js'
import { sizeOf } from './sizing.js'
import type { RiskState, Verdict } from './state.js'

/** Ideas that waited for a person longer than approval_timeout_minutes (bar time) are rejected. */
export function expireApprovals(state: RiskState, account: AccountConfig, emit: Outbound[]): void {
  const clock = state.ledger.asOfTs
  if (!clock) return
  for (const { idea, expires_at } of Object.values(state.approvals)) {
    if (expires_at <= clock) expire(state, idea.id, `no approval by ${expires_at} (bar time)`, account, emit)
  }
}

/** Rejects an idea still waiting for approval: approval_expired. */
export function expire(state: RiskState, id: string, rationale: string, account: AccountConfig, emit: Outbound[]): boolean {
  const waiting = state.approvals[id]
  if (!waiting) return false
  delete state.approvals[id]
  const v: Verdict = { status: 'rejected', action: 'risk_rejected', result: 'fail:approval_expired', rationale }
  emit.push(
    { type: 'trade.idea_status', data: statusOf(waiting.idea, v, sizeOf(state, waiting.idea, account).qty, ':expired') },
    { type: 'trade.decision', data: decisionOf(waiting.idea, v, null) },
  )
  return true
}
