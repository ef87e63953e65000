// Every interleaving JetStream can produce for the risk gate and the paper executor, in memory.
//
// The upstream actors (market-snapshots, indicators, strategy) are run once, in bar order, as the
// backtest runs them: that gives the MD stream and every idea. Then the account's TRADE stream is
// built the way a daemon builds it, by independent processes moving at random speeds:
// - the feed appends the next bar to MD (and the strategy may then publish that bar's ideas);
// - the strategy appends the ideas of a bar it has evaluated, in one publish;
// - the gate and the executor each pull a batch from their consumers (several inputs merged in
//   whatever order their pulls came back), handle it, publish the outputs (JetStream drops an id it
//   already holds), then acknowledge — and may be SIGKILLed between publishing and acknowledging, to
//   come back from their last checkpoint plus a replay of what was acknowledged after it (inputs
//   merged by stream time, as src/runtime/rebuild.ts does), then go on from the acknowledged floor.
// When everything has drained, the fills on TRADE must be exactly the backtest's.
// No NATS and no clock: a seeded random scheduler, so a failing seed replays exactly.
import { takes, type AnyActorDef, type FoundBar, type Inbound, type InputSpec, type Outbound, type Scope, type Step } from '../../src/core/actor.js'
import { lookupInMemory } from '../../src/runtime/bar-tape.js'
import type { ConfigFile } from '../../src/core/config-file.js'
import { messageIdOf, type Message, type StreamName } from '../../src/core/contracts.js'
import { matchSubject, subjectMatches, subjectOf } from '../../src/core/subjects.js'
import { indicators } from '../../actors/indicators.js'
import { marketSnapshots } from '../../actors/market-snapshots.js'
import { strategy } from '../../actors/strategy.js'
import { riskGate } from '../../actors/risk-gate.js'
import { paperExecutor } from '../../actors/paper-executor.js'
import { mergeByTime, type BacktestInput } from '../../src/app/backtest.js'
import { DEFAULT_PARTITIONS } from '../../src/core/partition.js'
import { prng } from '../../src/app/synthetic-bars.js'

