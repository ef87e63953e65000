// The condition language: comparisons of operands (indicator outputs, bar fields, numbers), crosses,
// and all/any/not over them. Evaluated by actors/lib/conditions.ts.
import { z } from 'zod'

export const Operand = z
  .union([z.string(), z.number()])
  .describe('An indicator name ("fast", "macd.signal"), a bar field (open, high, low, close, volume) or a number')
const Pair = z.tuple([Operand, Operand])

export type Operand = z.infer<typeof Operand>
export type Condition =
  | { gt: [Operand, Operand] }
  | { gte: [Operand, Operand] }
  | { lt: [Operand, Operand] }
  | { lte: [Operand, Operand] }
  | { eq: [Operand, Operand] }
  | { crossesAbove: [Operand, Operand] }
  | { crossesBelow: [Operand, Operand] }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }

export const ConditionSchema: z.ZodType<Condition> = z
  .object({
    gt: Pair.optional(),
    gte: Pair.optional(),
    lt: Pair.optional(),
    lte: Pair.optional(),
    eq: Pair.optional(),
    crossesAbove: Pair.optional().describe('a is above b now and was below it at the last bar where they differed (a touch crosses, a bounce does not)'),
    crossesBelow: Pair.optional().describe('a is below b now and was above it at the last bar where they differed (a touch crosses, a bounce does not)'),
    get all() {
      return z.array(ConditionSchema).min(1).optional()
    },
    get any() {
      return z.array(ConditionSchema).min(1).optional()
    },
    get not() {
      return ConditionSchema.optional()
    },
  })
  .strict()
  .refine((c) => Object.keys(c).length === 1, { message: 'a condition has exactly one operator' })
  .meta({ id: 'Condition', minProperties: 1, maxProperties: 1 }) as unknown as z.ZodType<Condition>

export function* operandsOf(cond: Condition, path: (string | number)[]): Generator<[Operand, (string | number)[]]> {
  const [op, arg] = Object.entries(cond)[0] as [string, unknown]
  if (op === 'all' || op === 'any') for (const [j, c] of (arg as Condition[]).entries()) yield* operandsOf(c, [...path, op, j])
  else if (op === 'not') yield* operandsOf(arg as Condition, [...path, op])
  else for (const [j, operand] of (arg as Operand[]).entries()) yield [operand, [...path, op, j]]
}
