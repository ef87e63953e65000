// The executor's books as a fold in market time. The books change only by two kinds of event, taken
// in MD order: a bar of a held symbol (its mark moves; the account's equity point on that bar) and a
// fill (a posting: cash and the position change; the point after the fill). What the executor
// publishes of its books — `trade.portfolio` points — is this fold's output, so it is a function of
// the bars and the fills, not of when an order reached the executor.
//
// An order that reaches the executor after the bar it fills on (a fast replay, a restart, a slow
// gate) posts its fill behind events already folded: the points after it were valued without it.
// The executor then holds its points back from there (`dirty`) and, when the scope settles between
// messages, folds again from the books as they were before that position — kept after each of the
// latest postings — over the bars it looks up and the postings since, and publishes every point
// from there on again (a point that no longer exists, withdrawn). The persister keeps, per point,
// the version that knew the most orders. Pure: no I/O, no clock.
import type { FoundBar } from '../../src/core/actor.js'
import type { Bar } from '../../src/core/contracts.js'
import { applyFill, mark, newBooks, type Books, type PositionBook } from './books.js'
import { levelsOf, type Bracket } from './brackets.js'

/** A fill as the books take it: what applying it again needs. */
export interface Posting {
  /**
   * Fold position: the MD sequence of the bar whose handling made the fill — its own bar, or, for
   * an entry cash deferred until an exit filled, the bar of that exit.
   */
  at: number
  /**
   * Where among the events at `at`: 0 at the bar's open (market, limit and stop orders), before the
   * bar's point; 2 a stop or target exit within the bar, after it; 3 an entry cash deferred, after
   * the exit that freed the cash.
   */
  phase: 0 | 2 | 3
  /** Arrival order among postings of one position. */
  n: number
  symbol: string
  sign: 1 | -1
  qty: number
  price: number
  commission: number
  /** The time and close of the bar it is priced on: the fill's time, and the mark it sets. */
  ts: string
  close: number
  positionId: string
  timeframe: string
  /** An entry's bracket: the levels it sets on the position from the fill price. */
  bracket: Bracket | null
  fillId: string
  correlation: string
  /** The books right after it (and after its point's valuation). */
  after?: Books
}

/** What the fold keeps in the executor's state. */
export interface Ledger {
  /** The latest postings in fold order, each with the books after it. */
  postings: Posting[]
  /** Arrival counter of postings. */
  n: number
  /** Fold position of the last event folded (a foldSeqOf): a posting before it lands behind. */
  last: number
  /** Postings were dropped from the front: a fill before the first one kept can no longer be folded in. */
  trimmed?: true
  /**
   * Where a fold starts when no posting kept lies before it: the books after every event up to MD
   * position `at` — the last posting dropped from the front, or the books where a fold that could
   * not be made left the ledger empty. Without it, a trimmed ledger could fold nothing in before its
   * first posting, and once emptied, nothing at all: every later late fill was posted where it
   * landed and the points after it were never valued again.
   */
  base?: { at: number; books: Books }
  /** The MD position of the earliest fill posted behind the fold since the books were last folded: points from there on are unpublished. */
  dirty?: number
  /** The furthest signal bar (MD position) of an order handled. */
  frontier?: number
  /** The books as far as the last fold that published only what the orders had passed: before MD position `at`. */
  partway?: { at: number; books: Books }
}

/** How many postings an account keeps to fold again from: a fill more than this many fills late is posted where it lands. */
export const LEDGER_DEPTH = 32

export const newLedger = (): Ledger => ({ postings: [], n: 0, last: 0 })

type Key = readonly [number, number, number]

/** A position of the fold as one number (a point's `fold_seq`): 4 × the MD sequence + the phase. */
export const foldSeqOf = (at: number, phase: number): number => at * 4 + phase
const keyOf = (p: Posting): Key => [p.at, p.phase, p.n]
const before = (a: readonly number[], b: readonly number[]): boolean => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]!
  return false
}

/** Whether a posting at fold position (at, phase) lands behind an event already folded. */
export const behind = (ledger: Ledger, p: Posting): boolean => foldSeqOf(p.at, p.phase) < ledger.last

/** Applies a posting to the books: cash, position, its levels, the mark (dropped when the position closes). */
export function applyPosting(b: Books, p: Posting): { position: PositionBook; closed: PositionBook | null } {
  const effect = applyFill(b, p.symbol, p.sign, p.qty, p.price, p.commission, p.ts, p.positionId)
  const { position, closed } = effect
  if (position !== closed) {
    position.timeframe ??= p.timeframe
    if (p.bracket) {
      const levels = levelsOf(p.bracket, position.qty > 0 ? 'long' : 'short', p.price)
      position.stop = levels.stop
      position.target = levels.target
    }
  }
  // Only held symbols keep a mark: the books (and their snapshots) hold nothing of the rest.
  if (b.positions[p.symbol]) mark(b, p.symbol, p.ts, p.close)
  else delete b.marks[p.symbol]
  return effect
}

