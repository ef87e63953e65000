// The strategy condition language (SPEC §5.2), evaluated on one bar with the previous bar's values
// for crossings. An operand that is not available (an indicator still warming up, no previous bar)
// makes its comparison unknown, and a condition holds only when it is known to: nothing trades on
// half-known data (not even through `not`).
import type { Condition, Operand } from '../../src/core/config-file/conditions.js'
import { isBarField, type BarField } from '../../src/core/indicator-kinds.js'

/** Operand values on one bar, as a plain lookup table (bar fields and indicator values together). */
export type Frame = Readonly<Record<string, number>>

/** One bar as the strategy holds it: the md.ind message's own bar and values objects, not copied. */
export interface BarFrame {
  bar: Readonly<Record<BarField, number>>
  values: Readonly<Record<string, number>>
}

type Truth = boolean | undefined
type Test<F> = (now: F, prev: F | undefined) => Truth
type Access<F> = (f: F) => number | undefined

/**
 * Whether `cond` holds. Unknown operands make a comparison unknown, and unknown stays unknown through
 * `not` (Kleene logic: `all` is false if any part is false, `any` is true if any part is true), so
 * `{"not": {"lt": ["rsi", 30]}}` does not hold while rsi is warming up. Only a known true holds.
 */
export function evaluate(cond: Condition, now: Frame, prev: Frame | undefined): boolean {
  return compile(cond, (name) => (f: Frame) => f[name])(now, prev) === true
}

/** A condition compiled once into closures over the strategy's frames: no allocation per bar. */
export function compileCondition(cond: Condition): (now: BarFrame, prev: BarFrame | undefined) => boolean {
  const test = compile<BarFrame>(cond, (name) => (isBarField(name) ? (f) => f.bar[name] : (f) => f.values[name]))
  return (now, prev) => test(now, prev) === true
}

function compile<F>(cond: Condition, access: (name: string) => Access<F>): Test<F> {
  if ('all' in cond || 'any' in cond) {
    const all = 'all' in cond
    const parts = (all ? cond.all : cond.any).map((c) => compile(c, access))
    const decisive = !all // all: a false decides; any: a true decides
    return (now, prev) => {
      let unknown = false
      for (const part of parts) {
        const t = part(now, prev)
        if (t === decisive) return decisive
        if (t === undefined) unknown = true
      }
      return unknown ? undefined : !decisive
    }
  }
  if ('not' in cond) {
    const inner = compile(cond.not, access)
    return (now, prev) => {
      const t = inner(now, prev)
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
      return (now, prev) => {
        const x = a(now)
        const y = b(now)
        if (x === undefined || y === undefined || prev === undefined) return undefined
        const px = a(prev)
        const py = b(prev)
        if (px === undefined || py === undefined) return undefined
        return above ? px <= py && x > y : px >= py && x < y
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
