// Operator commands for the gate, handled in their turn among the account's ideas: change limits,
// halt, resume, enable or disable a strategy, approve, reject or expire an idea; a manual close is
// followed so the books expect its fill. Each ends in one trade.command_status.
import type { Outbound } from '../../src/core/actor.js'
import { type AccountConfig, riskSettingsText } from '../../src/core/config-file/accounts.js'
import { commandStatus } from '../lib/command-status.js'
import { follow } from '../lib/ledger.js'
import { expire } from './approvals.js'
import { halt } from './halts.js'
import { judge } from './limits.js'
import { accountDecision, decisionOf, riskStateMessage, statusOf } from './messages.js'
import { place } from './orders.js'
import { sizeOf } from './sizing.js'
import type { Command, RiskState, Verdict } from './state.js'
import type { Watchlists } from './watchlists.js'

/** An operator command for the gate: change limits, halt, resume, approve or reject an idea. */
export function handleCommand(state: RiskState, cmd: Command, account: AccountConfig, emit: Outbound[], lists?: Watchlists): void {
  const status = (ok: boolean, error: string | null, detail: Record<string, unknown> | null): void => {
    emit.push(commandStatus(cmd, { ok, error, detail }))
  }
  // A command takes effect at the bar the books have reached (a person's clock is not market time).
  const ts = state.ledger.asOfTs ?? cmd.ts
  switch (cmd.command) {
    case 'risk_set':
      Object.assign(state.risk, cmd.risk ?? {})
      emit.push(riskStateMessage(state, account.id, ts, cmd.id, cmd.requested_by))
      return status(true, null, { risk: { ...state.risk } })
    case 'risk_config': {
      // The config file's risk settings, sent by every process running the gate when it starts. A
      // file that changed since it was last applied wins over runtime changes made meanwhile; the
      // same file leaves them in force. The first one only records the file (the state started
      // from it, or from a release that did not say) and gives the account its risk_config row.
      const file = riskSettingsText(cmd.risk ?? {})
      if (state.config_risk === file) return status(true, null, { applied: false, risk: { ...state.risk } })
      const first = state.config_risk === undefined
      state.config_risk = file
      if (!first) Object.assign(state.risk, cmd.risk)
      if (!first || state.version === 0) emit.push(riskStateMessage(state, account.id, ts, cmd.id, cmd.requested_by))
      return status(true, null, { applied: !first, risk: { ...state.risk } })
    }
    case 'risk_halt':
      halt(state, account.id, cmd.reason ?? 'manual', ts, cmd.id, cmd.requested_by, emit)
      return status(true, null, { halted: true, last_halt_reason: state.last_halt_reason })
    case 'risk_resume':
      if (state.halted) {
        // The reason goes with the halt: risk_config_history keeps it, the account no longer has one.
        state.halted = false
        state.last_halt_reason = null
        emit.push(
          accountDecision(account.id, `decision:resume:${cmd.id}`, ts, cmd.id, 'ai_resumed', 'pass', `resumed by ${cmd.requested_by}`, cmd.requested_by),
          riskStateMessage(state, account.id, ts, cmd.id, cmd.requested_by),
        )
      }
      return status(true, null, { halted: false, last_halt_reason: state.last_halt_reason })
    case 'strategy_enable':
    case 'strategy_disable': {
      const id = cmd.strategy_id ?? ''
      if (lists && !lists.has(id)) return status(false, `unknown strategy "${id}"`, null)
      state.disabled ??= {}
      if (cmd.command === 'strategy_disable') state.disabled[id] = cmd.requested_by
      else delete state.disabled[id]
      return status(true, null, { strategy: id, enabled: cmd.command === 'strategy_enable' })
    }
    case 'strategy_put':
    case 'strategy_delete':
      return defineStrategy(state, cmd, ts, emit, status)
    case 'idea_expire':
      // Sent by the control plane when an idea has waited approval_timeout_minutes of wall time.
      if (!expire(state, cmd.idea_id ?? '', `no approval within ${state.risk.approval_timeout_minutes} min`, account, emit)) {
        return status(false, `idea ${cmd.idea_id} is not waiting for approval`, null)
      }
      return status(true, null, { status: 'rejected', reason: 'fail:approval_expired' })
    case 'idea_approve':
    case 'idea_reject': {
      const waiting = state.approvals[cmd.idea_id ?? '']
      if (!waiting) return status(false, `idea ${cmd.idea_id} is not waiting for approval (decided, expired or unknown)`, null)
      delete state.approvals[waiting.idea.id]
      const idea = waiting.idea
      const by = { requested_by: cmd.requested_by, cause: cmd.id, ts }
      let v: Verdict
      const sized = sizeOf(state, idea, account)
      if (cmd.command === 'idea_reject')
        v = { status: 'rejected', action: 'human_rejected', result: `fail:human:${cmd.reason ?? 'rejected'}`, rationale: cmd.reason ?? 'rejected by a person' }
      else {
        // Approval re-checks every limit as the books are now.
        v = judge(state, idea, account, sized, true, lists?.get(idea.strategy_id))
        if (v.status === 'auto_executed') {
          v = { ...v, action: 'human_approved', rationale: `approved by ${cmd.requested_by}; all limits pass` }
          // It fills on the first bar after the one the books have reached: an approval never buys the past.
          place(state, idea, sized, account, emit, Math.max(idea.bar_seq, state.ledger.asOf))
        }
      }
      emit.push({ type: 'trade.idea_status', data: statusOf(idea, v, sized.qty, `:${v.action}`) }, { type: 'trade.decision', data: decisionOf(idea, v, by) })
      return status(true, null, { status: v.status, reason: v.result })
    }
    case 'close_position': {
      // The executor closes at the first bar after the one the command names: follow that exit.
      const p = state.ledger.books.positions[cmd.symbol ?? '']
      if (!p || cmd.bar_seq === null || cmd.bar_seq === undefined) return
      const owner = state.ledger.owners[cmd.symbol!]
      follow(state.ledger, `order:${cmd.id}`, {
        symbol: cmd.symbol!,
        strategy: 'manual',
        timeframe: owner?.timeframe ?? '1d',
        intent: 'exit',
        signalSeq: cmd.bar_seq,
        signalTs: ts,
        kind: 'market',
        qty: Math.abs(p.qty),
        filled: 0,
        reserve: 0,
      })
      return
    }
    default:
      return // cancel_order: the executor answers, and its order status settles the order here
  }
}