/** A bar as the fold takes it: marks a held symbol; whether it is held. */
export function markBar(b: Books, bar: Bar): boolean {
  if (!b.positions[bar.symbol]) return false
  mark(b, bar.symbol, bar.ts, bar.close)
  return true
}

/** A copy of the books sharing nothing with them (their positions and marks are flat records). */
export function copyBooks(b: Books): Books {
  const positions: Books['positions'] = {}
  for (const symbol in b.positions) positions[symbol] = { ...b.positions[symbol]! }
  const marks: Books['marks'] = {}
  for (const symbol in b.marks) marks[symbol] = { ...b.marks[symbol]! }
  return { ...b, positions, marks }
}

/** Records a posting that lands at the end of the fold; keeps the books after it. */
export function append(ledger: Ledger, p: Posting, books: Books): void {
  p.after = copyBooks(books)
  ledger.postings.push(p)
  ledger.last = foldSeqOf(p.at, p.phase)
}

/** Inserts a posting where it belongs (its `after` is made by the fold that follows). */
export function insert(ledger: Ledger, p: Posting): void {
  const k = ledger.postings.findIndex((q) => before(keyOf(p), keyOf(q)))
  if (k < 0) ledger.postings.push(p)
  else ledger.postings.splice(k, 0, p)
}

/** Keeps the latest LEDGER_DEPTH postings, and while the books are to be folded again, every one from its base on. */
export function trim(ledger: Ledger): void {
  let drop = ledger.postings.length - LEDGER_DEPTH
  if (ledger.dirty !== undefined) drop = Math.min(drop, baseIndex(ledger, ledger.dirty) ?? 0)
  if (drop <= 0) return
  const last = ledger.postings[drop - 1]!
  if (last.after) ledger.base = { at: last.at, books: last.after }
  else delete ledger.base
  ledger.postings.splice(0, drop)
  ledger.trimmed = true
}

/** Where to fold again from for postings at or after position `from`: the last posting before it (−1: the opening books). Null: dropped. */
export function baseIndex(ledger: Ledger, from: number): number | null {
  let k = -1
  for (let i = 0; i < ledger.postings.length; i++) if (ledger.postings[i]!.at < from) k = i
  if (k < 0 && ledger.trimmed && !(ledger.base && ledger.base.at < from)) return null
  return k
}

/** The books at a base index (−1: the ledger's base, else the opening books). */
export const baseBooks = (ledger: Ledger, k: number, startingCash: number): Books =>
  k >= 0 ? copyBooks(ledger.postings[k]!.after!) : ledger.base ? copyBooks(ledger.base.books) : newBooks(startingCash)

/** The MD position of a base (−1: the ledger's base, else 0, the opening books). */
export const baseAt = (ledger: Ledger, k: number): number => (k >= 0 ? ledger.postings[k]!.at : (ledger.base?.at ?? 0))

/** Symbols whose bars a fold from base `k` may mark: those held there, and those posted since. */
export function symbolsFrom(ledger: Ledger, k: number): Set<string> {
  const books = k >= 0 ? ledger.postings[k]!.after! : ledger.base?.books
  const symbols = new Set<string>(books ? Object.keys(books.positions) : [])
  for (let i = k + 1; i < ledger.postings.length; i++) symbols.add(ledger.postings[i]!.symbol)
  return symbols
}

/** One event of a fold, as it reaches the points it makes. */
export type FoldEvent = { kind: 'bar'; bar: Bar; seq: number } | { kind: 'fill'; posting: Posting }

/**
 * Folds `postings` (fold order) and `bars` (MD order, the held symbols' bars after the base) into
 * `books`, calling `point` after each event that makes an equity point — a bar of a held symbol on
 * which nothing of it filled, and every posting — with its fold key. Sets each posting's `after`.
 */
export function fold(books: Books, postings: readonly Posting[], bars: readonly FoundBar[], point: (event: FoldEvent, key: Key, books: Books) => void): void {
  let j = 0
  const post = (p: Posting) => {
    applyPosting(books, p)
    point({ kind: 'fill', posting: p }, keyOf(p), books)
    p.after = copyBooks(books)
  }
  for (const { seq, bar } of bars) {
    while (j < postings.length && postings[j]!.at < seq) post(postings[j++]!)
    markBar(books, bar)
    let filled = false
    while (j < postings.length && postings[j]!.at === seq && postings[j]!.phase === 0) {
      post(postings[j++]!)
      filled = true
    }
    if (!filled && books.positions[bar.symbol]) point({ kind: 'bar', bar, seq }, [seq, 1, 0], books)
  }
  while (j < postings.length) post(postings[j++]!)
}

/** Bars of several lookups as one list in MD order. */
export function mergeBars(lists: readonly (readonly FoundBar[])[]): FoundBar[] {
  const all = lists.flat()
  all.sort((a, b) => a.seq - b.seq)
  return all
}
