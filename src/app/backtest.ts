// `paperd backtest`: the very same actor handlers, run in this process over historical bars with no
// NATS and no Postgres. Every message goes through a FIFO queue to the scopes whose durable
// consumers would receive it (same filters, same stream sequences, same ids), so the trades are
// the ones the daemon makes on the same data. Bars of several symbols are fed in bar-time order.
import { takes, type AnyActorDef, type Found, type Inbound, type Outbound, type Scope, type Step } from '../core/actor.js'
import { paperExecutor } from '../../actors/paper-executor.js'
import { BacktestBars } from './backtest-bars.js'
import { indicators } from '../../actors/indicators.js'
import { handleInjectedBar, marketSnapshots, type SnapshotsState } from '../../actors/market-snapshots.js'
import { riskGate } from '../../actors/risk-gate.js'
import { strategy } from '../../actors/strategy.js'
import { PairMemo } from '../core/memo.js'
import type { ConfigFile } from '../core/config-file.js'
import { createCodec } from '../runtime/codec.js'
import { contracts, messageTypes, STREAMS, type Bar, type Message, type MessageType, type Published, type StreamName } from '../core/contracts.js'
import { inputSubject, matchSubject, subjectOf } from '../core/subjects.js'
import { barObjects, isColumns, type BarColumns, type CsvBar } from '../core/csv.js'
import type { PortfolioPoints } from './backtest-report.js'
import { DEFAULT_PARTITIONS } from '../core/partition.js'

export interface BacktestInput {
  symbol: string
  timeframe: string
  bars: CsvBar[]
}

/** An input of runBacktest: its bars as objects, or as columns (what `paperd backtest` reads a CSV into: no object per bar to collect). */
export interface BacktestSeries {
  symbol: string
  timeframe: string
  bars: CsvBar[] | BarColumns
}

/** `input` with its bars as objects. */
export const withBarObjects = (input: BacktestSeries): BacktestInput =>
  isColumns(input.bars) ? { ...input, bars: barObjects(input.bars) } : (input as BacktestInput)

export interface BacktestRun<P = Message<'trade.portfolio'>[]> {
  fills: Message<'trade.fill'>[]
  /** Every portfolio the executor published (after each fill, and on every bar of a held symbol). */
  portfolios: P
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
  /** Input bars the daemon would have dead-lettered (inconsistent OHLC, a contradicted bar, …), with the reason. */
  refused: { symbol: string; ts: string; reason: string }[]
}

/** One scope of one actor, with its state and the count of messages its actor has handled. */
interface Route {
  def: AnyActorDef
  scope: Scope
  state: unknown
  counter: { name: string; n: number }
}

/** Where the messages of one subject go: its template tokens and the scopes that take them. */
interface Destination {
  subject: string
  params: Readonly<Record<string, string>>
  routes: Route[]
}

/** Where a run keeps the messages of one type it reports (an array, or what a report needs of each). */
interface Sink {
  push(data: never): void
}

/** Bars of every input in bar-time order; ties keep the order of the inputs. */
export function mergeByTime(inputs: BacktestSeries[]): { symbol: string; timeframe: string; bar: CsvBar }[] {
  const all = inputs.flatMap((input, i) => withBarObjects(input).bars.map((bar, j) => ({ symbol: input.symbol, timeframe: input.timeframe, bar, i, j })))
  all.sort((a, b) => (a.bar.ts < b.bar.ts ? -1 : a.bar.ts > b.bar.ts ? 1 : a.i - b.i || a.j - b.j))
  return all
}

/**
 * Whether `bars` is already in mergeByTime's order on its own (times as strings, never going back:
 * 'ordered'), and every time after the one before ('strict'); false when not.
 */
function inTimeOrder(bars: CsvBar[] | BarColumns): 'strict' | 'ordered' | false {
  const columns = isColumns(bars) ? bars : undefined
  if (columns?.strict) return 'strict'
  const tsAt = (i: number) => (columns ? columns.ts[i]! : (bars as CsvBar[])[i]!.ts)
  let order: 'strict' | 'ordered' = 'strict'
  for (let i = 0; i < bars.length; i++) {
    const ts = tsAt(i)
    if (typeof ts !== 'string') return false
    if (i > 0) {
      const before = tsAt(i - 1)
      if (ts < before) return false
      if (ts === before) order = 'ordered'
    }
  }
  return order
}

/** Phase-5 NarrativeGap inputs, as `md.in.context.<SYM>` would carry them. */
export interface BacktestContext {
  symbol: string
  ts: string
  consensus_forecast: number
  distribution_estimate: number
}

