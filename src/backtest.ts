// `paperd backtest`: the very same actor handlers, run in this process over historical bars with no
// NATS and no Postgres. Every message goes through a FIFO queue to the scopes whose durable
// consumers would receive it (same filters, same stream sequences, same ids), so the trades are
// the ones the daemon makes on the same data. Bars of several symbols are fed in bar-time order.
import type { AnyActorDef, Inbound, Outbound, Scope, Step } from './actor.js'
import { paperExecutor, type MarketData } from '../actors/paper-executor.js'
import { indicators } from '../actors/indicators.js'
import { marketSnapshots } from '../actors/market-snapshots.js'
import { riskGate } from '../actors/risk-gate.js'
import { strategy } from '../actors/strategy.js'
import type { ConfigFile } from './config-file.js'
import { createCodec } from './codec.js'
import { contracts, matchSubject, subjectMatches, subjectOf, type Bar, type Message, type StreamName } from './contracts.js'
import type { CsvBar } from './csv.js'
import { DEFAULT_PARTITIONS } from './partition.js'

export interface BacktestInput {
  symbol: string
  timeframe: string
  bars: CsvBar[]
}

export interface BacktestRun {
  fills: Message<'trade.fill'>[]
  portfolios: Message<'trade.portfolio'>[]
  positions: Message<'trade.position'>[]
  /** Where every idea ended (auto_executed, rejected with the reason, …). */
  statuses: Message<'trade.idea_status'>[]
  /** Orders the executor could not fill (no position, insufficient cash, …). */
  orderStatuses: Message<'trade.order_status'>[]
  /** States of multi-symbol strategies (Gayed), one per complete day. */
  signals: Message<'strategy.signal'>[]
  /** Phase-5 metrics rows. */
  metrics: Message<'metrics.phase5'>[]
  /** Every bar time seen, in order, per timeframe of the inputs. */
  times: string[]
  /** Messages handled by each actor. */
  handled: Record<string, number>
  bars: number
  /** Input bars the daemon would have dead-lettered (inconsistent OHLC, …), with the reason. */
  refused: { symbol: string; ts: string; reason: string }[]
}

interface Route {
  def: AnyActorDef
  scope: Scope
  state: { value: unknown }
}

/** Bars of every input in bar-time order; ties keep the order of the inputs. */
export function mergeByTime(inputs: BacktestInput[]): { symbol: string; timeframe: string; bar: CsvBar }[] {
  const all = inputs.flatMap((input, i) => input.bars.map((bar, j) => ({ symbol: input.symbol, timeframe: input.timeframe, bar, i, j })))
  all.sort((a, b) => (a.bar.ts < b.bar.ts ? -1 : a.bar.ts > b.bar.ts ? 1 : a.i - b.i || a.j - b.j))
  return all
}

/** Phase-5 NarrativeGap inputs, as `md.in.context.<SYM>` would carry them. */
export interface BacktestContext {
  symbol: string
  ts: string
  consensus_forecast: number
  distribution_estimate: number
}

