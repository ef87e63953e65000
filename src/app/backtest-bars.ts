// The md.bar messages of a backtest, as lookups (ActorDef.lookup) read them — without keeping them.
// A run of 200k bars kept every md.bar to answer lookups: 200k objects outliving the young
// generation, and copying them out of it was a fifth of the run. Each md.bar is what
// market-snapshots makes of one input bar (and the context it carried), so what is kept is where to
// make it again: its stream position, its timeframe, which input it came from and its context.
// A looked-up bar is made again, by the same handler, from the same input: the same message.
// The last RECENT bars are kept as published, in a ring: the risk gate looks up the bars since its
// last message (a few dozen, just published) on every idea and fill, which made every bar twice.
import type { BarLookup, Found, FoundBar } from '../core/actor.js'
import type { Bar } from '../core/contracts.js'
import { doubled } from '../core/typed-arrays.js'

type Context = NonNullable<Bar['context']>

/** How many of the newest md.bar messages are kept as they are, by default. */
const RECENT = 1024

/**
 * The md.bar messages of one symbol, in stream order, as parallel columns in typed arrays (no
 * object per bar for the garbage collector to copy and trace), the first `n` rows in use.
 */
class SymbolBars {
  n = 0
  seqs = new Float64Array(1024)
  /** Index of the bar's timeframe in `BacktestBars.timeframes`. */
  timeframes = new Int32Array(1024)
  /** The input each bar was made from; -1: a bar kept whole in `kept`. */
  inputs = new Int32Array(1024)

  push(seq: number, timeframe: number, input: number): void {
    if (this.n === this.seqs.length) {
      this.seqs = doubled(this.seqs)
      this.timeframes = doubled(this.timeframes)
      this.inputs = doubled(this.inputs)
    }
    this.seqs[this.n] = seq
    this.timeframes[this.n] = timeframe
    this.inputs[this.n++] = input
  }
}

export class BacktestBars {
  private readonly bySymbol = new Map<string, SymbolBars>()
  /** md.bar seq → the context it carried (few bars carry one). */
  private readonly contexts = new Map<number, Context>()
  /** md.bar seq → a bar not made from an input (none today): kept as it is. */
  private readonly kept = new Map<number, Bar>()
  /** The timeframes seen, in order: SymbolBars.timeframes holds their indexes. */
  private readonly timeframes: string[] = []
  /** The newest bars, in the slot of their seq (seq & mask); `recentSeqs` says which seq a slot holds. */
  private readonly recent: (Bar | undefined)[]
  private readonly recentSeqs: Float64Array
  private readonly mask: number

  /**
   * `remake(input, context)`: the md.bar of that input, carrying that context, as it was published.
   * `keep`: how many of the newest bars to keep as they are (rounded up to a power of two).
   */
  constructor(
    private readonly remake: (input: number, context: Context | undefined) => Bar,
    keep = RECENT,
  ) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(1, keep)))
    this.recent = new Array<Bar | undefined>(size).fill(undefined)
    this.recentSeqs = new Float64Array(size)
    this.mask = size - 1
  }

  /** Records the md.bar at `seq`, made from input `input` (undefined: from none; it is kept whole). */
  add(seq: number, bar: Bar, input: number | undefined): void {
    let s = this.bySymbol.get(bar.symbol)
    if (!s) this.bySymbol.set(bar.symbol, (s = new SymbolBars()))
    let timeframe = this.timeframes.indexOf(bar.timeframe)
    if (timeframe < 0) timeframe = this.timeframes.push(bar.timeframe) - 1
    s.push(seq, timeframe, input ?? -1)
    this.recent[seq & this.mask] = bar
    this.recentSeqs[seq & this.mask] = seq
    if (input === undefined) this.kept.set(seq, bar)
    else if (bar.context) this.contexts.set(seq, bar.context)
  }

  /** What readLookups reads from the stream: per lookup, its bars in stream order. */
  found(lookups: readonly BarLookup[]): Found {
    return lookups.map((lookup) => ({ lookup, bars: lookup.through > lookup.after ? this.barsIn(lookup) : [] }))
  }

  private barsIn(l: BarLookup): FoundBar[] {
    const out: FoundBar[] = []
    const s = this.bySymbol.get(l.symbol)
    if (!s) return out
    const { seqs, n } = s
    const timeframe = l.timeframe === undefined ? -1 : this.timeframes.indexOf(l.timeframe)
    if (l.timeframe !== undefined && timeframe < 0) return out
    // The first bar after `after`, by binary search.
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (seqs[mid]! <= l.after) lo = mid + 1
      else hi = mid
    }
    const limit = l.limit ?? Infinity
    for (let i = lo; i < n && out.length < limit; i++) {
      const seq = seqs[i]!
      if (seq > l.through) break
      if (timeframe >= 0 && s.timeframes[i] !== timeframe) continue
      const input = s.inputs[i]!
      const slot = seq & this.mask
      const bar = this.recentSeqs[slot] === seq ? this.recent[slot]! : input < 0 ? this.kept.get(seq)! : this.remake(input, this.contexts.get(seq))
      out.push({ seq, bar })
    }
    return out
  }
}
