// What the gate publishes, built from their causes: the order, the idea's status and the audit
// decision of an idea; the decisions and risk states of halts and resumes; Phase-5 metrics.
import type { Outbound } from '../../src/core/actor.js'
import type { Message } from '../../src/core/contracts.js'
import { phase5Metrics } from '../lib/phase5.js'
import type { Idea, RiskState, Sized, Verdict } from './state.js'

// The three messages an idea causes start with the same fields (its id, type, the idea's bar time
// and lineage). They are written out in each literal rather than spread from a shared head: V8 adds
// every property that follows a spread on a slow path (about a microsecond each), which made these
// builders the hottest code of the gate.

export function orderFor(idea: Idea, sized: Sized, barSeq: number): Message<'trade.order'> {
  return {
    id: `order:${idea.id}`,
    type: 'trade.order',
    ts: idea.ts,
    causation_id: idea.id,
    correlation_id: idea.correlation_id,
    account: idea.account,
    strategy_id: idea.strategy_id,
    symbol: idea.symbol,
    idea_id: idea.id,
    side: idea.side,
    intent: idea.intent,
    qty: sized.qty,
    timeframe: idea.timeframe,
    order_type: idea.order_type,
    exit_reason: idea.exit_reason,
    reduce_only: idea.intent === 'exit',
    close_position: idea.close_position,
    ref_price: idea.price,
    bar_seq: barSeq,
    limit_price: idea.limit_price,
    stop_price: idea.stop_price,
    valid_bars: idea.valid_bars,
    bracket: idea.bracket,
    phase5: sized.phase5,
  }
}

export function statusOf(idea: Idea, v: Verdict, qty: number, suffix = ''): Message<'trade.idea_status'> {
  return {
    id: `status:${idea.id}:${v.status}${suffix}`,
    type: 'trade.idea_status',
    ts: idea.ts,
    causation_id: idea.id,
    correlation_id: idea.correlation_id,
    account: idea.account,
    strategy_id: idea.strategy_id,
    symbol: idea.symbol,
    idea_id: idea.id,
    side: idea.side,
    intent: idea.intent,
    qty,
    confidence: idea.confidence,
    status: v.status,
    reason: v.result,
  }
}

export function decisionOf(idea: Idea, v: Verdict, by: { requested_by: string; cause: string; ts: string } | null = null): Message<'trade.decision'> {
  return {
    id: `decision:${idea.id}:${v.action}`,
    type: 'trade.decision',
    ts: idea.ts,
    causation_id: idea.id,
    correlation_id: idea.correlation_id,
    account: idea.account,
    strategy_id: idea.strategy_id,
    symbol: idea.symbol,
    idea_id: idea.id,
    action: v.action,
    status: v.status,
    risk_check_result: v.result,
    rationale: v.rationale,
    human_override: by !== null,
    requested_by: by?.requested_by ?? null,
    confidence: idea.confidence,
  }
}

/** A decision about the account itself (a halt, a resume): no idea, no symbol. */
export function accountDecision(
  account: string,
  id: string,
  ts: string,
  cause: string,
  action: 'ai_halted' | 'ai_resumed',
  result: string,
  rationale: string,
  by: string | null,
): Outbound {
  return {
    type: 'trade.decision',
    data: {
      id,
      type: 'trade.decision',
      ts,
      causation_id: cause,
      correlation_id: cause,
      account,
      strategy_id: null,
      symbol: null,
      idea_id: null,
      action,
      status: null,
      risk_check_result: result,
      rationale,
      human_override: by !== null,
      requested_by: by,
    },
  }
}

/** The risk state after a change, for risk_config and anyone watching. */
export function riskStateMessage(state: RiskState, account: string, ts: string, cause: string, by: string): Outbound {
  state.version += 1
  return {
    type: 'trade.risk_state',
    data: {
      id: `risk-state:${account}:${state.version}`,
      type: 'trade.risk_state',
      ts,
      causation_id: cause,
      correlation_id: cause,
      account,
      risk: { ...state.risk },
      halted: state.halted,
      last_halt_reason: state.last_halt_reason,
      updated_by: by,
      version: state.version,
    },
  }
}

/** The account's Phase-5 metrics now: at a position close and once a bar-time day. */
export function phase5Message(state: RiskState, account: string, trigger: 'position_closed' | 'daily', id: string, ts: string, cause: string): Outbound {
  return {
    type: 'metrics.phase5',
    data: {
      id,
      type: 'metrics.phase5',
      ts,
      causation_id: cause,
      correlation_id: cause,
      account,
      trigger,
      ...phase5Metrics({ brier: state.brier, stats: state.stats, dpiRegime: state.regime }),
    },
  }
}
