// FRED series observations: GET /fred/series/observations?series_id=…&api_key=…&file_type=json,
// paged with offset/limit. Each observation becomes a daily bar whose four prices are its value and
// whose volume is 0; "." (no observation that day) is skipped. https://fred.stlouisfed.org/docs/api/fred/series_observations.html
import type { ProviderSettings } from '../../config/env.js'
import { barTime, num, type BarPages } from './bars.js'
import { getJson, type HttpOptions } from './http.js'

const PAGE_LIMIT = 100_000

interface Observations {
  observations?: { date?: unknown; value?: unknown }[]
  count?: number
}

export async function* fredBars(
  settings: ProviderSettings['fred'],
  series: Record<string, string>,
  start: (symbol: string) => string,
  http: HttpOptions,
): BarPages {
  for (const [symbol, id] of Object.entries(series)) {
    // Fixed for the series' pages: the offset counts from it (the caller's mark moves as pages are published).
    const from = start(symbol).slice(0, 10)
    for (let offset = 0; ; ) {
      const q = new URLSearchParams({
        series_id: id,
        api_key: settings.apiKey ?? '',
        file_type: 'json',
        observation_start: from,
        sort_order: 'asc',
        limit: String(PAGE_LIMIT),
        offset: String(offset),
      })
      const body = (await getJson(`${settings.url}/fred/series/observations?${q}`, http)) as Observations
      const rows = Array.isArray(body.observations) ? body.observations : []
      yield rows
        .filter((o) => o.value !== '.')
        .map((o) => {
          const v = num(o.value)
          return { symbol, ts: barTime(o.date, true), open: v, high: v, low: v, close: v, volume: 0 }
        })
      offset += rows.length
      if (rows.length === 0 || offset >= (body.count ?? 0)) break
    }
  }
}
