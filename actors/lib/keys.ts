// Strings made of two tokens that repeat message after message: composite state keys
// (`${symbol}|${timeframe}`, `${strategy}|${symbol}`) and the constant starts of ids
// (`bar:${symbol}:${timeframe}:` before a bar time). Each is built once per pair and kept. Built
// afresh, a key is a new string on every message that a state lookup must hash again, and a
// template of several tokens allocates a string per token; in a backtest running hundreds of
// thousands of bars a second both show in the profile. The same pair gives an equal string, so
// state and messages are unchanged.

/** One kind of string per memo; the last pair asked for is answered without a lookup. */
export class PairMemo {
  private readonly byA = new Map<string, Map<string, string>>()
  private size = 0
  private lastA: string | undefined
  private lastB: string | undefined
  private last = ''

  constructor(private readonly join: (a: string, b: string) => string) {}

  get(a: string, b: string): string {
    if (a === this.lastA && b === this.lastB) return this.last
    let byB = this.byA.get(a)
    if (byB === undefined) {
      // Bounded like the partition memo: pairs are symbols × timeframes, strategies × symbols.
      if (this.size >= 100_000) {
        this.byA.clear()
        this.size = 0
      }
      this.byA.set(a, (byB = new Map()))
    }
    let s = byB.get(b)
    if (s === undefined) {
      byB.set(b, (s = this.join(a, b)))
      this.size++
    }
    this.lastA = a
    this.lastB = b
    return (this.last = s)
  }
}

/** A memo of `${a}|${b}`, the composite keys of state records and index maps. */
export const pairKeys = (): PairMemo => new PairMemo((a, b) => `${a}|${b}`)