/**
 * A strategy defined, changed or deleted at runtime (the control plane validated it and wrote it to
 * the strategy registry, which the indicators and strategy scopes follow): the gate takes its
 * watchlist and records the version (trade.strategy → the strategies table). A version it has
 * already taken changes nothing.
 */
function defineStrategy(
  state: RiskState,
  cmd: Command,
  ts: string,
  emit: Outbound[],
  status: (ok: boolean, error: string | null, detail: Record<string, unknown> | null) => void,
): void {
  const id = cmd.strategy_id ?? ''
  const version = cmd.version ?? 0
  const put = cmd.command === 'strategy_put'
  const symbols = put ? (cmd.strategy?.symbols as string[] | undefined) : undefined
  if (!id || version < 1 || (put && !Array.isArray(symbols))) return status(false, `${cmd.command} needs a strategy id, a version and (put) a strategy`, null)
  const known = state.runtime?.[id]
  if (known && known.version >= version) return status(true, null, { strategy: id, version: known.version, applied: false })
  if (!put && !known) return status(false, `no runtime strategy "${id}" (strategies of the config file are changed there)`, null)
  state.runtime ??= {}
  if (put) state.runtime[id] = { version, symbols: symbols! }
  else delete state.runtime[id]
  emit.push({
    type: 'trade.strategy',
    data: {
      id: `strategy:${id}:v${version}`,
      type: 'trade.strategy',
      ts,
      causation_id: cmd.id,
      correlation_id: cmd.correlation_id,
      account: cmd.account,
      strategy_id: id,
      version,
      action: put ? 'put' : 'delete',
      definition: put ? (cmd.strategy ?? null) : null,
      updated_by: cmd.requested_by,
    },
  })
  return status(true, null, { strategy: id, version, applied: true, ...(put ? {} : { deleted: true }) })
}
