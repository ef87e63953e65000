// The strategy condition language (SPEC §5.2), evaluated on one bar with the previous bar's values
// for crossings. An operand that is not available (an indicator still warming up, no previous bar)
// makes its comparison unknown, and a condition holds only when it is known to: nothing trades on
// half-known data (not even through `not`).
import type { Condition, Operand } from '../../src/config-file.js'

/** Operand values on one bar: bar fields plus indicator values by declared name. */
export type Frame = Readonly<Record<string, number>>

function value(operand: Operand, frame: Frame | undefined): number | undefined {
  if (typeof operand === 'number') return operand
  return frame?.[operand]
}

/**
 * Whether `cond` holds. Unknown operands make a comparison unknown, and unknown stays unknown through
 * `not` (Kleene logic: `all` is false if any part is false, `any` is true if any part is true), so
 * `{"not": {"lt": ["rsi", 30]}}` does not hold while rsi is warming up. Only a known true holds.
 */
export function evaluate(cond: Condition, now: Frame, prev: Frame | undefined): boolean {
  return truth(cond, now, prev) === true
}

/** true, false, or undefined when an operand is not available. */
function truth(cond: Condition, now: Frame, prev: Frame | undefined): boolean | undefined {
  if ('all' in cond || 'any' in cond) {
    const all = 'all' in cond
    const decisive = !all // all: a false decides; any: a true decides
    let unknown = false
    for (const c of all ? cond.all : cond.any) {
      const t = truth(c, now, prev)
      if (t === decisive) return decisive
      if (t === undefined) unknown = true
    }
    return unknown ? undefined : !decisive
  }
  if ('not' in cond) {
    const t = truth(cond.not, now, prev)
    return t === undefined ? undefined : !t
  }
  const [op, [left, right]] = Object.entries(cond)[0] as [string, [Operand, Operand]]
  const a = value(left, now)
  const b = value(right, now)
  if (a === undefined || b === undefined) return undefined
  switch (op) {
    case 'gt': return a > b
    case 'gte': return a >= b
    case 'lt': return a < b
    case 'lte': return a <= b
    case 'eq': return a === b
    case 'crossesAbove':
    case 'crossesBelow': {
      const pa = value(left, prev)
      const pb = value(right, prev)
      if (pa === undefined || pb === undefined) return undefined
      return op === 'crossesAbove' ? pa <= pb && a > b : pa >= pb && a < b
    }
    default:
      throw new Error(`unknown condition operator ${op}`)
  }
}

/** Bar fields and indicator values as one lookup table (config forbids indicators named like bar fields). */
export function frameOf(bar: Record<'open' | 'high' | 'low' | 'close' | 'volume', number>, values: Record<string, number>): Frame {
  return { ...values, open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume }
}
