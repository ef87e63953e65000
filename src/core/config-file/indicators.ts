// Indicator declarations: one object per type, parameters and defaults as SPEC §5.1 and TA-Lib give
// them; the kinds and their outputs are src/core/indicator-kinds.ts's.
import { z } from 'zod'
import { DPI_MIN_PERIOD, MAX_PERIOD, outputsOf } from '../indicator-kinds.js'
import { BAR_FIELDS } from './conditions.js'

const Period = (min: number) => z.int().min(min).max(MAX_PERIOD)
const Source = z.enum(BAR_FIELDS)

// One object per indicator type; parameters and defaults as SPEC §5.1 and TA-Lib give them.
export const IndicatorSpec = z.discriminatedUnion('type', [
  z.object({ type: z.enum(['sma', 'ema']), period: Period(1), source: Source.default('close') }).strict(),
  z.object({ type: z.literal('rsi'), period: Period(2).default(14), source: Source.optional() }).strict(),
  z.object({ type: z.literal('macd'), fast: Period(2).default(12), slow: Period(2).default(26), signal: Period(1).default(9), source: Source.optional() }).strict(),
  z.object({ type: z.literal('atr'), period: Period(1).default(14) }).strict(),
  z.object({ type: z.literal('bbands'), period: Period(2).default(20), stddev: z.number().min(0).default(2).describe('multiple of the population σ'), source: Source.optional() }).strict(),
  z.object({ type: z.enum(['highest', 'lowest']), period: Period(1), source: Source.optional().describe('defaults to high for highest, low for lowest') }).strict(),
  z.object({ type: z.literal('dpi'), period: Period(DPI_MIN_PERIOD).default(20) }).strict(),
])
export type IndicatorSpec = z.infer<typeof IndicatorSpec>

/** The operand names the declarations provide: `fast`, `macd.line`, `bb.upper`, `dpi.regime`, … */
export function operandNames(indicators: Record<string, IndicatorSpec>): string[] {
  return Object.entries(indicators).flatMap(([name, spec]) => outputsOf(name, spec))
}
