// strategy: evaluates the JSON strategies on every md.ind of the symbols they watch and proposes
// trade ideas (trade.idea.<ACCT>): long and short entries, exits by condition, and the protective
// exits of the position's bracket (stop-loss, take-profit, max_bars).
//
// The strategy follows the position it asked for: an entry fills at the open of the next bar (the
// executor's rule, with the account's slippage), so on that bar the strategy knows the fill price,
// and from the bar after it checks the bracket with the same functions the executor prices it with
// (lib/brackets). A bracket exit is therefore an idea on the bar that fires it, in the same ordered
// flow as every other exit: the executor never has to guess whether an exit signal arrived in time.
// A reversal is two ideas on one bar: the exit, then the entry.
//
// Multi-symbol strategies (Gayed) run in their own scope over every md.bar (strategy-gayed.ts).
// Pure: no I/O, no clock.
import { defineActor, partitionScopes, type Inbound, type Outbound, type Step } from '../src/core/actor.js'
import type { AccountConfig } from '../src/core/config-file/accounts.js'
import { gayedOf, rulesOf, type AnyStrategyConfig, type StrategyConfig } from '../src/core/config-file/strategies.js'
import type { Message } from '../src/core/contracts.js'
import { pairKeys } from '../src/core/memo.js'
import { DEFAULT_PARTITIONS } from '../src/core/partition.js'
import { concernsPartition, definedOf, type RuntimeVersion, versionsOf } from './lib/runtime-strategies.js'
import { levelsOf, protectiveExit, stopDistance, targetDistance, type Bracket, type Levels, type PositionSide } from './lib/brackets.js'
import { barConditions, type BarFrame, type Sides } from './lib/conditions.js'
import { entryFill, slipped, stopTouched, type EntryOrder } from './lib/entry-orders.js'
import { dpiRegimeName } from './lib/indicators/index.js'
import { narrativeGap } from './lib/phase5.js'
import { sessionTest } from './lib/sessions.js'
import { gayedScope, handleGayed, newGayedScopeState, type GayedScopeState } from './strategy-gayed.js'

/** The position a strategy asked for on one symbol. */
interface Held {
  side: PositionSide
  bracket: Bracket | null
  /** The entry order while it works (limit/stop/stop-limit ones may take bars, or expire). */
  entry?: { order: EntryOrder; valid: number; seen: number; triggered: boolean }
  /** The entry's fill price, known from its fill bar; null until then. */
  fill: number | null
  levels: Levels | null
  /** Bars handled since the fill bar (0 on the fill bar). */
  bars: number
}

interface Book {
  /** The previous bar and its indicator values, for crossings. */
  prev: BarFrame | null
  /** The side of each pair a crossing compares, before this bar (see conditions.ts). */
  sides: Sides
  held: Held | null
}

export interface StrategyState {
  /** `${strategyId}|${symbol}` → book. */
  books: Record<string, Book>
  /** Strategies defined at runtime this scope has taken, by id (a deleted one: strategy null). */
  runtime?: Record<string, RuntimeVersion>
  /** The state of a multi-symbol strategy scope. */
  gayed?: GayedScopeState
}

type Indicators = Message<'md.ind'>
type Idea = Message<'trade.idea'>
type ExitReason = NonNullable<Idea['exit_reason']>

type Test = (now: BarFrame, prev: BarFrame | undefined, sides: Sides) => boolean

/** A strategy with its conditions compiled once. */
interface Compiled {
  config: StrategyConfig
  slippageBps: number
  entry: Partial<Record<PositionSide, Test>>
  exit: Partial<Record<PositionSide, Test>>
  forbidden: Test[]
  inSession: (ts: string) => boolean
  adjust: { when: Test; add: number }[]
  bracket: Bracket | null
  /** Declared name of the DPI Phase-5 sizing reads. */
  dpi: string | null
  /** How the sides of its crossings follow a bar. */
  track: (now: BarFrame, sides: Sides) => void
}

