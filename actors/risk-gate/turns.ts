// Settlement order: ideas and commands take their turn in the order they were written; an idea is
// judged only once the books can be advanced to its bar, with every order that settles at or before
// it heard of. Advancing applies fills and marks in market-stream order, halting and closing days as
// the books reach them. `riskLookup` names the bars an advance will need.
import type { BarLookup, Inbound, Outbound } from '../../src/core/actor.js'
import type { AccountConfig } from '../../src/core/config-file/accounts.js'
import { advance, complete, relevantFrom, type AdvanceHooks } from '../lib/ledger.js'
import { forecastFromNg, recordForecast, recordOutcome, recordTrade } from '../lib/phase5.js'
import { expireApprovals } from './approvals.js'
import { handleCommand } from './commands.js'
import { checkHalts } from './halts.js'
import { judge } from './limits.js'
import { decisionOf, phase5Message, statusOf } from './messages.js'
import { place } from './orders.js'
import { sizeOf } from './sizing.js'
import type { Idea, RiskState, Status } from './state.js'
import { EMPTY, type Watchlists } from './watchlists.js'

/**
 * Handles waiting ideas and commands in arrival order. An idea is judged once the books can be
 * advanced to its bar (no order may still settle at or before it unheard of); until then it and
 * everything behind it wait — so a command written after an idea always finds it judged.
 */
export function drain(state: RiskState, account: AccountConfig, emit: Outbound[], lists?: Watchlists): string | undefined {
  let outcome: string | undefined
  while (state.queue.length) {
    const turn = state.queue[0]!
    if ('idea' in turn) {
      const idea = turn.idea
      const n = Math.max(idea.bar_seq, state.ledger.asOf)
      if (!complete(state.ledger, n)) return outcome ?? 'waiting'
      advanceTo(state, n, account, emit)
      state.queue.shift()
      outcome = decide(state, idea, account, emit, lists)
    } else {
      state.queue.shift()
      handleCommand(state, turn.command, account, emit, lists)
      outcome = 'command'
    }
  }
  return outcome
}

/** Advances the books to MD position n: fills and marks in stream order, halts and days as they come. */
export function advanceTo(state: RiskState, n: number, account: AccountConfig, emit: Outbound[]): void {
  const hooks: AdvanceHooks = {
    filled(f, closedPnl) {
      if (closedPnl !== null) {
        recordOutcome(state.brier, f.position_id, closedPnl > 0)
        emit.push(phase5Message(state, account.id, 'position_closed', `p5:${account.id}:close:${f.position_id}`, f.ts, f.id))
      }
      if (f.intent === 'entry' && f.phase5) {
        recordForecast(state.brier, f.position_id, forecastFromNg(f.phase5.ng_score))
        recordTrade(state.stats, f.phase5.ng_score, f.phase5.dpi_enhancement)
      }
    },
    valued(ts, cause, v) {
      const day = ts.slice(0, 10)
      if (state.metricsDay !== day) {
        if (state.metricsDay !== null && day > state.metricsDay)
          emit.push(phase5Message(state, account.id, 'daily', `p5:${account.id}:daily:${day}`, ts, cause))
        if (state.metricsDay === null || day > state.metricsDay) state.metricsDay = day
      }
      checkHalts(state, v, ts, cause, account, emit)
    },
  }
  advance(state.ledger, n, hooks)
  expireApprovals(state, account, emit)
}

function decide(state: RiskState, idea: Idea, account: AccountConfig, emit: Outbound[], lists?: Watchlists): Status {
  const sized = sizeOf(state, idea, account)
  const v = judge(state, idea, account, sized, false, lists?.get(idea.strategy_id) ?? (lists ? EMPTY : undefined))
  if (v.status === 'needs_approval') {
    const minutes = state.risk.approval_timeout_minutes
    state.approvals[idea.id] = { idea, expires_at: new Date(Date.parse(idea.ts) + minutes * 60_000).toISOString() }
  }
  if (v.status === 'auto_executed') place(state, idea, sized, account, emit)
  emit.push({ type: 'trade.idea_status', data: statusOf(idea, v, sized.qty) }, { type: 'trade.decision', data: decisionOf(idea, v) })
  return v.status
}

/**
 * The bars handling `input` may need: those of every symbol the books may touch up to the furthest
 * bar of the ideas waiting (this one included) or the books' own position if that is further, from
 * where each was looked up to. The same state and input always name the same bars.
 */
export function riskLookup(state: RiskState, input: Inbound): BarLookup[] | null {
  if (input.type !== 'trade.idea' && input.type !== 'trade.command' && input.type !== 'trade.fill') return null
  let through = 0
  const waiting: { symbol: string; from: number }[] = []
  const note = (idea: Idea) => {
    through = Math.max(through, idea.bar_seq)
    waiting.push({ symbol: idea.symbol, from: idea.bar_seq - 1 })
  }
  for (const turn of state.queue) {
    if ('idea' in turn) note(turn.idea)
    else {
      const approved = state.approvals[turn.command.idea_id ?? '']
      if (approved) waiting.push({ symbol: approved.idea.symbol, from: approved.idea.bar_seq - 1 })
    }
  }
  if (input.type === 'trade.idea') note(input.data)
  else if (input.type === 'trade.command') {
    const approved = state.approvals[input.data.idea_id ?? '']
    if (approved) waiting.push({ symbol: approved.idea.symbol, from: approved.idea.bar_seq - 1 })
  } else if (input.type === 'trade.fill') waiting.push({ symbol: input.data.symbol, from: input.data.bar_seq - 1 })
  if (through <= 0) return null
  // An idea behind the books (one of another strategy scope's, after an idea of a later bar) is
  // judged as of the books' position: every order's bars must be known that far, and no later
  // input may come to look them up (the end of a replay).
  through = Math.max(through, state.ledger.asOf)
  const out: BarLookup[] = []
  for (const [symbol, after] of relevantFrom(state.ledger, waiting)) if (after < through) out.push({ symbol, after, through })
  return out.length ? out : null
}