export async function runBacktest(config: ConfigFile, inputs: BacktestInput[], opts: { partitions?: number; contexts?: BacktestContext[] } = {}): Promise<BacktestRun> {
  const partitions = opts.partitions ?? DEFAULT_PARTITIONS
  const owned = [...Array(partitions).keys()]
  const barsBySymbol = new Map<string, { bar: Bar; seq: number }[]>()
  const market: MarketData = {
    // The bars stored so far, as the daemon's stream lookup would see them.
    async nextBar(symbol, timeframe, afterSeq) {
      const list = barsBySymbol.get(`${symbol}|${timeframe}`) ?? []
      let lo = 0
      let hi = list.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (list[mid]!.seq <= afterSeq) lo = mid + 1
        else hi = mid
      }
      return list[lo] ?? null
    },
  }
  const defs: AnyActorDef[] = [
    marketSnapshots(),
    indicators(config.strategies, owned),
    strategy(config.strategies, owned, config.accounts),
    riskGate(config.accounts),
    paperExecutor(config.accounts, market),
  ]
  const routes = defs.flatMap((def) => def.scopes.map((scope) => ({ def, scope, state: { value: def.init(scope) } })))
  const routeCache = new Map<string, { route: Route; accepts: boolean }[]>()
  const routesFor = (subject: string, stream: StreamName) => {
    let hit = routeCache.get(subject)
    if (!hit) {
      const type = matchSubject(subject)!.type
      hit = []
      for (const route of routes) for (const input of route.scope.inputs) {
        if (input.stream === stream && (!input.filter || subjectMatches(input.filter, subject))) hit.push({ route, accepts: input.accepts.includes(type) })
      }
      routeCache.set(subject, hit)
    }
    return hit
  }
  const seqs: Record<StreamName, number> = { MD_IN: 0, MD: 0, TRADE: 0, SIGNALS: 0, DLQ: 0 }
  const run: BacktestRun = { fills: [], portfolios: [], positions: [], statuses: [], orderStatuses: [], signals: [], metrics: [], times: [], handled: {}, bars: 0, refused: [] }
  const codec = createCodec(partitions)
  const queue: { subject: string; stream: StreamName; inbound: Inbound }[] = []

  const store = (type: Outbound['type'], data: Outbound['data'], msgId?: string) => {
    const subject = subjectOf(type, data as Record<string, unknown>, partitions)
    const stream = contracts[type].stream
    const seq = ++seqs[stream]
    const inbound = { type, data, subject, params: matchSubject(subject)!.params, seq, msgId: msgId ?? data.id } as Inbound
    if (type === 'md.bar') {
      const bar = data as Bar
      const key = `${bar.symbol}|${bar.timeframe}`
      ;(barsBySymbol.get(key) ?? barsBySymbol.set(key, []).get(key)!).push({ bar, seq })
    } else if (type === 'trade.fill') run.fills.push(data as Message<'trade.fill'>)
    else if (type === 'trade.portfolio') run.portfolios.push(data as Message<'trade.portfolio'>)
    else if (type === 'trade.position') run.positions.push(data as Message<'trade.position'>)
    else if (type === 'trade.idea_status') run.statuses.push(data as Message<'trade.idea_status'>)
    else if (type === 'trade.order_status') run.orderStatuses.push(data as Message<'trade.order_status'>)
    else if (type === 'strategy.signal') run.signals.push(data as Message<'strategy.signal'>)
    else if (type === 'metrics.phase5') run.metrics.push(data as Message<'metrics.phase5'>)
    queue.push({ subject, stream, inbound })
  }

  const drain = async () => {
    for (let next = 0; next < queue.length; next++) {
      const { subject, stream, inbound } = queue[next]!
      for (const { route, accepts } of routesFor(subject, stream)) {
        if (!accepts) continue
        const result = route.def.handle(route.state.value, inbound, route.scope)
        // Only the executor's handler is asynchronous (its market port); don't pay a tick for the rest.
        const step: Step<unknown> = result instanceof Promise ? await result : result
        route.state.value = step.state
        run.handled[route.def.name] = (run.handled[route.def.name] ?? 0) + 1
        for (const out of step.emit ?? []) store(out.type, out.data)
      }
    }
    queue.length = 0
  }

  // A context applies from the first bar at or after its time, as if published just before that bar.
  const contexts = [...(opts.contexts ?? [])].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0))
  let c = 0
  let lastTs = ''
  for (const { symbol, timeframe, bar } of mergeByTime(inputs)) {
    for (; c < contexts.length && contexts[c]!.ts <= bar.ts; c++) {
      const { symbol: ctxSymbol, ...body } = contexts[c]!
      const subject = `md.in.context.${ctxSymbol}`
      codec.check('md.in.context', body)
      queue.push({ subject, stream: 'MD_IN', inbound: { type: 'md.in.context', data: body, subject, params: { symbol: ctxSymbol }, seq: ++seqs.MD_IN, msgId: `ctx:${ctxSymbol}:${body.ts}` } as Inbound })
      await drain()
    }
    const subject = `md.in.bar.${symbol}`
    const data = { ts: bar.ts, timeframe, open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume }
    try {
      codec.check('md.in.bar', data)
    } catch (err) {
      run.refused.push({ symbol, ts: bar.ts, reason: (err as Error).message })
      continue
    }
    // What `paperd replay` sends: the same body and the same Nats-Msg-Id.
    queue.push({ subject, stream: 'MD_IN', inbound: { type: 'md.in.bar', data, subject, params: { symbol }, seq: ++seqs.MD_IN, msgId: `in:${symbol}:${timeframe}:${bar.ts}` } as Inbound })
    if (bar.ts !== lastTs) run.times.push((lastTs = bar.ts))
    run.bars++
    await drain()
  }
  return run
}

