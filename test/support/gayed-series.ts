// Crafted daily series for the Gayed consensus where the answer is known: for 40 days every one of
// the five signals says Risk-On (SPY and lumber rally, utilities and gold flat, IEF beats TLT, VIX at
// 20), then for 40 days every one says Risk-Off (SPY and lumber fall, utilities and gold rally, TLT
// beats IEF, VIX at 10). Short lookbacks keep the warm-up small.
import type { CsvBar } from '../../src/core/csv.js'

export const GAYED_PARAMS = { utilities_lookback: 5, lumber_lookback: 5, treasury_lookback: 5, ma_short: 5, ma_long: 10 }
export const GAYED_DAYS = 80
export const SWITCH_DAY = 40

/** Daily growth per symbol in each phase. */
const PHASES: Record<string, { start: number; on: number; off: number }> = {
  SPY: { start: 100, on: 1.01, off: 0.99 },
  XLU: { start: 50, on: 1, off: 1.01 },
  WOOD: { start: 30, on: 1.01, off: 0.99 },
  GLD: { start: 150, on: 1, off: 1.01 },
  IEF: { start: 100, on: 1.002, off: 0.998 },
  TLT: { start: 100, on: 0.998, off: 1.002 },
  VIX: { start: 20, on: 1, off: 1 },
}

/** The symbols in the order a feed publishes each day (TLT before SPY: a rotation's buy comes first). */
export const GAYED_SYMBOLS = ['TLT', 'VIX', 'IEF', 'GLD', 'WOOD', 'XLU', 'SPY']

/**
 * The series; `phases` changes a symbol's daily growth, `gaps` makes a symbol's price jump by a
 * factor at a day's open (and go on from there).
 */
export function gayedSeries(
  phases: Record<string, Partial<{ start: number; on: number; off: number }>> = {},
  gaps: Record<string, Record<number, number>> = {},
): Record<string, CsvBar[]> {
  const out: Record<string, CsvBar[]> = {}
  for (const [symbol, base] of Object.entries(PHASES)) {
    const p = { ...base, ...phases[symbol] }
    const bars: CsvBar[] = []
    let close = p.start
    for (let d = 0; d < GAYED_DAYS; d++) {
      if (gaps[symbol]?.[d] !== undefined) close = Math.round(close * gaps[symbol][d]! * 1e6) / 1e6
      const open = close
      if (symbol === 'VIX') close = d < SWITCH_DAY ? 20 : 10
      else close = Math.round(close * (d < SWITCH_DAY ? p.on : p.off) * 1e6) / 1e6
      const ts = new Date(Date.UTC(2024, 0, 1) + d * 86_400_000).toISOString()
      bars.push({ ts, open, high: Math.max(open, close) * 1.001, low: Math.min(open, close) * 0.999, close, volume: 1_000_000 })
    }
    out[symbol] = bars
  }
  return out
}

export const GAYED_CONFIG = {
  accounts: [{ id: 'gayed', starting_cash: 100_000 }],
  strategies: [{ type: 'gayed', id: 'gayed', account: 'gayed', defensive: 'TLT', params: GAYED_PARAMS }],
}
