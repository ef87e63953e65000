// The strategy condition language (SPEC §5.2), evaluated on one bar with the previous bar's values
// for crossings. An operand that is not available (an indicator still warming up, no previous bar)
// makes its comparison false: nothing trades on half-known data.
import type { Condition, Operand } from '../../src/config-file.js'

/** Operand values on one bar: bar fields plus indicator values by declared name. */
export type Frame = Readonly<Record<string, number>>

function value(operand: Operand, frame: Frame | undefined): number | undefined {
  if (typeof operand === 'number') return operand
  return frame?.[operand]
}

export function evaluate(cond: Condition, now: Frame, prev: Frame | undefined): boolean {
  if ('all' in cond) return cond.all.every((c) => evaluate(c, now, prev))
  if ('any' in cond) return cond.any.some((c) => evaluate(c, now, prev))
  if ('not' in cond) return !evaluate(cond.not, now, prev)
  const [op, [left, right]] = Object.entries(cond)[0] as [string, [Operand, Operand]]
  const a = value(left, now)
  const b = value(right, now)
  if (a === undefined || b === undefined) return false
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
      if (pa === undefined || pb === undefined) return false
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
