// The gate's state as the control plane shows it (ctl.risk.get, ctl.strategies.list,
// ctl.ideas.pending): read-only projections.
import type { AccountConfig } from '../../src/core/config-file/accounts.js'
import { sizeOf } from './sizing.js'
import type { RiskState } from './state.js'

/** The account's risk as ctl.risk.get shows it. */
export function riskView(state: RiskState) {
  return { risk: state.risk, halted: state.halted, last_halt_reason: state.last_halt_reason }
}

/** The account's strategies (the config file's, then those defined at runtime) and whether each may enter, as ctl.strategies.list shows them. */
export function strategiesView(state: RiskState, fileIds: readonly string[]) {
  const rows = [
    ...fileIds.map((id) => ({ id, source: 'config' as const })),
    // A runtime strategy whose id the file defines is shadowed by it (the file wins): listed once, as the file's.
    ...Object.entries(state.runtime ?? {})
      .filter(([id]) => !fileIds.includes(id))
      .map(([id, r]) => ({ id, source: 'runtime' as const, version: r.version, symbols: r.symbols })),
  ]
  return rows.map(({ id, ...about }) => ({
    id,
    ...about,
    enabled: state.disabled?.[id] === undefined,
    ...(state.disabled?.[id] !== undefined ? { disabled_by: state.disabled[id] } : {}),
  }))
}

/** Ideas waiting for a person, as ctl.ideas.pending shows them. */
export function pendingView(state: RiskState, account: AccountConfig) {
  return Object.values(state.approvals ?? {}).map(({ idea, expires_at }) => ({
    id: idea.id,
    strategy_id: idea.strategy_id,
    symbol: idea.symbol,
    side: idea.side,
    qty: sizeOf(state, idea, account).qty,
    confidence: idea.confidence,
    reason: idea.reason,
    ts: idea.ts,
    expires_at,
  }))
}
