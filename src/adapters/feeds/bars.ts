// What every bar provider hands the feed runner: bars as paperd names them (symbol, canonical open
// time), in time order per symbol. Values are passed on as the provider sent them: market-snapshots
// validates md.in.bar like any other input and dead-letters what is wrong, with the reason.
import { localDate } from '../../core/market-calendar.js'

export interface FetchedBar {
  symbol: string
  /** Canonical open time (a daily bar's: its exchange date at 00:00 UTC), or the provider's text when unreadable. */
  ts: string
  open: number
  high: number
  low: number
  close: number
  volume: number
}

/** A page of bars, or the end of what the provider has now. */
export type BarPages = AsyncGenerator<FetchedBar[], void, void>

/**
 * The open time of a provider's bar as paperd writes it. A daily bar is a trading day: the date it
 * has on the exchange's clock, at 00:00 UTC, as a CSV of dates is read — so a feed and a replay of
 * the same day give the same message id. An intraday bar keeps its instant.
 */
export function barTime(raw: unknown, daily: boolean): string {
  if (typeof raw !== 'string') return String(raw)
  if (daily && /^\d{4}-\d{2}-\d{2}$/.test(raw)) return `${raw}T00:00:00.000Z`
  const ms = Date.parse(raw)
  if (Number.isNaN(ms)) return raw
  if (!daily) return new Date(ms).toISOString()
  // A date-time at midnight UTC is already a date (Tiingo); anything else is read on the exchange's clock (Alpaca: 05:00Z).
  return /T00:00(:00(\.0+)?)?(Z|\+00:?00)$/.test(raw) ? `${raw.slice(0, 10)}T00:00:00.000Z` : `${localDate(ms)}T00:00:00.000Z`
}

/** A number as the provider sent it, or NaN (market-snapshots refuses the bar with the field's name). */
export const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN)