/** A message as stored: its stream sequence and when it was appended (the stream's timestamp). */
interface Stored {
  stream: StreamName
  seq: number
  at: number
  input: Inbound
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T

function inboundOf(type: Outbound['type'], data: Outbound['data'], seq: number): Inbound {
  const subject = subjectOf(type, data as Record<string, unknown>, DEFAULT_PARTITIONS)
  return { type, data, subject, params: matchSubject(subject)!.params, seq, msgId: data.id } as Inbound
}

/** The upstream of the gate and executor, run once in bar order: MD messages, and each bar's ideas. */
export interface Upstream {
  /** md.bar and md.ind in stream order, with their sequences. */
  md: Stored[]
  /** Per MD message index: the ideas (and strategy signals) the strategy published on handling it. */
  ideasAfter: Map<number, Outbound[]>
}

export function runUpstream(config: ConfigFile, inputs: BacktestInput[]): Upstream {
  const defs: AnyActorDef[] = [marketSnapshots(), indicators(config.strategies), strategy(config.strategies, config.accounts)]
  const routes = defs.flatMap((def) => def.scopes.map((scope) => ({ def, scope, state: def.init(scope) as unknown })))
  const md: Stored[] = []
  const ideasAfter = new Map<number, Outbound[]>()
  let inSeq = 0
  for (const { symbol, timeframe, bar } of mergeByTime(inputs)) {
    const body = { ts: bar.ts, timeframe, open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume }
    const queue: Inbound[] = [
      {
        type: 'md.in.bar',
        data: body,
        subject: `md.in.bar.${symbol}`,
        params: { symbol },
        seq: ++inSeq,
        msgId: `in:${symbol}:${timeframe}:${bar.ts}`,
      } as Inbound,
    ]
    while (queue.length) {
      const input = queue.shift()!
      const stream: StreamName = input.type === 'md.in.bar' ? 'MD_IN' : 'MD'
      for (const r of routes) {
        if (!r.scope.inputs.some((i) => takes(i, stream, input.subject, input.type))) continue
        const step = r.def.handle(r.state, input, r.scope, []) as Step<unknown>
        r.state = step.state
        for (const out of step.emit ?? []) {
          if (out.type === 'md.bar' || out.type === 'md.ind') {
            const stored: Stored = { stream: 'MD', seq: md.length + 1, at: 0, input: inboundOf(out.type, out.data, md.length + 1) }
            md.push(stored)
            queue.push(stored.input)
          } else if (out.type === 'trade.idea') {
            // The ideas of one handled message are published together, after that message.
            const at = md.length - 1
            ideasAfter.set(at, [...(ideasAfter.get(at) ?? []), out])
          }
        }
      }
    }
  }
  return { md, ideasAfter }
}

interface Consumer {
  spec: InputSpec
  /** Index into the stream's messages of the next one to deliver. */
  next: number
  /** Stream sequence acknowledged (everything up to it). */
  acked: number
}

interface Proc {
  name: string
  def: AnyActorDef
  scope: Scope
  state: unknown
  consumers: Consumer[]
  checkpoint: { state: unknown; acked: number[] } | null
  kills: number
}

export interface SimOptions {
  seed: number
  /** Chance that a batch's process dies after publishing, before acknowledging. */
  killRate?: number
  /** Largest batch a process pulls. */
  maxBatch?: number
  /**
   * 'symbol': each symbol's ideas come from a strategy scope of its own (symbols in different
   * partitions), each going at its own random pace, so ideas reach TRADE out of bar order across
   * symbols. Default 'one': one scope publishes every bar's ideas in bar order.
   */
  strategyScopes?: 'one' | 'symbol'
  /**
   * Chance, per batch the gate handles, that it then stalls (a process frozen, or dead and waiting
   * for its lease to lapse) while the feed and the executor go on, for `stallMessages` MD messages.
   */
  stallRate?: number
  stallMessages?: number
}

export interface SimResult {
  fills: Message<'trade.fill'>[]
  statuses: Message<'trade.idea_status'>[]
  kills: number
  trade: Inbound[]
  /** Ideas the gate still holds after everything drained. */
  held: number
  /** The equity points that stand, as the persister's `equity_points` view gives them. */
  points: Message<'trade.portfolio'>[]
}

/**
 * The points that stand of a series of portfolio messages, in whatever order they came (as the
 * persister's tables and the `equity_points` view make them): per id the version with the highest
 * (orders_seq, seq), less those a later fold withdrew (fold_seq at or after its supersedes_from, fewer orders known).
 */
export function standingPoints(messages: readonly Message<'trade.portfolio'>[]): Message<'trade.portfolio'>[] {
  const newest = new Map<string, Message<'trade.portfolio'>>()
  const orders = (m: Message<'trade.portfolio'>) => m.orders_seq ?? 0
  const newer = (a: Message<'trade.portfolio'>, b: Message<'trade.portfolio'>) => (orders(a) !== orders(b) ? orders(a) > orders(b) : a.seq > b.seq)
  /** account → its folds by supersedes_from, with the most orders any of them up to there knew. */
  const folds = new Map<string, { from: number; orders: number }[]>()
  for (const m of messages) {
    const had = newest.get(m.id)
    if (!had || newer(m, had)) newest.set(m.id, m)
    if (m.supersedes_from == null) continue
    let list = folds.get(m.account)
    if (!list) folds.set(m.account, (list = []))
    list.push({ from: m.supersedes_from, orders: orders(m) })
  }
  for (const list of folds.values()) {
    list.sort((a, b) => a.from - b.from)
    for (let i = 1; i < list.length; i++) list[i]!.orders = Math.max(list[i]!.orders, list[i - 1]!.orders)
  }
  // Withdrawn: some fold from at or before the point knew more orders (a search, not a scan of every
  // fold per point: the simulator's runs have thousands of each).
  const withdrawn = (p: Message<'trade.portfolio'>) => {
    const list = folds.get(p.account)
    const at = p.fold_seq ?? 0
    let lo = 0
    let hi = list?.length ?? 0
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (list![mid]!.from <= at) lo = mid + 1
      else hi = mid
    }
    return lo > 0 && list![lo - 1]!.orders > orders(p)
  }
  return [...newest.values()].filter((p) => !withdrawn(p))
}

/**
 * One account's gate and executor under a random schedule. `up` comes from runUpstream on the same
 * config and bars.
 */
