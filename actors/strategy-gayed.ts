// The built-in Gayed Risk-On/Risk-Off consensus (SPEC §5.2, seed 001) as a strategy scope. It needs
// the daily closes of seven symbols that live in different symbol partitions, so it does not run in a
// partition scope: each Gayed strategy is a scope of its own (`gayed-<id>`: a KV key and durable-name token) reading every md.bar, and
// exactly one process owns it (the owner of the partition its key hashes to), however the strategy
// actor is spread over processes. The day's evaluation depends only on the set of that day's closes
// (lib/gayed), never on the order the symbols arrived in.
//
// After each complete day it publishes its state (strategy.signal.<ACCT>) and, when the consensus
// points at another holding, the ideas that rotate: exit what is held, enter SPY (Risk-On) or the
// defensive symbol (Risk-Off). Mixed keeps whatever is held. Pure: no I/O, no clock.
import type { Inbound, Outbound, Scope, Step } from '../src/actor.js'
import type { GayedConfig } from '../src/config-file.js'
import { filterOf, type Message } from '../src/contracts.js'
import { dayOf, newGayedState, SIGNAL_NAMES, targetHolding, updateGayed, type GayedEvaluation, type GayedState } from './lib/gayed.js'

/** Bars remembered per symbol: enough to find each symbol's bar of a day still waiting to complete. */
const RECENT_BARS = 40

interface SeenBar {
  day: string
  ts: string
  id: string
  seq: number
  close: number
}

export interface GayedScopeState {
  signals: GayedState
  /** What the strategy asked to hold (it assumes its orders fill). */
  holding: string | null
  /** symbol → its latest daily bars, oldest first. */
  bars: Record<string, SeenBar[]>
}

export const gayedScope = (g: GayedConfig): Scope => ({
  key: `gayed-${g.id}`,
  inputs: [{ name: 'bars', stream: 'MD', filter: filterOf('md.bar'), accepts: ['md.bar'] }],
})

export function newGayedScopeState(g: GayedConfig): GayedScopeState {
  return { signals: newGayedState({ symbols: g.inputs, params: g.params }), holding: null, bars: {} }
}

export function handleGayedBar(state: { books: object; gayed?: GayedScopeState }, input: Inbound<'md.bar'>, g: GayedConfig): Step<typeof state> {
  const s = state.gayed!
  const bar = input.data
  const watched = Object.hasOwn(s.signals.closes, bar.symbol) || bar.symbol === g.risk_on || bar.symbol === g.defensive
  if (bar.timeframe !== g.timeframe || !watched) return { state, outcome: 'unwatched' }
  const day = dayOf(bar.ts)!
  const list = (s.bars[bar.symbol] ??= [])
  if (list.length && list[list.length - 1]!.ts >= bar.ts) return { state, outcome: 'stale' }
  list.push({ day, ts: bar.ts, id: bar.id, seq: input.seq, close: bar.close })
  if (list.length > RECENT_BARS) list.shift()
  if (!Object.hasOwn(s.signals.closes, bar.symbol)) return { state, outcome: 'price' }
  const step = updateGayed(s.signals, bar.symbol, bar.ts, bar.close)
  if (!step.evaluation) return { state, outcome: step.note }
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
  if (target !== null && target !== s.holding) {
    const entryBar = barOf(s, target, e.day)
    if (s.holding !== null) {
      const exitBar = barOf(s, s.holding, e.day)
      if (exitBar) emit.push(idea(g, s.holding, exitBar, 'exit', confidence, e.consensus.consensus))
    }
    if (entryBar) emit.push(idea(g, target, entryBar, 'entry', confidence, e.consensus.consensus))
    s.holding = entryBar ? target : null
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
    holding: s.holding,
  }
  emit.unshift({ type: 'strategy.signal', data })
  return emit
}

function idea(g: GayedConfig, symbol: string, bar: SeenBar, intent: 'entry' | 'exit', confidence: number, side: string): Outbound {
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
