// Tiingo end-of-day prices: GET /tiingo/daily/<ticker>/prices?startDate=…, one ticker per request,
// the token in the Authorization header and, as Tiingo's examples also show it, the `token` parameter
// (masked wherever a URL is shown). Traded prices by default; the adjusted ones on request.
// https://www.tiingo.com/documentation/end-of-day
import type { ProviderSettings } from '../../config/env.js'
import { barTime, num, type BarPages } from './bars.js'
import { getJson, type HttpOptions } from './http.js'

interface TiingoPrice {
  date?: unknown
  open?: unknown
  high?: unknown
  low?: unknown
  close?: unknown
  volume?: unknown
  adjOpen?: unknown
  adjHigh?: unknown
  adjLow?: unknown
  adjClose?: unknown
  adjVolume?: unknown
}

export async function* tiingoBars(
  settings: ProviderSettings['tiingo'],
  symbols: string[],
  start: (symbol: string) => string,
  adjusted: boolean,
  http: HttpOptions,
): BarPages {
  const headers = { authorization: `Token ${settings.token ?? ''}` }
  for (const symbol of symbols) {
    const q = new URLSearchParams({ startDate: start(symbol).slice(0, 10), format: 'json', resampleFreq: 'daily', token: settings.token ?? '' })
    const rows = (await getJson(`${settings.url}/tiingo/daily/${encodeURIComponent(symbol.toLowerCase())}/prices?${q}`, { ...http, headers })) as TiingoPrice[]
    if (!Array.isArray(rows)) continue
    yield rows.map((r) => ({
      symbol,
      ts: barTime(r.date, true),
      open: num(adjusted ? r.adjOpen : r.open),
      high: num(adjusted ? r.adjHigh : r.high),
      low: num(adjusted ? r.adjLow : r.low),
      close: num(adjusted ? r.adjClose : r.close),
      volume: num(adjusted ? r.adjVolume : r.volume),
    }))
  }
}