export function simulate(config: ConfigFile, up: Upstream, account: string, opts: SimOptions): SimResult {
  const random = prng(opts.seed)
  const killRate = opts.killRate ?? 0
  const maxBatch = opts.maxBatch ?? 8
  const stallRate = opts.stallRate ?? 0
  const stallMessages = opts.stallMessages ?? 0
  /** A stalled process: the MD messages fed until it moves again. */
  const stalledUntil = new Map<Proc, number>()
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!
  const streams: Record<'MD' | 'TRADE', Stored[]> = { MD: [], TRADE: [] }
  const ids = new Set<string>()
  let clock = 0

  const publish = (out: Outbound) => {
    const id = messageIdOf(out)
    if (ids.has(id)) return // the duplicate window: the first copy stays
    ids.add(id)
    const seq = streams.TRADE.length + 1
    streams.TRADE.push({ stream: 'TRADE', seq, at: ++clock, input: inboundOf(out.type, out.data, seq) })
  }

  const accounts = config.accounts.filter((a) => a.id === account)
  /** symbol → md.bar messages appended so far: what a lookup can find. */
  const barsBySymbol = new Map<string, FoundBar[]>()
  const procOf = (name: string, def: AnyActorDef): Proc => {
    const scope = def.scopes.find((s) => s.key === account)!
    return { name, def, scope, state: def.init(scope), consumers: scope.inputs.map((spec) => ({ spec, next: 0, acked: 0 })), checkpoint: null, kills: 0 }
  }
  const gate = procOf('risk-gate', riskGate(accounts, config.strategies))
  const executor = procOf('paper-executor', paperExecutor(accounts))
  const procs = [gate, executor]

  // Subjects repeat (one per type and account): each filter is matched against each once.
  const matched = new Map<string, boolean>()
  const matches = (spec: InputSpec, m: Stored) => {
    if (m.stream !== spec.stream || !spec.filter) return m.stream === spec.stream
    const key = `${spec.filter} ${m.input.subject}`
    let hit = matched.get(key)
    if (hit === undefined) matched.set(key, (hit = subjectMatches(spec.filter, m.input.subject)))
    return hit
  }
  /**
   * The next message a consumer would deliver, if any, skipping what its filter leaves out and what
   * the handler does not take (the runtime acknowledges those unread: the executor's own portfolios
   * on the account's subjects, say).
   */
  const peek = (c: Consumer): number => {
    const list = streams[c.spec.stream as 'MD' | 'TRADE']
    let i = c.next
    while (i < list.length && (!matches(c.spec, list[i]!) || !c.spec.accepts.includes(list[i]!.input.type))) i++
    c.next = i // never delivered
    return i < list.length ? i : -1
  }
  const handle = (p: Proc, c: Consumer, m: Stored): Outbound[] => {
    if (!c.spec.accepts.includes(m.input.type)) return []
    const lookups = p.def.lookup?.(p.state, m.input, p.scope)
    const found = lookups?.length ? lookupInMemory((symbol) => barsBySymbol.get(symbol), lookups) : []
    // What a lookup reads must already be in the stream: the handler may not see the future.
    for (const f of found)
      if (f.lookup.through > streams.MD.length) throw new Error(`${p.name} looked beyond the stream: ${f.lookup.through} > ${streams.MD.length}`)
    const step = p.def.handle(p.state, m.input, p.scope, found)
    if ((step as unknown) instanceof Promise) throw new Error(`${p.name} returned a Promise`)
    p.state = step.state
    return step.emit ?? []
  }

  const runBatch = (p: Proc): boolean => {
    const batch: { c: Consumer; m: Stored }[] = []
    const size = 1 + Math.floor(random() * maxBatch)
    // Pulls of several inputs come back in any order: take runs from randomly chosen inputs.
    while (batch.length < size) {
      const ready = p.consumers.filter((c) => peek(c) >= 0)
      if (!ready.length) break
      const c = pick(ready)
      const run = 1 + Math.floor(random() * (size - batch.length))
      for (let k = 0; k < run; k++) {
        const i = peek(c)
        if (i < 0) break
        batch.push({ c, m: streams[c.spec.stream as 'MD' | 'TRADE'][i]! })
        c.next = i + 1
      }
    }
    if (!batch.length) return false
    if (p === gate && random() < stallRate) stalledUntil.set(p, fed + stallMessages)
    const out = batch.flatMap(({ c, m }) => handle(p, c, m))
    for (const o of out) publish(o)
    if (random() < killRate) {
      kill(p)
      return true
    }
    for (const { c, m } of batch) c.acked = Math.max(c.acked, m.seq)
    // A checkpoint only matters to a kill: without kills none is taken (a copy of the executor's
    // state every fifth batch was most of a long run's time). The draw stays, and with it the schedule.
    if (random() < 0.2 && killRate > 0) p.checkpoint = { state: clone(p.state), acked: p.consumers.map((c) => c.acked) }
    return true
  }

  /** SIGKILL, then start again: checkpoint + replay of what was acknowledged after it. */
  const kill = (p: Proc) => {
    p.kills++
    p.state = p.checkpoint ? clone(p.checkpoint.state) : p.def.init(p.scope)
    const from = p.checkpoint?.acked ?? p.consumers.map(() => 0)
    const replay: { c: Consumer; m: Stored }[] = []
    p.consumers.forEach((c, k) => {
      for (const m of streams[c.spec.stream as 'MD' | 'TRADE']) if (matches(c.spec, m) && m.seq > from[k]! && m.seq <= c.acked) replay.push({ c, m })
    })
    replay.sort((a, b) => a.m.at - b.m.at)
    const before = clone(p.state)
    for (const { c, m } of replay) handle(p, c, m)
    if (replay.length && p.def.settle?.replayed) p.state = p.def.settle.replayed(p.state, before)
    for (const c of p.consumers) {
      const list = streams[c.spec.stream as 'MD' | 'TRADE']
      let i = 0
      while (i < list.length && list[i]!.seq <= c.acked) i++
      c.next = i
    }
  }

  // The feed and the strategy: MD grows bar by bar; ideas follow the message they came from.
  let fed = 0
  let ideasPublished = -1
  const feed = () => {
    const m = up.md[fed++]!
    streams.MD.push({ ...m, at: ++clock })
    if (m.input.type === 'md.bar') {
      const bar = m.input.data as Message<'md.bar'>
      let list = barsBySymbol.get(bar.symbol)
      if (!list) barsBySymbol.set(bar.symbol, (list = []))
      list.push({ seq: m.seq, bar })
    }
  }
  const strategyStep = () => {
    ideasPublished++
    for (const o of up.ideasAfter.get(ideasPublished) ?? []) if ((o.data as { account: string }).account === account) publish(o)
  }
  // Per symbol (strategyScopes 'symbol'): the MD message index up to which its scope has published.
  const symbols = [...new Set(up.md.map((m) => (m.input.data as { symbol: string }).symbol))]
  const scopeAt = new Map(symbols.map((s) => [s, -1]))
  const symbolStep = (symbol: string) => {
    const at = scopeAt.get(symbol)! + 1
    scopeAt.set(symbol, at)
    for (const o of up.ideasAfter.get(at) ?? []) {
      const d = o.data as { account: string; symbol: string }
      if (d.account === account && d.symbol === symbol) publish(o)
    }
  }

  /**
   * Work between messages (ActorDef.settle): what a process does when it has been idle as long as
   * its state asks (here, any moment: it may also have been idle longer), or at once when due so.
   */
  const settle = (p: Proc, idleMs: number): boolean => {
    const settle = p.def.settle
    if (!settle || settle.due(p.state) === null) return false
    const found = lookupInMemory((symbol) => barsBySymbol.get(symbol), settle.lookup(p.state, p.scope, idleMs))
    const step = settle.run(p.state, p.scope, found, idleMs)
    p.state = step.state
    for (const o of step.emit ?? []) publish(o)
    return true
  }

  for (;;) {
    const moves: (() => boolean)[] = []
    for (const p of procs) if (p.def.settle?.due(p.state) === 0) settle(p, 0)
    for (const p of procs) {
      const due = p.def.settle?.due(p.state)
      if (due != null) moves.push(() => settle(p, random() < 0.5 ? due : due * 100))
    }
    if (fed < up.md.length) moves.push(() => (feed(), true))
    if (opts.strategyScopes === 'symbol') {
      for (const symbol of symbols) if (scopeAt.get(symbol)! < fed - 1) moves.push(() => (symbolStep(symbol), true))
    } else if (ideasPublished < fed - 1) moves.push(() => (strategyStep(), true))
    for (const p of procs) if (Math.min(stalledUntil.get(p) ?? -1, up.md.length) <= fed && p.consumers.some((c) => peek(c) >= 0)) moves.push(() => runBatch(p))
    if (!moves.length) break
    pick(moves)()
  }
  for (const p of procs) while (settle(p, Number.POSITIVE_INFINITY));

  const trade = streams.TRADE.map((m) => m.input)
  return {
    fills: trade.filter((m) => m.type === 'trade.fill').map((m) => m.data as Message<'trade.fill'>),
    statuses: trade.filter((m) => m.type === 'trade.idea_status').map((m) => m.data as Message<'trade.idea_status'>),
    kills: gate.kills + executor.kills,
    trade,
    held: gate.def.held?.(gate.state) ?? 0,
    points: standingPoints(trade.filter((m) => m.type === 'trade.portfolio').map((m) => m.data as Message<'trade.portfolio'>)),
  }
}