export function compileStrategy(s: StrategyConfig, account?: AccountConfig): Compiled {
  const conditions = barConditions()
  const compileSides = (c: { long?: unknown; short?: unknown }) => {
    const out: Partial<Record<PositionSide, Test>> = {}
    if (c.long) out.long = conditions.add(c.long as never)
    if (c.short) out.short = conditions.add(c.short as never)
    return out
  }
  const x = s.exit
  const bracket: Bracket | null =
    x.stop_loss || x.take_profit || x.max_bars
      ? {
          stop_loss: x.stop_loss
            ? x.stop_loss.pct !== undefined
              ? { kind: 'pct', value: x.stop_loss.pct }
              : x.stop_loss.price !== undefined
                ? { kind: 'price', value: x.stop_loss.price }
                : { kind: 'distance', value: x.stop_loss.atr! }
            : null,
          take_profit: x.take_profit
            ? x.take_profit.pct !== undefined
              ? { kind: 'pct', value: x.take_profit.pct }
              : { kind: 'rr', value: x.take_profit.rr! }
            : null,
          max_bars: x.max_bars ?? null,
        }
      : null
  const entry = compileSides(s.entry)
  const exit = compileSides(s.exit)
  const forbidden = (s.forbidden ?? []).map((c) => conditions.add(c))
  const adjust = s.confidence?.adjust.map((a) => ({ when: conditions.add(a.when), add: a.add })) ?? []
  return {
    config: s,
    slippageBps: account?.costs.slippage_bps ?? 0,
    entry,
    exit,
    forbidden,
    inSession: sessionTest(s.session_windows),
    adjust,
    bracket,
    dpi: Object.entries(s.indicators).find(([, spec]) => spec.type === 'dpi')?.[0] ?? null,
    track: conditions.track,
  }
}

/** `${symbol}|${timeframe}` → the strategies watching it. */
export function watchers(strategies: readonly AnyStrategyConfig[], accounts: readonly AccountConfig[] = []): Map<string, Compiled[]> {
  const byId = new Map(accounts.map((a) => [a.id, a]))
  const out = new Map<string, Compiled[]>()
  for (const s of rulesOf(strategies).map((r) => compileStrategy(r, byId.get(r.account))))
    for (const symbol of s.config.symbols) {
      const key = `${symbol}|${s.config.timeframe}`
      out.set(key, [...(out.get(key) ?? []), s])
    }
  return out
}

export function confidenceOf(s: Compiled, now: BarFrame, prev: BarFrame | undefined, sides: Sides): number {
  if (!s.config.confidence) return 100
  let c = s.config.confidence.base
  for (const a of s.adjust) if (a.when(now, prev, sides)) c += a.add
  return Math.min(100, Math.max(0, c))
}

const watchedKeys = pairKeys()
const bookKeys = pairKeys()

