// Streaming indicators for strategy declarations (SPEC §5.1): one uniform interface over SMA, EMA,
// RSI, MACD, ATR, Bollinger Bands, rolling highest/lowest and the Phase-5 DPI.
//
// Conventions are TA-Lib's (default compatibility, no unstable period): EMA seeded with the SMA of
// its first `period` values; Wilder smoothing for RSI and ATR, seeded with simple means; nothing
// until warmed up, and a multi-valued indicator gives all its values from the same bar on. The
// first value comes at bar index `lookbackOf(spec)`, which is TA-Lib's lookback.
//
// Why hand-written rather than `trading-signals` (checked at v8.3.0, bennycode/trading-signals
// packages/trading-signals/src): its EMA is seeded with the first price, not the SMA of the first
// `period` prices, and its MACD is built on that EMA, so neither matches TA-Lib; its ATR feeds the
// first bar's H−L into the average (TA-Lib skips bar 0, which has no previous close), so the seed
// and every later value differ; its RSI answers 100 when the average loss is 0, where TA-Lib answers
// 0 for a flat series. Its indicators are also class instances with private (#) fields and no
// serialisation, while the runtime checkpoints actor state as JSON. Here every state is plain data
// (numbers, arrays, plain objects): JSON.parse(JSON.stringify(state)) resumes bit for bit.
//
// Every update is O(1), amortised where a window's running sums are recomputed every `period` bars.
import { newEma, newSma, updateEma, updateSma, type EmaState, type SmaState } from '../moving-average.js'
import { newBbands, updateBbands, type BbandsState } from './bbands.js'
import { newDpi, updateDpi, type DpiState } from './dpi.js'
import { newExtreme, updateExtreme, type ExtremeState } from './extremes.js'
import { newMacd, updateMacd, type MacdState } from './macd.js'
import { newAtr, newRsi, updateAtr, updateRsi, type AtrState, type RsiState } from './wilder.js'

import { DPI_MIN_PERIOD, INDICATOR_DEFAULTS, MAX_PERIOD, operand, type BarField, type IndicatorSpec } from '../../../src/core/indicator-kinds.js'

export { DPI_REGIMES, dpiRegime, dpiRegimeName, type DpiRegime } from './dpi.js'

export { outputsOf, type IndicatorSpec } from '../../../src/core/indicator-kinds.js'

export interface OhlcvBar {
  open: number
  high: number
  low: number
  close: number
  volume: number
}

/** Plain JSON: what the runtime checkpoints. */
export type IndicatorState =
  | { kind: 'sma'; source: BarField; ma: SmaState }
  | { kind: 'ema'; source: BarField; ma: EmaState }
  | { kind: 'rsi'; source: BarField; rsi: RsiState }
  | { kind: 'macd'; source: BarField; macd: MacdState }
  | { kind: 'atr'; atr: AtrState }
  | { kind: 'bbands'; source: BarField; bb: BbandsState }
  | { kind: 'highest' | 'lowest'; source: BarField; ext: ExtremeState }
  | { kind: 'dpi'; dpi: DpiState }

/**
 * One bar's values, keyed by output suffix: '' for a single-valued indicator, 'line' / 'signal' /
 * 'hist' for macd, 'upper' / 'middle' / 'lower' for bbands, 'value' / 'regime' for dpi. The operand
 * name is the declared name for '' and `name.suffix` otherwise (see `outputsOf`, `putValues`).
 */
export type IndicatorValues = Readonly<Record<string, number>>

/** Writes one indicator's values into a flat record under their operand names; returns the record. */
export function putValues(into: Record<string, number>, name: string, values: IndicatorValues): Record<string, number> {
  for (const suffix in values) into[operand(name, suffix)] = values[suffix]!
  return into
}

/** The bar index of the first value (TA-Lib's lookback): bars needed before it, minus one. */
export function lookbackOf(spec: IndicatorSpec): number {
  switch (spec.type) {
    case 'sma':
    case 'ema':
    case 'highest':
    case 'lowest':
      return spec.period - 1
    case 'rsi':
      return spec.period ?? INDICATOR_DEFAULTS.rsi.period
    case 'atr':
      return spec.period ?? INDICATOR_DEFAULTS.atr.period
    case 'bbands':
      return (spec.period ?? INDICATOR_DEFAULTS.bbands.period) - 1
    case 'dpi':
      return (spec.period ?? INDICATOR_DEFAULTS.dpi.period) - 1
    case 'macd': {
      const { fast, slow, signal } = macdParams(spec)
      return Math.max(fast, slow) - 1 + signal - 1
    }
  }
}

const macdParams = (spec: Extract<IndicatorSpec, { type: 'macd' }>) => ({
  fast: spec.fast ?? INDICATOR_DEFAULTS.macd.fast,
  slow: spec.slow ?? INDICATOR_DEFAULTS.macd.slow,
  signal: spec.signal ?? INDICATOR_DEFAULTS.macd.signal,
})