interface BacktestOptions {
  partitions?: number
  contexts?: BacktestContext[]
  /**
   * Also check every message the handlers publish against its contract (schema, invariants, subject
   * tokens), as the daemon's codec does on the wire. Off by default: the handlers are trusted code in
   * this process and the check would cost more than the handlers themselves. Input bars and contexts
   * are always checked (they come from outside).
   */
  validate?: boolean
  /**
   * Keep of each portfolio only what a report reads, in columns (`PortfolioPoints`): a run of 200k
   * bars holds about 100k portfolios, and keeping whole messages cost an eighth of its time in the
   * garbage collector. `paperd backtest` and sweeps report; tests read whole messages.
   */
  points?: boolean
  /**
   * Told how many input bars have been fed, every PROGRESS_EVERY of them (and the run then yields to
   * the event loop, so a progress bar can be drawn); not called at all for shorter runs.
   */
  onProgress?: (fed: number, total: number) => void
}

/** How often a run with `onProgress` reports, in input bars. */
export const PROGRESS_EVERY = 65_536

export async function runBacktest(config: ConfigFile, inputs: BacktestSeries[], opts?: BacktestOptions & { points?: false }): Promise<BacktestRun>
export async function runBacktest(config: ConfigFile, inputs: BacktestSeries[], opts: BacktestOptions & { points: true }): Promise<BacktestRun<PortfolioPoints>>
export async function runBacktest(config: ConfigFile, inputs: BacktestSeries[], opts: BacktestOptions = {}): Promise<BacktestRun<unknown>> {
  const partitions = opts.partitions ?? DEFAULT_PARTITIONS
  const defs: AnyActorDef[] = [
    marketSnapshots(partitions),
    indicators(config.strategies, partitions),
    strategy(config.strategies, config.accounts, partitions),
    riskGate(config.accounts, config.strategies),
    paperExecutor(config.accounts),
  ]
  const routes: Route[] = defs.flatMap((def) => {
    const counter = { name: def.name, n: 0 }
    return def.scopes.map((scope) => ({ def, scope, state: def.init(scope) as unknown, counter }))
  })
  const points: PortfolioPoints | undefined = opts.points ? { account: [], ts: [], equity: [], cash: [] } : undefined
  const portfolios: Message<'trade.portfolio'>[] = []
  const run: BacktestRun<unknown> = {
    fills: [],
    portfolios: points ?? portfolios,
    positions: [],
    statuses: [],
    orderStatuses: [],
    signals: [],
    metrics: [],
    times: [],
    handled: {},
    bars: 0,
    refused: [],
  }
  /** Actors in the order they first handled a message: the key order of `run.handled`. */
  const counted: Route['counter'][] = []
  const codec = createCodec(partitions)
  const validate = opts.validate === true

  // Subjects repeat (a few per symbol and account), so where each goes is worked out once.
  const destinations = new Map<string, Destination>()
  const destinationOf = (subject: string, stream: StreamName): Destination => {
    let d = destinations.get(subject)
    if (!d) {
      const match = matchSubject(subject)!
      const type = match.type
      const to: Route[] = []
      for (const route of routes)
        for (const input of route.scope.inputs) {
          if (takes(input, stream, subject, type)) to.push(route)
        }
      destinations.set(subject, (d = { subject, params: match.params, routes: to }))
    }
    return d
  }
  const seqs = Object.fromEntries(Object.keys(STREAMS).map((s) => [s, { n: 0 }])) as Record<StreamName, { n: number }>
  const sinks: Partial<Record<Published, Sink>> = {
    'trade.fill': run.fills,
    'trade.portfolio': points
      ? {
          push: (p: Message<'trade.portfolio'>) => {
            points.account.push(p.account)
            points.ts.push(p.ts)
            points.equity.push(p.equity)
            points.cash.push(p.cash)
          },
        }
      : portfolios,
    'trade.position': run.positions,
    'trade.idea_status': run.statuses,
    'trade.order_status': run.orderStatuses,
    'strategy.signal': run.signals,
    'metrics.phase5': run.metrics,
  }
  /**
   * Per published type: its stream's sequence, where its messages are kept, and its destinations by
   * the one body field its subject is made of (symbol, account), so building and parsing the subject
   * happens once per value instead of once per message.
   */
  const kinds = new Map<MessageType, { seq: { n: number }; sink: Sink | undefined; field: string | undefined; byToken: Map<unknown, Destination> }>()
  for (const type of messageTypes) {
    const fields = new Set([...contracts[type].subject.matchAll(/\{(\w+)\}/g)].map((m) => (m[1] === 'partition' ? 'symbol' : m[1]!)))
    kinds.set(type, {
      seq: seqs[contracts[type].stream],
      sink: sinks[type as Published],
      field: fields.size === 1 ? [...fields][0] : undefined,
      byToken: new Map(),
    })
  }

  // The FIFO of messages still to hand to their scopes, as two parallel arrays (message, scopes)
  // reused from bar to bar: entries from `head` to `tail` are pending; the drain rewinds both when
  // it empties the queue (truncating the arrays instead would reallocate them on every bar).
  const queued: Inbound[] = []
  const targets: Route[][] = []
  let head = 0
  let hop = 0
  let tail = 0
  const enqueue = (inbound: Inbound, to: Route[]) => {
    queued[tail] = inbound
    targets[tail++] = to
  }

  const store = (type: Outbound['type'], data: Outbound['data']) => {
    const kind = kinds.get(type)!
    const body = data as Record<string, unknown>
    let d: Destination | undefined
    if (kind.field === undefined) d = destinationOf(subjectOf(type, body, partitions), contracts[type].stream)
    else {
      const token = body[kind.field]
      d = kind.byToken.get(token)
      // subjectOf throws on a missing token; a token seen before built its subject fine.
      if (!d) kind.byToken.set(token, (d = destinationOf(subjectOf(type, body, partitions), contracts[type].stream)))
    }
    const seq = ++kind.seq.n
    if (validate) codec.check(type, data, d.params)
    if (type === 'md.bar') {
      const bar = data as Bar
      // The bar of the input being handled, made again when a lookup reads it; any other, kept whole.
      const from = injecting >= 0 && bar.symbol === symbolAt(injecting) && bar.ts === tsAt(injecting) ? injecting : undefined
      if (validate && from !== undefined && JSON.stringify(remake(from, bar.context)) !== JSON.stringify(bar))
        throw new Error(`backtest: the ${bar.symbol} bar of ${bar.ts} made again from its input differs from the one published`)
      stored.add(seq, bar, from)
    } else kind.sink?.push(data as never) // the sink of a type keeps messages of that type
    // A message no scope takes (a portfolio, a decision: the persister's alone) is not queued at all.
    if (d.routes.length) enqueue({ type, data, subject: d.subject, params: d.params, seq, msgId: data.id } as Inbound, d.routes)
  }

  const settle = (route: Route, step: Step<unknown>, inbound: Inbound) => {
    route.state = step.state
    if (route.counter.n++ === 0) counted.push(route.counter)
    // What the daemon dead-letters once a handler has seen it (a bar contradicting an accepted one).
    if (step.refused !== undefined)
      run.refused.push({ symbol: inbound.params.symbol ?? '', ts: (inbound.data as { ts: string }).ts, reason: `${inbound.type}: ${step.refused}` })
    const emit = step.emit
    if (emit) for (let i = 0; i < emit.length; i++) store(emit[i]!.type, emit[i]!.data)
  }

  // Hands queued messages to their scopes in order. What a handler looks up is read from the bars
  // stored so far, as the daemon reads it from the stream.
  const NOTHING: Found = []
  const drain = (): void => {
    for (; head < tail; head++, hop = 0) {
      const inbound = queued[head]!
      const to = targets[head]!
      while (hop < to.length) {
        const route = to[hop++]!
        const lookups = route.def.lookup?.(route.state, inbound, route.scope)
        const found = lookups?.length ? stored.found(lookups) : NOTHING
        settle(route, route.def.handle(route.state, inbound, route.scope, found), inbound)
      }
    }
    head = tail = 0
  }

  // A context applies from the first bar at or after its time, as if published just before that bar.
  const contexts = [...(opts.contexts ?? [])].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0))
  let c = 0
  let lastTs = ''
  const barDestinations = new Map<string, Destination>()
  const msgIds = new PairMemo((symbol, timeframe) => `in:${symbol}:${timeframe}:`)
  // One input already in time order (a CSV file) is fed as it is: the merge would copy and sort it.
  const order = inputs.length === 1 ? inTimeOrder(inputs[0]!.bars) : false
  const single = order ? inputs[0]! : undefined
  const merged = single ? undefined : mergeByTime(inputs)
  const count = single ? single.bars.length : merged!.length
  const symbolAt = (k: number) => (merged ? merged[k]!.symbol : single!.symbol)
  const timeframeAt = (k: number) => (merged ? merged[k]!.timeframe : single!.timeframe)
  const columns = single && isColumns(single.bars) ? single.bars : undefined
  const objects = single && !columns ? (single.bars as CsvBar[]) : undefined
  const tsAt = (k: number): string => (columns ? columns.ts[k]! : merged ? merged[k]!.bar.ts : objects![k]!.ts)
  // Columns whose every time follows the one before (a CSV file: parsed, sorted, de-duplicated):
  // the run's times are theirs, taken at the end, rather than compared and pushed bar by bar.
  const timesOfColumns = columns !== undefined && order === 'strict'
  /** MD_IN's sequence of each input bar published. */
  const inSeqs = new Float64Array(count)
  /** What `paperd replay` sends for input bar `k`: the same body and the same Nats-Msg-Id. */
  const injected = (k: number, data: Inbound<'md.in.bar'>['data'], d: Destination): Inbound =>
    ({ type: 'md.in.bar', data, subject: d.subject, params: d.params, seq: inSeqs[k], msgId: msgIds.get(symbolAt(k), timeframeAt(k)) + tsAt(k) }) as Inbound
  const bodyAt = (k: number): Inbound<'md.in.bar'>['data'] => {
    if (columns) {
      const { ts, open, high, low, close, volume } = columns
      return { ts: ts[k]!, timeframe: timeframeAt(k), open: open[k]!, high: high[k]!, low: low[k]!, close: close[k]!, volume: volume[k]! }
    }
    const bar = merged ? merged[k]!.bar : objects![k]!
    return { ts: bar.ts, timeframe: timeframeAt(k), open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume }
  }
  /** The md.bar market-snapshots made of input bar `k` (carrying `context`): the same handler on the same message. */
  const remake = (k: number, context: Bar['context']): Bar => {
    const inbound = injected(k, bodyAt(k), barDestinations.get(symbolAt(k))!) as Inbound<'md.in.bar'>
    const scratch: SnapshotsState = { last: {} }
    if (context) scratch.context = { [symbolAt(k)]: context }
    return handleInjectedBar(scratch, inbound).emit![0]!.data as Bar
  }
  const stored = new BacktestBars(remake)
  /** The input bar whose messages are being handled; -1 between bars. */
  let injecting = -1
  for (let k = 0; k < count; k++) {
    if (opts.onProgress && k > 0 && k % PROGRESS_EVERY === 0) {
      opts.onProgress(k, count)
      await new Promise((resolve) => setImmediate(resolve))
    }
    const symbol = symbolAt(k)
    const ts = tsAt(k)
    for (; c < contexts.length && contexts[c]!.ts <= ts; c++) {
      const { symbol: ctxSymbol, ...body } = contexts[c]!
      const subject = inputSubject('md.in.context', ctxSymbol)
      codec.check('md.in.context', body)
      const d = destinationOf(subject, 'MD_IN')
      enqueue({ type: 'md.in.context', data: body, subject, params: d.params, seq: ++seqs.MD_IN.n, msgId: `ctx:${ctxSymbol}:${body.ts}` } as Inbound, d.routes)
      drain()
    }
    const data = bodyAt(k)
    try {
      // The CSV parser's columns hold canonical times it read digit by digit and found real.
      codec.checkInputBar(data, columns?.strict === true)
    } catch (err) {
      run.refused.push({ symbol, ts, reason: (err as Error).message })
      continue
    }
    let d = barDestinations.get(symbol)
    if (!d) barDestinations.set(symbol, (d = destinationOf(inputSubject('md.in.bar', symbol), 'MD_IN')))
    inSeqs[k] = ++seqs.MD_IN.n
    enqueue(injected(k, data, d), d.routes)
    if (!timesOfColumns && ts !== lastTs) run.times.push((lastTs = ts))
    run.bars++
    injecting = k
    drain()
    injecting = -1
  }
  // The times of the bars published: inSeqs is 0 for a bar refused.
  if (timesOfColumns) run.times = run.refused.length ? columns.ts.filter((_, k) => inSeqs[k]! > 0) : columns.ts.slice()
  for (const counter of counted) run.handled[counter.name] = counter.n
  // Every order reaches the executor before the bar after its signal, so its books never wait to be
  // folded again (ActorDef.settle): each point is published once, in order, as a report reads them.
  for (const route of routes)
    if (route.def.settle?.due(route.state)) throw new Error(`backtest: ${route.def.name} ${route.scope.key} has books to fold again (a fill behind its bars)`)
  return run
}
