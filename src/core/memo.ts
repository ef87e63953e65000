// The one memo of the pure zone. Handlers are pure, so a memo may only remember what a pure
// function of its key would compute again — never state — and it is bounded, because keys come from
// messages (symbols, accounts, subjects) and a daemon runs for months. When full it starts over;
// the next lookups compute again and give equal values, so nothing a handler returns can change.
//
// What is memoised and why: partitions of symbols and matches of subjects (every message), the
// composite keys and constant id prefixes below (strings a state lookup must otherwise hash anew on
// every message; hundreds of thousands a second in a backtest), time-zone formatters (costly to build).

/** A bounded memo of `compute(key)`. */
export class Memo<V> {
  private readonly values = new Map<string, V>()

  constructor(
    private readonly compute: (key: string) => V,
    private readonly limit = 100_000,
  ) {}

  get(key: string): V {
    let v = this.values.get(key)
    if (v === undefined && !this.values.has(key)) {
      if (this.values.size >= this.limit) this.values.clear()
      this.values.set(key, (v = this.compute(key)))
    }
    return v as V
  }
}

/**
 * A bounded memo of strings made of two tokens that repeat message after message: composite state
 * keys (`${symbol}|${timeframe}`) and the constant starts of ids (`bar:${symbol}:${timeframe}:`).
 * The last pair asked for is answered without a lookup.
 */
export class PairMemo {
  private readonly byA = new Map<string, Map<string, string>>()
  private size = 0
  private lastA: string | undefined
  private lastB: string | undefined
  private last = ''

  constructor(
    private readonly join: (a: string, b: string) => string,
    private readonly limit = 100_000,
  ) {}

  get(a: string, b: string): string {
    if (a === this.lastA && b === this.lastB) return this.last
    let byB = this.byA.get(a)
    if (byB === undefined) {
      if (this.size >= this.limit) {
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
