// What this process has seen of MD's bars, in stream order, so that a lookup (ActorDef.lookup) of
// bars the process has already handled is answered from memory instead of one JetStream request per
// bar: the risk gate looks up the bars of its held symbols for every idea and fill, and the
// executor's bars input has seen them all a moment before. The tape is fed by an ordered scope
// that reads every md.bar (the executor's `bars` input): each bar with the stream position its
// consumer had reached before it. Such a consumer delivers every md.bar, in order, so between the
// two positions there is none — which is what lets the tape say it holds every bar of a range.
// A lookup is answered only when it does; otherwise it is read from the stream as before. The
// stream is append-only, so both give the same bars, and a handler's result does not depend on
// where they came from.
import type { BarLookup, Found, FoundBar } from '../core/actor.js'
import type { Bar } from '../core/contracts.js'

/**
 * Bars kept in all (a few MB): shared between the symbols seen, each keeping at least MIN_PER_SYMBOL.
 * A symbol over its share drops its older half (lookups of those go to the stream).
 */
const TOTAL = 50_000
const MIN_PER_SYMBOL = 256

interface SymbolTape {
  bars: FoundBar[]
  /** Bars of the symbol at or before this position were dropped. */
  dropped: number
}

export class BarTape {
  /** Every md.bar with a position in (start, end] is on the tape (less what was dropped per symbol). */
  private start = 0
  private end = 0
  private readonly symbols = new Map<string, SymbolTape>()
  /** Live scopes of this process whose input of every md.bar records on the tape. */
  private feeding = 0
  /** Live scopes of this process that look bars up (the risk gate's, the executor's). */
  private reading = 0
  private readonly watchers = new Set<() => void>()

  /** A scope with an input of every md.bar went live here; the returned function says it stopped. */
  fedByScope(): () => void {
    return this.count(1, 0)
  }

  /** A scope that looks bars up went live here; the returned function says it stopped. */
  readByScope(): () => void {
    return this.count(0, 1)
  }

  /** Whether lookups are made here that no scope's input keeps the tape for (tape-feed.ts then does). */
  wanted(): boolean {
    return this.reading > 0 && this.feeding === 0
  }

  private count(feeding: number, reading: number): () => void {
    this.feeding += feeding
    this.reading += reading
    this.notify()
    let done = false
    return () => {
      if (done) return
      done = true
      this.feeding -= feeding
      this.reading -= reading
      this.notify()
    }
  }

  /** Calls `f` whenever a scope that records on the tape or reads it starts or stops; returns the unsubscribe. */
  watch(f: () => void): () => void {
    this.watchers.add(f)
    return () => this.watchers.delete(f)
  }

  private notify(): void {
    for (const f of [...this.watchers]) f()
  }

  /**
   * A bar at stream position `seq`, delivered right after position `prev` by a consumer of every
   * md.bar. Bars at or before the end are known already; one after a gap starts the tape afresh.
   */
  record(prev: number, seq: number, bar: Bar): void {
    if (seq <= this.end) return
    if (prev > this.end) this.restart(prev)
    let tape = this.symbols.get(bar.symbol)
    if (!tape) this.symbols.set(bar.symbol, (tape = { bars: [], dropped: this.start }))
    tape.bars.push({ seq, bar })
    if (tape.bars.length > Math.max(MIN_PER_SYMBOL, TOTAL / this.symbols.size)) {
      const cut = tape.bars.length >> 1
      tape.dropped = tape.bars[cut - 1]!.seq
      tape.bars = tape.bars.slice(cut)
    }
    this.end = seq
  }

  /**
   * A position the tape cannot vouch for (a bar that could not be decoded, a consumer that lost its
   * place): lookups reaching back over it go to the stream, which says what is there.
   */
  forget(seq: number): void {
    if (seq > this.end) this.restart(seq)
  }

  /** The bars of `l`, or null when the tape does not hold all of them. */
  read(l: BarLookup): FoundBar[] | null {
    if (l.through > this.end) return null
    const tape = this.symbols.get(l.symbol)
    if (l.after < Math.max(this.start, tape?.dropped ?? 0)) return null
    return tape ? barsIn(tape.bars, l) : []
  }

  private restart(at: number): void {
    this.start = at
    this.end = at
    this.symbols.clear()
  }
}

/**
 * readLookups's reads over bars held in memory, symbol → bars in stream order: what the tests'
 * simulators read, and the answers a backtest's BacktestBars must give alike.
 */
export function lookupInMemory(bars: (symbol: string) => readonly FoundBar[] | undefined, lookups: readonly BarLookup[]): Found {
  return lookups.map((l) => ({ lookup: l, bars: l.through > l.after ? barsIn(bars(l.symbol) ?? [], l) : [] }))
}

/** The bars of `list` (one symbol's, in stream order) that lookup `l` names. */
export function barsIn(list: readonly FoundBar[], l: BarLookup): FoundBar[] {
  const out: FoundBar[] = []
  // The first bar after `after`, by binary search.
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (list[mid]!.seq <= l.after) lo = mid + 1
    else hi = mid
  }
  const limit = l.limit ?? Infinity
  for (let i = lo; i < list.length && out.length < limit; i++) {
    const f = list[i]!
    if (f.seq > l.through) break
    if (l.timeframe === undefined || f.bar.timeframe === l.timeframe) out.push(f)
  }
  return out
}
