// risk-gate: the only actor that decides what may trade. For each idea of its account it publishes
// an order (trade.order) or not, the status the idea reached (trade.idea_status) and one audit entry
// (trade.decision). Exits (reduce-only) always pass. It judges each idea against the account's books
// as of the idea's bar — a ledger (lib/ledger) kept from the executor's fills and the bars it looks
// up, advanced in market-stream order, so the decision is the same whenever the executor's messages
// arrive (after a restart, in a fast replay, with the executor far behind). Ideas and operator
// commands are handled in the order they were written, one after another: an idea waits while an
// order may still settle on a bar at or before its own, and everything behind it waits with it.
// It sizes entries (fixed, a share of equity, a risk budget over the stop distance, and the Phase-5
// product), halts on drawdown or a daily target as the books reach them, and keeps the account's
// Brier tracker, publishing metrics.phase5.<ACCT> at each position close and once a bar-time day.
// Pure: no I/O, no clock.
//
// Its parts, one idea each, live in risk-gate/: state, sizing, limits (where a limit is judged),
// turns (the settlement order), orders, commands, halts, approvals, messages, views, watchlists.
import { defineActor, type Found, type Inbound, type Outbound, type Scope, type Step } from '../src/core/actor.js'
import type { AccountConfig } from '../src/core/config-file/accounts.js'
import type { AnyStrategyConfig } from '../src/core/config-file/strategies.js'
import { accountFilter } from '../src/core/subjects.js'
import { absorbBars, receiveFill, receiveSettlement } from './lib/ledger.js'
import { recordIdea } from './lib/phase5.js'
import { newRiskState, type RiskState } from './risk-gate/state.js'
import { advanceTo, drain, riskLookup } from './risk-gate/turns.js'
import { watchlistsOf, withRuntime, type Watchlists } from './risk-gate/watchlists.js'

/** Everything about the account on TRADE; of it the gate reads ideas, commands and the executor's settlements. */
export const accountScope = (account: string): Scope => ({
  key: account,
  inputs: [{ stream: 'TRADE', filter: accountFilter(account), accepts: ['trade.idea', 'trade.fill', 'trade.order_status', 'trade.command'] }],
})

const NOTHING: Found = []

/** One input for one account's gate: an idea or command joins the queue, a fill or settlement advances the books; then whatever can be decided is. */
export function handleRisk(state: RiskState, input: Inbound, account: AccountConfig, fileLists?: Watchlists, found: Found = NOTHING): Step<RiskState> {
  const emit: Outbound[] = []
  const lists = withRuntime(fileLists, state.runtime)
  for (const { lookup, bars } of found) absorbBars(state.ledger, lookup.symbol, lookup.through, bars)
  let outcome: string | undefined
  switch (input.type) {
    case 'trade.idea': {
      const idea = input.data
      if (idea.intent === 'entry') {
        recordIdea(state.stats, idea.ng_score)
        if (idea.dpi_regime !== null) state.regime = idea.dpi_regime
      }
      state.queue.push({ idea })
      outcome = drain(state, account, emit, lists)
      break
    }
    case 'trade.command':
      state.queue.push({ command: input.data })
      outcome = drain(state, account, emit, lists) ?? 'waiting'
      break
    case 'trade.fill':
      receiveFill(state.ledger, input.data)
      // A fill on the bar the books are at (a stop or target exit) belongs to them now.
      if (input.data.bar_seq <= state.ledger.asOf) advanceTo(state, state.ledger.asOf, account, emit)
      outcome = drain(state, account, emit, lists) ?? 'books'
      break
    case 'trade.order_status':
      receiveSettlement(state.ledger, input.data.order_id)
      outcome = drain(state, account, emit, lists) ?? 'books'
      break
    default:
      outcome = 'skipped'
  }
  return emit.length ? { state, emit, outcome } : { state, outcome }
}

export const riskGate = (accounts: AccountConfig[], strategies: readonly AnyStrategyConfig[] = []) => {
  const byId = new Map(accounts.map((a) => [a.id, a]))
  const lists = watchlistsOf(strategies)
  return defineActor<RiskState>({
    name: 'risk-gate',
    ordered: true,
    // 4: the books as a ledger in market time (fills and looked-up bars), ideas and commands in one queue.
    stateVersion: 4,
    scopes: accounts.map((a) => accountScope(a.id)),
    init: (scope) => newRiskState(byId.get(scope.key)!.starting_cash, byId.get(scope.key)!.risk),
    held: (state) => state.queue.length,
    lookup: (state, input) => riskLookup(state, input),
    handle: (state, input, scope, found) => handleRisk(state, input, byId.get(scope.key)!, lists, found),
  })
}
