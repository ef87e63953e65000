// The built-in Gayed Risk-On/Risk-Off consensus (SPEC §5.2, seed 001) as a strategy scope. It needs
// the daily closes of seven symbols that live in different symbol partitions, so it does not run in a
// partition scope: each Gayed strategy is a scope of its own (`gayed-<id>`: a KV key and durable-name token) reading every md.bar, and
// exactly one process owns it (the owner of the partition its key hashes to), however the strategy
// actor is spread over processes. The day's evaluation depends only on the set of that day's closes
// (lib/gayed), never on the order the symbols arrived in.
//
// After each complete day it publishes its state (strategy.signal.<ACCT>) and, when the consensus
// points at another holding, the ideas that rotate: exit what is held, enter SPY (Risk-On) or the
// defensive symbol (Risk-Off). Mixed keeps whatever is held.
//
// What it holds is what the account holds of it: it follows its ideas' fate on the account's stream
// (the gate's verdict, the executor's fill or refusal), and acts on a day only once the ideas of the
// days before are settled — so a rotation the gate or the executor refused is not believed, and the
// next day tries again, the same way whenever the fills arrive. Pure: no I/O, no clock.
import type { Inbound, Outbound, Scope, Step } from '../src/core/actor.js'
import type { GayedConfig } from '../src/core/config-file/strategies.js'
import type { Message } from '../src/core/contracts.js'
import { accountFilter, filterOf } from '../src/core/subjects.js'
import { DEFAULT_PARTITIONS, partitionOf } from '../src/core/partition.js'
import { targetHolding } from './lib/gayed/consensus.js'
import { dayOf, newGayedState, updateGayed, type GayedEvaluation, type GayedState } from './lib/gayed/days.js'
import { SIGNAL_NAMES } from './lib/gayed/signals.js'

interface SeenBar {
  day: string
  ts: string
  id: string
  seq: number
  close: number
}

export interface GayedScopeState {
  signals: GayedState
  /** What the account holds of this strategy (from its fills), the symbol it is long. */
  holding: string | null
  /** symbol → quantity held, from this strategy's fills. */
  held?: Record<string, number>
  /** Ideas whose fate is not known yet (no verdict, or passed and not filled nor refused), by id. */
  pending?: Record<string, { symbol: string; intent: 'entry' | 'exit' }>
  /** An idea waits for a person: nothing new is proposed until they decide. */
  awaiting?: Record<string, string>
  /** Days evaluated while ideas were pending, acted on once they settle, in order. */
  deferred?: GayedEvaluation[]
  /** symbol → its latest daily bars, oldest first. */
  bars: Record<string, SeenBar[]>
}

export const gayedScope = (g: GayedConfig, partitions = DEFAULT_PARTITIONS): Scope => ({
  key: `gayed-${g.id}`,
  partition: partitionOf(`gayed-${g.id}`, partitions),
  inputs: [
    { name: 'bars', stream: 'MD', filter: filterOf('md.bar'), accepts: ['md.bar'] },
    { name: 'trade', stream: 'TRADE', filter: accountFilter(g.account), accepts: ['trade.idea_status', 'trade.fill', 'trade.order_status'] },
  ],
})

export function newGayedScopeState(g: GayedConfig): GayedScopeState {
  return { signals: newGayedState({ symbols: g.inputs, params: g.params }), holding: null, held: {}, pending: {}, awaiting: {}, deferred: [], bars: {} }
}

type Holder = { books: object; gayed?: GayedScopeState }

/** One message of a Gayed scope: a bar, or news of its ideas from the account's stream. */
export function handleGayed(state: Holder, input: Inbound, g: GayedConfig): Step<Holder> {
  if (input.type === 'md.bar') return handleGayedBar(state, input, g)
  const s = state.gayed!
  if (!learn(s, input, g)) return { state, outcome: 'skipped' }
  const emit = settleDeferred(s, g)
  return emit.length ? { state, emit } : { state, outcome: 'account' }
}