export function handleIndicators(state: StrategyState, input: Inbound<'md.ind'>, index: Map<string, Compiled[]>): Step<StrategyState> {
  const ind = input.data
  const strategies = index.get(watchedKeys.get(ind.symbol, ind.timeframe))
  if (!strategies) return { state, outcome: 'unwatched' }
  const now: BarFrame = { bar: ind.bar, values: ind.values }
  // Pushed to in place rather than through a closure: one capturing `emit` would put this call's
  // variables on the heap on every bar, and most bars propose nothing.
  let emit: Outbound[] | undefined
  for (const c of strategies) {
    const book = (state.books[bookKeys.get(c.config.id, ind.symbol)] ??= { prev: null, sides: {}, held: null })
    const prev = book.prev ?? undefined
    const sides = book.sides
    const held = book.held
    if (held) {
      if (held.fill === null) {
        // A bar after the signal: the entry fills by the executor's rules (lib/entry-orders), a
        // market order at this open; a limit or stop one when this bar trades through it, or expires.
        const e = held.entry
        const hit = e ? entryFill(e.order, ind.bar, e.triggered) : { price: ind.bar.open, model: 'next_open' as const }
        if (hit) {
          held.fill = slipped(hit, held.side === 'long' ? 1 : -1, c.slippageBps)
          held.levels = held.bracket ? levelsOf(held.bracket, held.side, held.fill) : null
          held.bars = 0
          delete held.entry
        } else {
          if (e!.order.type === 'stop_limit' && stopTouched(e!.order, ind.bar)) e!.triggered = true
          if (++e!.seen >= e!.valid) book.held = null
          // While the order works nothing else is proposed for this symbol: no exit of a position
          // not held yet, no second entry.
          c.track(now, sides)
          book.prev = now
          continue
        }
      } else {
        held.bars++
        const hit = held.levels ? protectiveExit(held.levels, held.side, ind.bar) : null
        if (hit) {
          ;(emit ??= []).push(exitIdea(c, ind, held.side, hit.reason, hit.order_type, confidenceOf(c, now, prev, sides)))
          book.held = null
        }
      }
    }
    if (book.held && c.exit[book.held.side]?.(now, prev, sides)) {
      ;(emit ??= []).push(exitIdea(c, ind, book.held.side, 'signal', 'market', confidenceOf(c, now, prev, sides)))
      book.held = null
    }
    const side = entrySide(c, now, prev, sides)
    if (side && book.held?.side !== side && mayEnter(c, ind, now, prev, sides)) {
      const entry = entryIdea(c, ind, side, confidenceOf(c, now, prev, sides))
      if (entry) {
        if (book.held) (emit ??= []).push(exitIdea(c, ind, book.held.side, 'reversal', 'market', confidenceOf(c, now, prev, sides)))
        ;(emit ??= []).push(entry)
        // The idea's own bracket: an ATR stop is fixed as a distance on the signal bar.
        const placed = entry.data as Idea
        book.held = { side, bracket: placed.bracket, fill: null, levels: null, bars: 0 }
        if (placed.order_type !== 'market') {
          const order: EntryOrder = { type: placed.order_type, sign: side === 'long' ? 1 : -1, limit: placed.limit_price, stop: placed.stop_price }
          book.held.entry = { order, valid: placed.valid_bars ?? 1, seen: 0, triggered: false }
        }
      }
    }
    // max_bars: a market exit decided on the close of bar max_bars − 1 fills at the open of bar
    // max_bars after the fill bar, so the position is held exactly max_bars bars. Until that open
    // the position is still held: an entry the same way waits, an opposite one reverses it.
    const maxBars = book.held?.bracket?.max_bars
    if (book.held && book.held.fill !== null && maxBars && book.held.bars >= maxBars - 1) {
      ;(emit ??= []).push(exitIdea(c, ind, book.held.side, 'max_bars', 'market', confidenceOf(c, now, prev, sides)))
      book.held = null
    }
    c.track(now, sides)
    book.prev = now
  }
  return emit ? { state, emit } : { state }
}

/** Long if only entry.long holds, short if only entry.short holds; both at once is no signal. */
function entrySide(c: Compiled, now: BarFrame, prev: BarFrame | undefined, sides: Sides): PositionSide | null {
  const long = c.entry.long?.(now, prev, sides) ?? false
  const short = c.entry.short?.(now, prev, sides) ?? false
  return long === short ? null : long ? 'long' : 'short'
}

function mayEnter(c: Compiled, ind: Indicators, now: BarFrame, prev: BarFrame | undefined, sides: Sides): boolean {
  for (const f of c.forbidden) if (f(now, prev, sides)) return false
  return c.inSession(ind.ts)
}

/** What an entry or an exit sets on its own; `ideaOf` adds the fields every idea shares. */
type IdeaTail = Pick<
  Idea,
  | 'qty'
  | 'order_type'
  | 'limit_price'
  | 'stop_price'
  | 'valid_bars'
  | 'exit_reason'
  | 'sizing'
  | 'bracket'
  | 'stop_distance'
  | 'max_qty'
  | 'max_positions'
  | 'ng_score'
  | 'dpi'
  | 'dpi_regime'
  | 'reason'
>

