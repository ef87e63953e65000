// strategy: evaluates the JSON strategies on every md.ind of the symbols they watch and proposes
// trade ideas (trade.idea.<ACCT>). It tracks the position it asked for, so it proposes an exit only
// after an entry; an exit and a new entry on the same bar come as two ideas, exit first.
// Pure: no I/O, no clock.
import { defineActor, type Inbound, type Outbound, type Scope, type Step } from '../src/actor.js'
import type { StrategyConfig } from '../src/config-file.js'
import { filterOf, type Message } from '../src/contracts.js'
import { compileCondition, type BarFrame } from './lib/conditions.js'

interface Book {
  /** The previous bar and its indicator values, for crossings. */
  prev: BarFrame | null
  position: 'flat' | 'long'
  qty: number
}

export interface StrategyState {
  /** `${strategyId}|${symbol}` → book. */
  books: Record<string, Book>
}

type Indicators = Message<'md.ind'>
type Idea = Message<'trade.idea'>

export const partitionScope = (partition: number): Scope => ({
  key: `p${partition}`,
  inputs: [{ stream: 'MD', filter: filterOf('md.ind', { partition }), accepts: ['md.ind'] }],
})

type Test = (now: BarFrame, prev: BarFrame | undefined) => boolean

/** A strategy with its conditions compiled once. */
export interface Compiled {
  config: StrategyConfig
  entryLong: Test
  exitLong: Test | null
  adjust: { when: Test; add: number }[]
}

export function compileStrategy(s: StrategyConfig): Compiled {
  return {
    config: s,
    entryLong: compileCondition(s.entry.long),
    exitLong: s.exit.long ? compileCondition(s.exit.long) : null,
    adjust: s.confidence?.adjust.map((a) => ({ when: compileCondition(a.when), add: a.add })) ?? [],
  }
}

/** `${symbol}|${timeframe}` → the strategies watching it. */
export function watchers(strategies: StrategyConfig[]): Map<string, Compiled[]> {
  const out = new Map<string, Compiled[]>()
  for (const s of strategies.map(compileStrategy)) for (const symbol of s.config.symbols) {
    const key = `${symbol}|${s.config.timeframe}`
    out.set(key, [...(out.get(key) ?? []), s])
  }
  return out
}

export function confidenceOf(s: Compiled, now: BarFrame, prev: BarFrame | undefined): number {
  if (!s.config.confidence) return 100
  let c = s.config.confidence.base
  for (const a of s.adjust) if (a.when(now, prev)) c += a.add
  return Math.min(100, Math.max(0, c))
}

export function handleIndicators(state: StrategyState, input: Inbound<'md.ind'>, index: Map<string, Compiled[]>): Step<StrategyState> {
  const ind = input.data
  const strategies = index.get(`${ind.symbol}|${ind.timeframe}`)
  if (!strategies) return { state, outcome: 'unwatched' }
  const now: BarFrame = { bar: ind.bar, values: ind.values }
  let emit: Outbound[] | undefined
  for (const c of strategies) {
    const s = c.config
    const book = (state.books[`${s.id}|${ind.symbol}`] ??= { prev: null, position: 'flat', qty: 0 })
    const prev = book.prev ?? undefined
    if (book.position === 'long' && c.exitLong?.(now, prev)) {
      ;(emit ??= []).push(idea(s, ind, 'exit', book.qty, confidenceOf(c, now, prev), 'exit.long'))
      book.position = 'flat'
      book.qty = 0
    }
    if (book.position === 'flat' && c.entryLong(now, prev)) {
      const qty = s.sizing.fixed_qty
      ;(emit ??= []).push(idea(s, ind, 'entry', qty, confidenceOf(c, now, prev), 'entry.long'))
      book.position = 'long'
      book.qty = qty
    }
    book.prev = now
  }
  return emit ? { state, emit } : { state }
}

function idea(s: StrategyConfig, ind: Indicators, intent: 'entry' | 'exit', qty: number, confidence: number, reason: string): Outbound {
  const data: Idea = {
    id: `idea:${s.id}:${ind.symbol}:${ind.ts}:${intent}:long`,
    type: 'trade.idea',
    ts: ind.ts,
    causation_id: ind.id,
    correlation_id: ind.bar_id,
    account: s.account,
    strategy_id: s.id,
    symbol: ind.symbol,
    side: intent === 'entry' ? 'buy' : 'sell',
    intent,
    qty,
    timeframe: ind.timeframe,
    position_side: 'long',
    close_position: intent === 'exit',
    price: ind.bar.close,
    bar_seq: ind.bar_seq,
    confidence,
    reason,
  }
  return { type: 'trade.idea', data }
}

export const strategy = (strategies: StrategyConfig[], partitions: number[]) => {
  const index = watchers(strategies)
  return defineActor<StrategyState>({
    name: 'strategy',
    ordered: true,
    scopes: partitions.map(partitionScope),
    init: () => ({ books: {} }),
    handle: (state, input) => handleIndicators(state, input as Inbound<'md.ind'>, index),
  })
}