/** What the account's stream says of this strategy's ideas; false when it is about something else. */
function learn(s: GayedScopeState, input: Inbound, g: GayedConfig): boolean {
  const pending = (s.pending ??= {})
  const awaiting = (s.awaiting ??= {})
  if (input.type === 'trade.idea_status') {
    const st = input.data
    if (st.strategy_id !== g.id) return false
    if (st.status === 'needs_approval') {
      awaiting[st.idea_id] = st.symbol
      delete pending[st.idea_id]
    } else if (st.status === 'auto_executed') {
      // Passed (by the gate or a person): its fill or refusal comes from the executor.
      if (awaiting[st.idea_id] !== undefined) pending[st.idea_id] = { symbol: st.symbol, intent: st.intent }
      delete awaiting[st.idea_id]
    } else {
      delete pending[st.idea_id]
      delete awaiting[st.idea_id]
    }
    return true
  }
  if (input.type === 'trade.fill') {
    const f = input.data
    if (f.strategy_id !== g.id) return false
    const held = (s.held ??= {})
    const qty = (held[f.symbol] ?? 0) + (f.side === 'buy' ? f.qty : -f.qty)
    if (qty === 0) delete held[f.symbol]
    else held[f.symbol] = qty
    s.holding = holdingOf(held)
    delete pending[f.idea_id]
    return true
  }
  if (input.type === 'trade.order_status') {
    const o = input.data
    if (pending[o.idea_id] === undefined && awaiting[o.idea_id] === undefined) return false
    delete pending[o.idea_id]
    delete awaiting[o.idea_id]
    return true
  }
  return false
}

/** The symbol held long (the strategy holds one at a time; if ever more, the first by name). */
function holdingOf(held: Record<string, number>): string | null {
  const long = Object.keys(held)
    .filter((k) => held[k]! > 0)
    .sort()
  return long[0] ?? null
}

/** Acts on the days evaluated while ideas were pending, once none is. */
function settleDeferred(s: GayedScopeState, g: GayedConfig): Outbound[] {
  const out: Outbound[] = []
  while (s.deferred?.length && !Object.keys(s.pending ?? {}).length) out.push(...evaluate(s, s.deferred.shift()!, g))
  return out
}

function handleGayedBar(state: Holder, input: Inbound<'md.bar'>, g: GayedConfig): Step<Holder> {
  const s = state.gayed!
  const bar = input.data
  const watched = Object.hasOwn(s.signals.closes, bar.symbol) || bar.symbol === g.risk_on || bar.symbol === g.defensive
  if (bar.timeframe !== g.timeframe || !watched) return { state, outcome: 'unwatched' }
  const day = dayOf(bar.ts)!
  const list = (s.bars[bar.symbol] ??= [])
  if (list.length && list[list.length - 1]!.ts >= bar.ts) return { state, outcome: 'stale' }
  list.push({ day, ts: bar.ts, id: bar.id, seq: input.seq, close: bar.close })
  // Bars are kept from the bar at or before the oldest day still to be acted on: a day waiting for
  // its last symbol (however far the others ran ahead, one partition being slower than another) or
  // deferred behind unsettled ideas (however long the account takes to answer). What it does then
  // never depends on the interleaving; a count would.
  const keepFrom = s.deferred?.[0]?.day ?? s.signals.closed_through
  while (list.length > 1 && keepFrom !== null && list[1]!.day <= keepFrom) list.shift()
  if (!Object.hasOwn(s.signals.closes, bar.symbol)) return { state, outcome: 'price' }
  const step = updateGayed(s.signals, bar.symbol, bar.ts, bar.close)
  if (!step.evaluation) return { state, outcome: step.note }
  // The ideas of earlier days are not settled yet: this day is acted on once they are.
  if (Object.keys(s.pending ?? {}).length || s.deferred?.length) {
    ;(s.deferred ??= []).push(step.evaluation)
    return { state, outcome: 'deferred' }
  }
  return { state, emit: evaluate(s, step.evaluation, g) }
}

