// The strategy condition language (SPEC §5.2), evaluated on one bar with the previous bar's values
// for crossings. An operand that is not available (an indicator still warming up, no previous bar)
// makes its comparison unknown, and a condition holds only when it is known to: nothing trades on
// half-known data (not even through `not`).
//
// A crossing is backtrader's (`CrossOver`): `a` crosses above `b` when it is above now and was below
// at the last bar where the two differed, so a touch (below → equal → above) crosses once and a
// bounce (above → equal → above) does not. The previous bar says which side `a` was on, unless the
// two were equal there: then the side from before is needed, carried from bar to bar (`Sides`, kept
// in the strategy's state) and updated by `track` on every bar.
import type { Condition, Operand } from '../../src/core/config-file/conditions.js'
import { isBarField, type BarField } from '../../src/core/indicator-kinds.js'

/** Operand values on one bar, as a plain lookup table (bar fields and indicator values together). */
export type Frame = Readonly<Record<string, number>>

/** One bar as the strategy holds it: the md.ind message's own bar and values objects, not copied. */
export interface BarFrame {
  bar: Readonly<Record<BarField, number>>
  values: Readonly<Record<string, number>>
}

/**
 * By operand pair (`["fast","slow"]`), the side `a` was on at the last bar where `a ≠ b`: −1 below,
 * 1 above; absent before any such bar. Keyed by the pair rather than a crossing's place among the
 * conditions, so a config edited between two runs never reads another crossing's side. Plain data:
 * checkpointed with the strategy's state.
 */
export type Sides = Record<string, number>

type Truth = boolean | undefined
type Test<F> = (now: F, prev: F | undefined, sides: Sides) => Truth
type Access<F> = (f: F) => number | undefined
type Crossing<F> = readonly [Access<F>, Access<F>]

/** The conditions of one strategy, compiled once into closures over its frames (no allocation per bar). */
interface ConditionSet<F> {
  /** Compiles `cond`; it holds only when known to be true. */
  add(cond: Condition): (now: F, prev: F | undefined, sides: Sides) => boolean
  /** Records, for each pair a crossing compares, its side on bar `now` where they differ; call once per bar, after testing. */
  track(now: F, sides: Sides): void
}

/** A set over the strategy's frames: bar fields from the bar, the rest from the indicator values. */
export const barConditions = (): ConditionSet<BarFrame> => conditionSet<BarFrame>((name) => (isBarField(name) ? (f) => f.bar[name] : (f) => f.values[name]))

function conditionSet<F>(access: (name: string) => Access<F>): ConditionSet<F> {
  const crossings = new Map<string, Crossing<F>>()
  return {
    add(cond) {
      const test = compile(cond, access, crossings)
      return (now, prev, sides) => test(now, prev, sides) === true
    },
    track(now, sides) {
      for (const [pair, [a, b]] of crossings) {
        const x = a(now)
        const y = b(now)
        if (x !== undefined && y !== undefined && x !== y) sides[pair] = x > y ? 1 : -1
      }
    },
  }
}

/**
 * Whether `cond` holds on the last frame of `series` (the frames before it are the bars before, for
 * crossings). Unknown operands make a comparison unknown, and unknown stays unknown through `not`
 * (Kleene logic: `all` is false if any part is false, `any` is true if any part is true), so
 * `{"not": {"lt": ["rsi", 30]}}` does not hold while rsi is warming up. Only a known true holds.
 */
export function evaluate(cond: Condition, series: readonly Frame[]): boolean {
  const set = conditionSet<Frame>((name) => (f) => f[name])
  const test = set.add(cond)
  const sides: Sides = {}
  for (let i = 0; i + 1 < series.length; i++) set.track(series[i]!, sides)
  return test(series.at(-1)!, series.at(-2), sides)
}

function compile<F>(cond: Condition, access: (name: string) => Access<F>, crossings: Map<string, Crossing<F>>): Test<F> {
  if ('all' in cond || 'any' in cond) {
    const all = 'all' in cond
    const parts = (all ? cond.all : cond.any).map((c) => compile(c, access, crossings))
    const decisive = !all // all: a false decides; any: a true decides
    return (now, prev, sides) => {
      let unknown = false
      for (const part of parts) {
        const t = part(now, prev, sides)
        if (t === decisive) return decisive
        if (t === undefined) unknown = true
      }
      return unknown ? undefined : !decisive
    }
  }
  if ('not' in cond) {
    const inner = compile(cond.not, access, crossings)
    return (now, prev, sides) => {
      const t = inner(now, prev, sides)
      return t === undefined ? undefined : !t
    }
  }
  const [op, [left, right]] = Object.entries(cond)[0] as [string, [Operand, Operand]]
  const operand = (o: Operand): Access<F> => (typeof o === 'number' ? () => o : access(o))
  const a = operand(left)
  const b = operand(right)
  const compare =
    (fn: (x: number, y: number) => boolean): Test<F> =>
    (now) => {
      const x = a(now)
      const y = b(now)
      return x === undefined || y === undefined ? undefined : fn(x, y)
    }
  switch (op) {
    case 'gt':
      return compare((x, y) => x > y)
    case 'gte':
      return compare((x, y) => x >= y)
    case 'lt':
      return compare((x, y) => x < y)
    case 'lte':
      return compare((x, y) => x <= y)
    case 'eq':
      return compare((x, y) => x === y)
    case 'crossesAbove':
    case 'crossesBelow': {
      const above = op === 'crossesAbove'
      const pair = JSON.stringify([left, right])
      crossings.set(pair, [a, b])
      return (now, prev, sides) => {
        const x = a(now)
        const y = b(now)
        if (x === undefined || y === undefined || prev === undefined) return undefined
        const px = a(prev)
        const py = b(prev)
        if (px === undefined || py === undefined) return undefined
        // The side before this bar: the previous bar's, or where they were equal, the one before it.
        const before = px !== py ? (px > py ? 1 : -1) : (sides[pair] ?? 0)
        return above ? before < 0 && x > y : before > 0 && x < y
      }
    }
    default:
      throw new Error(`unknown condition operator ${op}`)
  }
}

/** Bar fields and indicator values as one lookup table (config forbids indicators named like bar fields). */
export function frameOf(bar: Record<BarField, number>, values: Record<string, number>): Frame {
  return { ...values, open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume }
}