const isPeriod = (x: unknown, min: number) => Number.isInteger(x) && (x as number) >= min && (x as number) <= MAX_PERIOD

/**
 * What is wrong with a declaration, in words a strategy author can act on, or undefined. The lower
 * bounds are TA-Lib's (RSI and MACD periods ≥ 2, BBANDS ≥ 2) except DPI's, which needs 5 bars for
 * its short average.
 */
export function specProblem(spec: IndicatorSpec): string | undefined {
  const need = (field: string, value: unknown, min: number) =>
    isPeriod(value, min) ? undefined : `${spec.type}: ${field} must be an integer from ${min} to ${MAX_PERIOD} (got ${JSON.stringify(value)})`
  switch (spec.type) {
    case 'sma':
    case 'ema':
    case 'highest':
    case 'lowest':
      return need('period', spec.period, 1)
    case 'rsi':
      return need('period', spec.period ?? INDICATOR_DEFAULTS.rsi.period, 2)
    case 'atr':
      return need('period', spec.period ?? INDICATOR_DEFAULTS.atr.period, 1)
    case 'dpi':
      return need('period', spec.period ?? INDICATOR_DEFAULTS.dpi.period, DPI_MIN_PERIOD)
    case 'bbands': {
      const k = spec.stddev ?? INDICATOR_DEFAULTS.bbands.stddev
      return (
        need('period', spec.period ?? INDICATOR_DEFAULTS.bbands.period, 2) ??
        (Number.isFinite(k) && k >= 0 ? undefined : `bbands: stddev must be a number ≥ 0 (got ${JSON.stringify(spec.stddev)})`)
      )
    }
    case 'macd': {
      const { fast, slow, signal } = macdParams(spec)
      return need('fast', fast, 2) ?? need('slow', slow, 2) ?? need('signal', signal, 1)
    }
  }
}

/** A fresh state for a declaration (throws on a declaration `specProblem` rejects). */
export function newIndicator(spec: IndicatorSpec): IndicatorState {
  const problem = specProblem(spec)
  if (problem) throw new Error(problem)
  switch (spec.type) {
    case 'sma':
      return { kind: 'sma', source: spec.source ?? 'close', ma: newSma(spec.period) }
    case 'ema':
      return { kind: 'ema', source: spec.source ?? 'close', ma: newEma(spec.period) }
    case 'rsi':
      return { kind: 'rsi', source: spec.source ?? 'close', rsi: newRsi(spec.period ?? INDICATOR_DEFAULTS.rsi.period) }
    case 'macd': {
      const { fast, slow, signal } = macdParams(spec)
      return { kind: 'macd', source: spec.source ?? 'close', macd: newMacd(fast, slow, signal) }
    }
    case 'atr':
      return { kind: 'atr', atr: newAtr(spec.period ?? INDICATOR_DEFAULTS.atr.period) }
    case 'bbands':
      return {
        kind: 'bbands',
        source: spec.source ?? 'close',
        bb: newBbands(spec.period ?? INDICATOR_DEFAULTS.bbands.period, spec.stddev ?? INDICATOR_DEFAULTS.bbands.stddev),
      }
    case 'highest':
      return { kind: 'highest', source: spec.source ?? 'high', ext: newExtreme('highest', spec.period) }
    case 'lowest':
      return { kind: 'lowest', source: spec.source ?? 'low', ext: newExtreme('lowest', spec.period) }
    case 'dpi':
      return { kind: 'dpi', dpi: newDpi(spec.period ?? INDICATOR_DEFAULTS.dpi.period) }
  }
}

/** Advances the state by one bar (mutating it); the bar's values, or undefined before warm-up. */
export function updateIndicator(state: IndicatorState, bar: OhlcvBar): IndicatorValues | undefined {
  const out = advance(state, bar)
  return typeof out === 'number' ? { '': out } : out
}

/**
 * Advances the state by one bar and writes the bar's values into `into` under their operand names:
 * `putValues(into, name, updateIndicator(state, bar))`, without a record for a single value.
 */
export function updateInto(into: Record<string, number>, name: string, state: IndicatorState, bar: OhlcvBar): void {
  const out = advance(state, bar)
  if (typeof out === 'number') into[name] = out
  else if (out) putValues(into, name, out)
}

/** A single-valued indicator's value as a bare number; the others' as their record. */
function advance(state: IndicatorState, bar: OhlcvBar): number | IndicatorValues | undefined {
  switch (state.kind) {
    case 'sma':
      return updateSma(state.ma, bar[state.source])
    case 'ema':
      return updateEma(state.ma, bar[state.source])
    case 'rsi':
      return updateRsi(state.rsi, bar[state.source])
    case 'atr':
      return updateAtr(state.atr, bar.high, bar.low, bar.close)
    case 'highest':
    case 'lowest':
      return updateExtreme(state.ext, bar[state.source])
    case 'macd':
      return updateMacd(state.macd, bar[state.source])
    case 'bbands':
      return updateBbands(state.bb, bar[state.source])
    case 'dpi':
      return updateDpi(state.dpi, bar)
  }
}
