// The six pure handlers wired together in memory, the way the daemon wires them over JetStream:
// every published message is appended to its stream (Streams) and delivered, in publication order,
// to every handler that consumes it. Each handler's inputs and outputs are recorded, so tests can
// replay one actor's history on its own. No NATS, no Postgres.
import type { Inbound, Outbound, Step, Write } from '../../src/core/actor.js'
import type { ConfigFile } from '../../src/core/config-file.js'
import type { Message } from '../../src/core/contracts.js'
import { handleInjectedBar, type SnapshotsState } from '../../actors/market-snapshots.js'
import { declarationsOf, handleBar as handleIndicatorBar, type IndicatorsState } from '../../actors/indicators.js'
import { handleIndicators, watchers, type StrategyState } from '../../actors/strategy.js'
import { handleRisk } from '../../actors/risk-gate.js'
import { newRiskState, type RiskState } from '../../actors/risk-gate/state.js'
import { riskLookup } from '../../actors/risk-gate/turns.js'
import { executorLookup, handleExecution, type ExecutorState } from '../../actors/paper-executor.js'
import { newBooks } from '../../actors/lib/books.js'
import { writesOf } from '../../actors/persister.js'
import type { BarLookup, Found } from '../../src/core/actor.js'
import { Streams, lookupsFrom } from './actor-spec.js'

export type PipelineActor = 'market-snapshots' | 'indicators' | 'strategy' | 'risk-gate' | 'paper-executor' | 'persister'

export interface Recorded {
  inputs: Inbound[]
  outputs: Outbound[]
  writes: Write[]
}

export interface PipelineResult {
  streams: Streams
  record: Record<PipelineActor, Recorded>
}

type Handler = (input: Inbound) => Step<unknown> | Promise<Step<unknown>>

/** Fresh handlers for one account's config, each closed over its own state; `read` answers their lookups. */
export function handlers(config: ConfigFile, read: (lookups: readonly BarLookup[]) => Found): Record<PipelineActor, Handler> {
  const account = config.accounts[0]!
  const declarations = declarationsOf(config.strategies)
  const index = watchers(config.strategies, config.accounts)
  const snapshots: SnapshotsState = { last: {} }
  const indicators: IndicatorsState = { series: {} }
  const strategy: StrategyState = { books: {} }
  const risk: RiskState = newRiskState(account.starting_cash, account.risk)
  const found = (lookups: readonly BarLookup[] | null): Found => (lookups ? read(lookups) : [])
  const executor: ExecutorState = { books: newBooks(account.starting_cash), working: {}, cursor: { orders: 0, bars: 0 } }
  return {
    'market-snapshots': (i: Inbound) => handleInjectedBar(snapshots, i as Inbound<'md.in.bar'>),
    indicators: (i: Inbound) => handleIndicatorBar(indicators, i as Inbound<'md.bar'>, declarations),
    strategy: (i: Inbound) => handleIndicators(strategy, i as Inbound<'md.ind'>, index),
    'risk-gate': (i: Inbound) => handleRisk(risk, i, account, undefined, found(riskLookup(risk, i))),
    'paper-executor': (i: Inbound) => handleExecution(executor, i, account, found(executorLookup(executor, i, account))),
    persister: (i: Inbound) => ({ state: null, writes: writesOf(i) }),
  }
}

const RISK_ACCEPTS = new Set(['trade.idea', 'trade.fill', 'trade.order_status', 'trade.command'])

/** Who consumes a message, in the order they get it. */
function consumers(input: Inbound): PipelineActor[] {
  const out: PipelineActor[] = []
  switch (input.type) {
    case 'md.in.bar':
      out.push('market-snapshots')
      break
    case 'md.bar':
      out.push('paper-executor', 'indicators')
      break
    case 'md.ind':
      out.push('strategy')
      break
    case 'trade.order':
      out.push('paper-executor')
      break
  }
  if (RISK_ACCEPTS.has(input.type)) out.push('risk-gate')
  if (input.type !== 'md.in.bar') out.push('persister')
  return out
}

/** Injects `bars` (symbol + injected bar each) one at a time and runs everything to quiescence. */
export async function runPipeline(config: ConfigFile, bars: { symbol: string; bar: Message<'md.in.bar'>; msgId?: string }[]): Promise<PipelineResult> {
  const streams = new Streams()
  const h = handlers(config, streams.lookups())
  const record = Object.fromEntries(
    (['market-snapshots', 'indicators', 'strategy', 'risk-gate', 'paper-executor', 'persister'] as const).map((a) => [
      a,
      { inputs: [], outputs: [], writes: [] },
    ]),
  ) as unknown as Record<PipelineActor, Recorded>
  for (const { symbol, bar, msgId } of bars) {
    const queue: Inbound[] = [streams.inject(symbol, bar, msgId)]
    while (queue.length) {
      const input = queue.shift()!
      for (const actor of consumers(input)) {
        const step = await h[actor](input)
        const r = record[actor]
        r.inputs.push(input)
        for (const out of step.emit ?? []) {
          r.outputs.push(out)
          queue.push(streams.publish(out))
        }
        if (step.writes) r.writes.push(...step.writes)
      }
    }
  }
  return { streams, record }
}

/**
 * Replays one actor's recorded inputs through a fresh handler. Its lookups see exactly the bars it
 * had been given so far, as in the pipeline run.
 */
export async function replayActor(config: ConfigFile, actor: PipelineActor, inputs: Inbound[], stream?: Inbound<'md.bar'>[]): Promise<Recorded> {
  const seen: Inbound<'md.bar'>[] = []
  // The gate reads no bars of its own: its lookups read the MD stream of the run (`stream`), which
  // holds whatever they name (a lookup never looks past the bar of the message that made it).
  const h = handlers(
    config,
    lookupsFrom(() => stream ?? seen),
  )
  const r: Recorded = { inputs, outputs: [], writes: [] }
  for (const input of inputs) {
    if (input.type === 'md.bar') seen.push(input)
    const step = await h[actor](input)
    r.outputs.push(...(step.emit ?? []))
    if (step.writes) r.writes.push(...step.writes)
  }
  return r
}