// One literal with every field, not a shared head spread into each idea: V8 adds every property
// that follows a spread on a slow path, which cost microseconds per idea.
function ideaOf(c: Compiled, ind: Indicators, id: string, side: PositionSide, intent: 'entry' | 'exit', confidence: number, t: IdeaTail): Outbound {
  const s = c.config
  const buy = (side === 'long') === (intent === 'entry')
  const data: Idea = {
    id,
    type: 'trade.idea',
    ts: ind.ts,
    causation_id: ind.id,
    correlation_id: ind.bar_id,
    account: s.account,
    strategy_id: s.id,
    symbol: ind.symbol,
    side: buy ? 'buy' : 'sell',
    intent,
    timeframe: ind.timeframe,
    position_side: side,
    close_position: intent === 'exit',
    price: ind.bar.close,
    bar_seq: ind.bar_seq,
    confidence,
    qty: t.qty,
    order_type: t.order_type,
    limit_price: t.limit_price,
    stop_price: t.stop_price,
    valid_bars: t.valid_bars,
    exit_reason: t.exit_reason,
    sizing: t.sizing,
    bracket: t.bracket,
    stop_distance: t.stop_distance,
    max_qty: t.max_qty,
    max_positions: t.max_positions,
    ng_score: t.ng_score,
    dpi: t.dpi,
    dpi_regime: t.dpi_regime,
    reason: t.reason,
  }
  return { type: 'trade.idea', data }
}

function exitIdea(c: Compiled, ind: Indicators, side: PositionSide, reason: ExitReason, orderType: Idea['order_type'], confidence: number): Outbound {
  return ideaOf(c, ind, `idea:${c.config.id}:${ind.symbol}:${ind.ts}:exit:${side}`, side, 'exit', confidence, {
    qty: null,
    order_type: orderType,
    limit_price: null,
    stop_price: null,
    valid_bars: null,
    exit_reason: reason,
    sizing: null,
    bracket: null,
    stop_distance: null,
    max_qty: null,
    max_positions: null,
    ng_score: 0,
    dpi: null,
    dpi_regime: null,
    reason: reason === 'signal' ? `exit.${side}` : reason,
  })
}

/** The entry idea, or null when its stop cannot be placed yet (ATR warming up) or reward:risk is too low. */
function entryIdea(c: Compiled, ind: Indicators, side: PositionSide, confidence: number): Outbound | null {
  const s = c.config
  const close = ind.bar.close
  let bracket = c.bracket
  const stop = s.exit.stop_loss
  if (bracket && stop?.atr !== undefined) {
    const atr = ind.values[stop.indicator!]
    if (atr === undefined || !(atr > 0)) return null
    bracket = { ...bracket, stop_loss: { kind: 'distance', value: stop.atr * atr } }
  }
  const distance = bracket?.stop_loss ? stopDistance(bracket.stop_loss, close) : null
  if (s.rr_expectation !== undefined && bracket?.stop_loss && bracket.take_profit) {
    const reward = targetDistance(bracket.take_profit, close, distance)
    if (distance === null || !(distance > 0) || reward === null || reward / distance < s.rr_expectation) return null
  }
  if (s.sizing.risk_pct !== undefined && !(distance !== null && distance > 0)) return null
  const method = s.sizing.fixed_qty !== undefined ? 'fixed_qty' : s.sizing.pct_equity !== undefined ? 'pct_equity' : 'risk_pct'
  const ctx = ind.context
  const ng = ctx ? narrativeGap(close, ctx.consensus_forecast, ctx.distribution_estimate) : 0
  const dpi = c.dpi ? ind.values[`${c.dpi}.value`] : undefined
  const regime = c.dpi ? ind.values[`${c.dpi}.regime`] : undefined
  return ideaOf(c, ind, `idea:${s.id}:${ind.symbol}:${ind.ts}:entry:${side}`, side, 'entry', confidence, {
    qty: s.sizing.fixed_qty !== undefined && !s.sizing.phase5 ? s.sizing.fixed_qty : null,
    ...entryPrices(s.entry_order, side, close),
    exit_reason: null,
    sizing: { method, value: s.sizing[method]!, phase5: s.sizing.phase5 ?? false },
    bracket,
    stop_distance: distance !== null && distance > 0 ? distance : null,
    max_qty: s.risk_caps?.max_lot_size ?? null,
    max_positions: s.risk_caps?.max_concurrent_positions ?? null,
    ng_score: ng,
    dpi: dpi ?? null,
    dpi_regime: (regime !== undefined ? dpiRegimeName(regime) : undefined) ?? null,
    reason: `entry.${side}`,
  })
}

