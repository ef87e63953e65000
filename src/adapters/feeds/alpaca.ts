// Alpaca Market Data v2 stock bars: GET /v2/stocks/bars for several symbols at once, paged with
// next_page_token (each page sorted by symbol, then time), keys in the APCA-API-KEY-ID and
// APCA-API-SECRET-KEY headers. https://docs.alpaca.markets/reference/stockbars
import type { ProviderSettings } from '../../config/env.js'
import { barTime, num, type BarPages, type FetchedBar } from './bars.js'
import { getJson, type HttpOptions } from './http.js'

const TIMEFRAMES: Record<string, string> = { '1m': '1Min', '5m': '5Min', '15m': '15Min', '30m': '30Min', '1h': '1Hour', '1d': '1Day' }
const PAGE_LIMIT = 10_000

interface AlpacaBar {
  t?: unknown
  o?: unknown
  h?: unknown
  l?: unknown
  c?: unknown
  v?: unknown
}

interface AlpacaRequest {
  symbols: string[]
  timeframe: string
  /** First bar time wanted (inclusive), ISO-8601. */
  start: string
  adjustment: string
  dataFeed?: string
}

/** paperd writes BRK.B as BRK-B (a subject token); Alpaca as BRK.B. */
const toAlpaca = (symbol: string) => symbol.replace(/-/g, '.')

export async function* alpacaBars(settings: ProviderSettings['alpaca'], req: AlpacaRequest, http: HttpOptions): BarPages {
  const headers = { 'APCA-API-KEY-ID': settings.keyId ?? '', 'APCA-API-SECRET-KEY': settings.secretKey ?? '' }
  const names = new Map(req.symbols.map((s) => [toAlpaca(s), s]))
  const daily = req.timeframe === '1d'
  let pageToken: string | null = null
  do {
    const q = new URLSearchParams({
      symbols: [...names.keys()].join(','),
      timeframe: TIMEFRAMES[req.timeframe]!,
      start: req.start,
      limit: String(PAGE_LIMIT),
      adjustment: req.adjustment,
      sort: 'asc',
    })
    if (req.dataFeed) q.set('feed', req.dataFeed)
    if (pageToken) q.set('page_token', pageToken)
    const body = (await getJson(`${settings.dataUrl}/v2/stocks/bars?${q}`, { ...http, headers })) as {
      bars?: Record<string, AlpacaBar[]> | null
      next_page_token?: string | null
    }
    const page: FetchedBar[] = []
    for (const [name, bars] of Object.entries(body.bars ?? {})) {
      const symbol = names.get(name)
      if (!symbol || !Array.isArray(bars)) continue
      for (const b of bars) page.push({ symbol, ts: barTime(b.t, daily), open: num(b.o), high: num(b.h), low: num(b.l), close: num(b.c), volume: num(b.v) })
    }
    yield page
    pageToken = body.next_page_token ?? null
  } while (pageToken)
}
