// indicators: keeps rolling indicator state per symbol and timeframe, for exactly the indicators the
// strategies declare (actors/lib/indicators: SMA, EMA, RSI, MACD, ATR, Bollinger, highest/lowest,
// DPI), and publishes md.ind.<P>.<SYM>: the bar plus every warmed-up value by its declared name,
// multi-output values dotted (macd.signal). Bars of symbols no strategy watches produce nothing.
// Pure: no I/O, no clock.
import { defineActor, partitionScopes, type Inbound, type Step } from '../src/core/actor.js'
import type { IndicatorSpec } from '../src/core/indicator-kinds.js'
import { rulesOf, type AnyStrategyConfig } from '../src/core/config-file/strategies.js'
import type { Bar, Message } from '../src/core/contracts.js'
import { PairMemo, pairKeys } from '../src/core/memo.js'
import { DEFAULT_PARTITIONS } from '../src/core/partition.js'
import { concernsPartition, definedOf, type RuntimeVersion, versionsOf } from './lib/runtime-strategies.js'
import { newIndicator, updateInto, type IndicatorState } from './lib/indicators/index.js'

/** `${symbol}|${timeframe}` → declared name → spec. */
type Declarations = Map<string, Record<string, IndicatorSpec>>

export interface IndicatorsState {
  series: Record<string, Record<string, IndicatorState>>
  /** Strategies defined at runtime this scope has taken, by id (a deleted one: strategy null). */
  runtime?: Record<string, RuntimeVersion>
}

export function declarationsOf(all: readonly AnyStrategyConfig[]): Declarations {
  const strategies = rulesOf(all)
  const out: Declarations = new Map()
  for (const s of strategies) {
    for (const symbol of s.symbols) {
      const key = `${symbol}|${s.timeframe}`
      out.set(key, { ...out.get(key), ...s.indicators })
    }
  }
  return out
}

const seriesKeys = pairKeys()

export function handleBar(state: IndicatorsState, input: Inbound<'md.bar'>, declarations: Declarations): Step<IndicatorsState> {
  const bar = input.data
  const key = seriesKeys.get(bar.symbol, bar.timeframe)
  const declared = declarations.get(key)
  if (!declared) return { state, outcome: 'unwatched' }
  const series = (state.series[key] ??= {})
  const values: Record<string, number> = {}
  // for…in: the declaration order of Object.entries, without its arrays on every bar.
  for (const name in declared) {
    updateInto(values, name, (series[name] ??= newIndicator(declared[name]!)), bar)
  }
  return { state, emit: [{ type: 'md.ind', data: indicatorMessage(bar, input.seq, values) }] }
}

type IndicatorMessage = Message<'md.ind'>

/** `ind:${symbol}:${timeframe}:`, the start of every md.ind id of the pair (the bar time follows). */
const indIds = new PairMemo((symbol, timeframe) => `ind:${symbol}:${timeframe}:`)

function indicatorMessage(bar: Bar, barSeq: number, values: Record<string, number>): IndicatorMessage {
  const message: IndicatorMessage = {
    id: indIds.get(bar.symbol, bar.timeframe) + bar.ts,
    type: 'md.ind',
    ts: bar.ts,
    causation_id: bar.id,
    correlation_id: bar.correlation_id,
    symbol: bar.symbol,
    timeframe: bar.timeframe,
    bar_id: bar.id,
    bar_seq: barSeq,
    bar: { open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume },
    values,
  }
  // Assigned, not spread into the literal: a spread builds the object property by property (a
  // message per bar).
  if (bar.context) message.context = bar.context
  return message
}

/** The indicators actor: one scope per symbol partition (a process runs those it owns). */
export const indicators = (strategies: readonly AnyStrategyConfig[], partitions = DEFAULT_PARTITIONS) => {
  const declarations = declarationsOf(strategies)
  // The declarations with a state's runtime strategies added, worked out once per set of them.
  const withRuntime = new WeakMap<object, Declarations>()
  const declarationsFor = (state: IndicatorsState): Declarations => {
    if (!state.runtime) return declarations
    let d = withRuntime.get(state.runtime)
    if (!d) withRuntime.set(state.runtime, (d = declarationsOf([...strategies, ...definedOf(state.runtime, strategies)])))
    return d
  }
  return defineActor<IndicatorsState>({
    name: 'indicators',
    ordered: true,
    // 2: an SMA keeps its window's sum exactly (partials), where it kept a rounded running sum.
    stateVersion: 2,
    scopes: partitionScopes('md.bar', partitions),
    init: () => ({ series: {} }),
    handle: (state, input) => handleBar(state, input as Inbound<'md.bar'>, declarationsFor(state)),
    runtimeStrategies: {
      concerns: (state, def, scope) => concernsPartition(strategies, state.runtime, def, scope.partition, partitions),
      applied: (state) => versionsOf(state.runtime),
      define: (state, def) => {
        const before = declarationsFor(state)
        const runtime = { ...state.runtime, [def.id]: { version: def.version, strategy: def.strategy } }
        const next = { ...state, runtime }
        const after = declarationsFor(next)
        // An indicator no longer declared, or declared anew under its name, starts again from nothing.
        for (const [key, names] of before) {
          const series = next.series[key]
          if (!series) continue
          for (const name of Object.keys(names)) {
            if (JSON.stringify(after.get(key)?.[name]) !== JSON.stringify(names[name])) delete series[name]
          }
        }
        return next
      },
    },
  })
}