/** The symbol's bar of `day`, or its latest before it. */
function barOf(s: GayedScopeState, symbol: string, day: string): SeenBar | undefined {
  const list = s.bars[symbol] ?? []
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.day <= day) return list[i]
  return undefined
}

function evaluate(s: GayedScopeState, e: GayedEvaluation, g: GayedConfig): Outbound[] {
  const emit: Outbound[] = []
  const confidence = Math.round(e.consensus.confidence * 10_000) / 100
  const target = targetHolding(e.consensus, g.defensive, g.risk_on)
  // What the account holds now (the signal says so); a rotation decided today shows from tomorrow.
  const holding = s.holding
  const waitingForPerson = Object.keys(s.awaiting ?? {}).length > 0
  if (target !== null && target !== holding && !waitingForPerson) {
    const entryBar = barOf(s, target, e.day)
    const pending = (s.pending ??= {})
    if (holding !== null) {
      const exitBar = barOf(s, holding, e.day)
      if (exitBar) {
        const exit = idea(g, holding, exitBar, 'exit', confidence, e.consensus.consensus)
        pending[exit.data.id] = { symbol: holding, intent: 'exit' }
        emit.push(exit)
      }
    }
    if (entryBar) {
      const entry = idea(g, target, entryBar, 'entry', confidence, e.consensus.consensus)
      pending[entry.data.id] = { symbol: target, intent: 'entry' }
      emit.push(entry)
    }
  }
  // The day's time: the latest of its bars (the same whatever order they arrived in).
  const ts = s.signals.required.map((sym) => barOf(s, sym, e.day)?.ts ?? '').reduce((a, b) => (b > a ? b : a), '')
  const signals = SIGNAL_NAMES.flatMap((name) => {
    const x = e.signals[name]
    return x ? [{ name, signal: x.signal, value: x.value, strength: x.strength, confidence: x.confidence }] : []
  })
  const id = `signal:${g.id}:${e.day}`
  const data: Message<'strategy.signal'> = {
    id,
    type: 'strategy.signal',
    ts,
    causation_id: `day:${e.day}`,
    correlation_id: id,
    account: g.account,
    strategy_id: g.id,
    signals,
    consensus: e.consensus.consensus,
    confidence: e.consensus.confidence,
    risk_on_weight: e.consensus.risk_on_weight,
    risk_off_weight: e.consensus.risk_off_weight,
    holding,
  }
  emit.unshift({ type: 'strategy.signal', data })
  return emit
}

function idea(
  g: GayedConfig,
  symbol: string,
  bar: SeenBar,
  intent: 'entry' | 'exit',
  confidence: number,
  side: string,
): { type: 'trade.idea'; data: Message<'trade.idea'> } {
  const sizing = g.sizing
  const method = sizing.fixed_qty !== undefined ? 'fixed_qty' : 'pct_equity'
  const data: Message<'trade.idea'> = {
    id: `idea:${g.id}:${symbol}:${bar.ts}:${intent}:long`,
    type: 'trade.idea',
    ts: bar.ts,
    causation_id: bar.id,
    correlation_id: bar.id,
    account: g.account,
    strategy_id: g.id,
    symbol,
    side: intent === 'entry' ? 'buy' : 'sell',
    intent,
    qty: intent === 'entry' && method === 'fixed_qty' && !sizing.phase5 ? sizing.fixed_qty! : null,
    timeframe: g.timeframe,
    order_type: 'market',
    limit_price: null,
    stop_price: null,
    valid_bars: null,
    exit_reason: intent === 'exit' ? 'signal' : null,
    sizing: intent === 'entry' ? { method, value: sizing[method]!, phase5: sizing.phase5 ?? false } : null,
    bracket: null,
    stop_distance: null,
    max_qty: null,
    max_positions: null,
    ng_score: 0,
    dpi: null,
    dpi_regime: null,
    position_side: 'long',
    close_position: intent === 'exit',
    price: bar.close,
    bar_seq: bar.seq,
    confidence,
    reason: `gayed:${side}`,
  }
  return { type: 'trade.idea', data }
}