/** Prices of a limit/stop entry from the signal close (a long limit below it, a long stop above it). */
function entryPrices(
  o: StrategyConfig['entry_order'],
  side: PositionSide,
  close: number,
): Pick<Idea, 'order_type' | 'limit_price' | 'stop_price' | 'valid_bars'> {
  if (!o || o.type === 'market') return { order_type: 'market', limit_price: null, stop_price: null, valid_bars: null }
  const up = side === 'long' ? 1 : -1
  const stop = o.type === 'stop' || o.type === 'stop_limit' ? close * (1 + up * o.offset_pct) : null
  const limit = o.type === 'limit' ? close * (1 - up * o.offset_pct) : o.type === 'stop_limit' ? stop! * (1 + up * o.limit_offset_pct) : null
  return { order_type: o.type, limit_price: limit, stop_price: stop, valid_bars: o.valid_bars }
}

/**
 * The strategy actor: one scope per symbol partition, and one per multi-symbol (Gayed) strategy,
 * tied to the partition its key hashes to — so whatever the split over processes, exactly one runs it.
 */
export const strategy = (strategies: readonly AnyStrategyConfig[], accounts: readonly AccountConfig[] = [], partitions = DEFAULT_PARTITIONS) => {
  const index = watchers(strategies, accounts)
  // The index with a state's runtime strategies added, compiled once per set of them.
  const withRuntime = new WeakMap<object, Map<string, Compiled[]>>()
  const indexFor = (state: StrategyState): Map<string, Compiled[]> => {
    if (!state.runtime) return index
    let i = withRuntime.get(state.runtime)
    if (!i) {
      withRuntime.set(state.runtime, (i = watchers([...strategies, ...definedOf(state.runtime, strategies)], accounts)))
    }
    return i
  }
  const gayed = gayedOf(strategies)
  const gayedScopes = gayed.map((g) => gayedScope(g, partitions))
  const gayedById = new Map(gayed.map((g) => [`gayed-${g.id}`, g]))
  return defineActor<StrategyState>({
    name: 'strategy',
    ordered: true,
    // 2: a book holds the position with its bracket (side, fill, levels, bars held).
    // 3: a Gayed scope follows its ideas' fate (held, pending, deferred days).
    // 4: a book keeps each crossing's side (a crossing looks past an equality, as backtrader's).
    stateVersion: 4,
    scopes: [...partitionScopes('md.ind', partitions), ...gayedScopes],
    init: (scope) => (gayedById.has(scope.key) ? { books: {}, gayed: newGayedScopeState(gayedById.get(scope.key)!) } : { books: {} }),
    held: (state) => state.gayed?.deferred?.length ?? 0,
    handle: (state, input, scope) => {
      const g = gayedById.get(scope.key)
      if (g) return handleGayed(state, input, g) as Step<StrategyState>
      return handleIndicators(state, input as Inbound<'md.ind'>, indexFor(state))
    },
    runtimeStrategies: {
      concerns: (state, def, scope) => !gayedById.has(scope.key) && concernsPartition(strategies, state.runtime, def, scope.partition, partitions),
      applied: (state) => versionsOf(state.runtime),
      // A new version keeps the positions the strategy follows; a deleted strategy follows none (an
      // open position is left to the operator: ctl.positions.close).
      define: (state, def) => {
        const runtime = { ...state.runtime, [def.id]: { version: def.version, strategy: def.strategy } }
        if (def.strategy) return { ...state, runtime }
        const prefix = `${def.id}|`
        const books = Object.fromEntries(Object.entries(state.books).filter(([k]) => !k.startsWith(prefix)))
        return { ...state, books, runtime }
      },
    },
  })
}
