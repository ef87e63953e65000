// The indicator vocabulary of the strategy language: which indicators a strategy may declare, their
// parameters and defaults, and the operand names each provides. The config schema validates against
// it and actors/lib/indicators computes it; this is the one list of indicator types.
/** The fewest bars a DPI frame may have: the momentum's short average needs 5. */
export const DPI_MIN_PERIOD = 5

export type BarField = 'open' | 'high' | 'low' | 'close' | 'volume'

/**
 * A declaration as a strategy writes it. `source` defaults to close (high for highest, low for
 * lowest). rsi, macd and bbands also take a `source` (TA-Lib computes them over any one series);
 * SPEC §5.1 lists it only for sma/ema/highest/lowest, so the strategy schema decides whether to offer it.
 */
export type IndicatorSpec =
  | { type: 'sma' | 'ema'; period: number; source?: BarField }
  | { type: 'rsi'; period?: number; source?: BarField }
  | { type: 'macd'; fast?: number; slow?: number; signal?: number; source?: BarField }
  | { type: 'atr'; period?: number }
  | { type: 'bbands'; period?: number; stddev?: number; source?: BarField }
  | { type: 'highest' | 'lowest'; period: number; source?: BarField }
  | { type: 'dpi'; period?: number }

type IndicatorType = IndicatorSpec['type']

export const INDICATOR_DEFAULTS = {
  rsi: { period: 14 },
  macd: { fast: 12, slow: 26, signal: 9 },
  atr: { period: 14 },
  bbands: { period: 20, stddev: 2 },
  dpi: { period: 20 },
} as const

/** The largest period any indicator accepts (TA-Lib's bound). */
export const MAX_PERIOD = 100_000

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
