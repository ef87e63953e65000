// NarrativeGap context from Finnhub's analyst price targets: GET /api/v1/stock/price-target?symbol=…,
// the key in the X-Finnhub-Token header and the `token` parameter (both documented; masked when
// shown). consensus_forecast is the mean target; distribution_estimate comes from the model the feed
// names — `analyst-median`, the median target: where the analysts' distribution is centred, against
// the mean a few outliers pull (README, NarrativeGap inputs).
// https://finnhub.io/docs/api/price-target
import type { ProviderSettings } from '../../config/env.js'
import { getJson, type HttpOptions } from './http.js'
import { num } from './bars.js'

interface PriceTargets {
  symbol: string
  /** When the provider last changed them. */
  lastUpdated: string | null
  mean: number
  median: number
  high: number
  low: number
}

interface Answer {
  lastUpdated?: unknown
  targetMean?: unknown
  targetMedian?: unknown
  targetHigh?: unknown
  targetLow?: unknown
}

export async function finnhubTargets(settings: ProviderSettings['finnhub'], symbol: string, http: HttpOptions): Promise<PriceTargets> {
  const headers = { 'X-Finnhub-Token': settings.apiKey ?? '' }
  const q = new URLSearchParams({ symbol: symbol.replace(/-/g, '.'), token: settings.apiKey ?? '' })
  const a = (await getJson(`${settings.url}/api/v1/stock/price-target?${q}`, { ...http, headers })) as Answer
  return {
    symbol,
    lastUpdated: typeof a.lastUpdated === 'string' ? a.lastUpdated : null,
    mean: num(a.targetMean),
    median: num(a.targetMedian),
    high: num(a.targetHigh),
    low: num(a.targetLow),
  }
}
