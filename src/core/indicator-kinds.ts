// The indicator vocabulary of the strategy language: which indicators a strategy may declare, their
// parameters and defaults, and the operand names each provides. The config schema validates against
// it and actors/lib/indicators computes it; this is the one list of indicator types (a new one: its
// line in IndicatorDecl, its outputs in SUFFIXES, its computation in actors/lib/indicators).
import { z } from 'zod'

/** The fields of a bar a condition or an indicator's source may name. */
export const BAR_FIELDS = ['open', 'high', 'low', 'close', 'volume'] as const
export type BarField = (typeof BAR_FIELDS)[number]
export const isBarField = (s: string): s is BarField => (BAR_FIELDS as readonly string[]).includes(s)

/** The fewest bars a DPI frame may have: the momentum's short average needs 5. */
export const DPI_MIN_PERIOD = 5

/** The largest period any indicator accepts (TA-Lib's bound). */
export const MAX_PERIOD = 100_000

export const INDICATOR_DEFAULTS = {
  rsi: { period: 14 },
  macd: { fast: 12, slow: 26, signal: 9 },
  atr: { period: 14 },
  bbands: { period: 20, stddev: 2 },
  dpi: { period: 20 },
} as const

const Period = (min: number) => z.int().min(min).max(MAX_PERIOD)
const Source = z.enum(BAR_FIELDS)
const D = INDICATOR_DEFAULTS

/**
 * A declaration as a strategy writes it: one object per type, parameters and defaults as SPEC §5.1
 * and TA-Lib give them. `source` defaults to close (high for highest, low for lowest). rsi, macd and
 * bbands also take a `source` (TA-Lib computes them over any one series).
 */
export const IndicatorDecl = z.discriminatedUnion('type', [
  z.object({ type: z.enum(['sma', 'ema']), period: Period(1), source: Source.default('close') }).strict(),
  z.object({ type: z.literal('rsi'), period: Period(2).default(D.rsi.period), source: Source.optional() }).strict(),
  z
    .object({
      type: z.literal('macd'),
      fast: Period(2).default(D.macd.fast),
      slow: Period(2).default(D.macd.slow),
      signal: Period(1).default(D.macd.signal),
      source: Source.optional(),
    })
    .strict(),
  z.object({ type: z.literal('atr'), period: Period(1).default(D.atr.period) }).strict(),
  z
    .object({
      type: z.literal('bbands'),
      period: Period(2).default(D.bbands.period),
      stddev: z.number().min(0).default(D.bbands.stddev).describe('multiple of the population σ'),
      source: Source.optional(),
    })
    .strict(),
  z
    .object({ type: z.enum(['highest', 'lowest']), period: Period(1), source: Source.optional().describe('defaults to high for highest, low for lowest') })
    .strict(),
  z.object({ type: z.literal('dpi'), period: Period(DPI_MIN_PERIOD).default(D.dpi.period) }).strict(),
])
/** A declaration, its defaults applied or not (the indicators library applies them itself). */
export type IndicatorSpec = z.input<typeof IndicatorDecl>
type IndicatorType = IndicatorSpec['type']

const SUFFIXES: Record<IndicatorType, readonly string[]> = {
  sma: [''],
  ema: [''],
  rsi: [''],
  macd: ['line', 'signal', 'hist'],
  atr: [''],
  bbands: ['upper', 'middle', 'lower'],
  highest: [''],
  lowest: [''],
  dpi: ['value', 'regime'],
}

const suffixesOf = (spec: IndicatorSpec): readonly string[] => SUFFIXES[spec.type]

export const operand = (name: string, suffix: string) => (suffix === '' ? name : `${name}.${suffix}`)

/** The operand names a declaration provides, e.g. ['macd.line', 'macd.signal', 'macd.hist']. */
export const outputsOf = (name: string, spec: IndicatorSpec): string[] => suffixesOf(spec).map((s) => operand(name, s))

/** The operand names the declarations provide: `fast`, `macd.line`, `bb.upper`, `dpi.regime`, … */
export function operandNames(indicators: Record<string, IndicatorSpec>): string[] {
  return Object.entries(indicators).flatMap(([name, spec]) => outputsOf(name, spec))
}
