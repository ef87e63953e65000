// Local stand-ins for market-data providers, speaking their documented HTTP APIs (paths, parameters,
// credential headers, paging, error answers) over the bars of a CSV, in the shapes their recorded
// answers in test/fixtures/providers have. Each records the requests it saw.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CsvBar } from '../../src/core/csv.js'

export interface StandIn {
  url: string
  requests: { path: string; query: Record<string, string>; headers: IncomingMessage['headers'] }[]
  close(): Promise<void>
}

async function serve(handle: (req: IncomingMessage, url: URL, res: ServerResponse) => void): Promise<StandIn & { server: Server }> {
  const requests: StandIn['requests'] = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in')
    requests.push({ path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers })
    handle(req, url, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

/** A daily bar's time as Alpaca writes it: midnight in New York, in UTC (04:00Z in summer, 05:00Z in winter). */
function newYorkMidnight(date: string): string {
  const offset = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', timeZoneName: 'shortOffset' })
    .formatToParts(Date.parse(`${date}T12:00:00Z`))
    .find((p) => p.type === 'timeZoneName')!.value // GMT-4 / GMT-5
  return `${date}T0${-Number(offset.slice(3))}:00:00Z`
}

/**
 * Alpaca Market Data v2: GET /v2/stocks/bars (symbols, timeframe=1Day, start, limit, page_token),
 * keys in APCA-API-KEY-ID / APCA-API-SECRET-KEY (401 otherwise), pages of `pageSize` bars with
 * next_page_token, and — once — a 429 with Retry-After on the request for the second page.
 */
export async function alpacaStandIn(data: Record<string, CsvBar[]>, o: { keyId: string; secret: string; pageSize: number }): Promise<StandIn> {
  let throttled = false
  return serve((req, url, res) => {
    if (url.pathname !== '/v2/stocks/bars') return json(res, 404, { message: 'Not Found' })
    if (req.headers['apca-api-key-id'] !== o.keyId || req.headers['apca-api-secret-key'] !== o.secret) return json(res, 401, { message: 'unauthorized.' })
    const q = url.searchParams
    if (q.get('timeframe') !== '1Day') return json(res, 422, { message: 'this stand-in serves 1Day bars' })
    const token = q.get('page_token')
    if (token && !throttled) {
      throttled = true
      return json(res, 429, { message: 'too many requests.' }, { 'retry-after': '1' })
    }
    const start = q.get('start') ?? '1970-01-01'
    const limit = Math.min(Number(q.get('limit') ?? 1000), o.pageSize)
    // Every bar of the asked symbols from `start`, by symbol then time; the token is the offset.
    const all = (q.get('symbols') ?? '')
      .split(',')
      .sort()
      .flatMap((symbol) => (data[symbol] ?? []).filter((b) => b.ts.slice(0, 10) >= start.slice(0, 10)).map((b) => ({ symbol, b })))
    const offset = token ? Number(Buffer.from(token, 'base64').toString()) : 0
    const page = all.slice(offset, offset + limit)
    const bars: Record<string, unknown[]> = {}
    for (const { symbol, b } of page)
      (bars[symbol] ??= []).push({ t: newYorkMidnight(b.ts.slice(0, 10)), o: b.open, h: b.high, l: b.low, c: b.close, v: b.volume, n: 1000, vw: b.close })
    const next = offset + limit < all.length ? Buffer.from(String(offset + limit)).toString('base64') : null
    json(res, 200, { bars, next_page_token: next })
  })
}

/** Tiingo end-of-day: GET /tiingo/daily/<ticker>/prices?startDate=…, `Authorization: Token …` (401 otherwise), 404 for an unknown ticker. */
export async function tiingoStandIn(data: Record<string, CsvBar[]>, token: string): Promise<StandIn> {
  return serve((req, url, res) => {
    if (req.headers.authorization !== `Token ${token}`) return json(res, 401, { detail: 'Invalid token.' })
    const m = /^\/tiingo\/daily\/([^/]+)\/prices$/.exec(url.pathname)
    const bars = m ? data[decodeURIComponent(m[1]!).toUpperCase()] : undefined
    if (!bars) return json(res, 404, { detail: `Error: Ticker '${m?.[1] ?? ''}' not found` })
    const start = url.searchParams.get('startDate') ?? '1900-01-01'
    json(
      res,
      200,
      bars
        .filter((b) => b.ts.slice(0, 10) >= start)
        .map((b) => ({
          date: `${b.ts.slice(0, 10)}T00:00:00.000Z`,
          close: b.close,
          high: b.high,
          low: b.low,
          open: b.open,
          volume: b.volume,
          adjClose: b.close,
          adjHigh: b.high,
          adjLow: b.low,
          adjOpen: b.open,
          adjVolume: b.volume,
          divCash: 0,
          splitFactor: 1,
        })),
    )
  })
}

/** FRED: GET /fred/series/observations?series_id=…&api_key=…&file_type=json, paged by offset in pages of `pageSize`. */
export async function fredStandIn(series: Record<string, { date: string; value: string }[]>, apiKey: string, pageSize: number): Promise<StandIn> {
  return serve((_req, url, res) => {
    const q = url.searchParams
    if (url.pathname !== '/fred/series/observations') return json(res, 404, { error_code: 404, error_message: 'Not Found' })
    if (q.get('api_key') !== apiKey)
      return json(res, 400, { error_code: 400, error_message: 'Bad Request.  The value for variable api_key is not registered.' })
    if (q.get('file_type') !== 'json') return json(res, 400, { error_code: 400, error_message: 'this stand-in answers JSON only' })
    const all = (series[q.get('series_id') ?? ''] ?? []).filter((o) => o.date >= (q.get('observation_start') ?? '1776-07-04'))
    const offset = Number(q.get('offset') ?? 0)
    const limit = Math.min(Number(q.get('limit') ?? 100_000), pageSize)
    json(res, 200, {
      observation_start: q.get('observation_start'),
      sort_order: 'asc',
      count: all.length,
      offset,
      limit,
      observations: all.slice(offset, offset + limit).map((o) => ({ realtime_start: '2026-12-04', realtime_end: '2026-12-04', ...o })),
    })
  })
}

/** Finnhub: GET /api/v1/stock/price-target?symbol=…, `X-Finnhub-Token` (401 otherwise). */
export async function finnhubStandIn(targets: Record<string, { mean: number; median: number; high: number; low: number }>, apiKey: string): Promise<StandIn> {
  return serve((req, url, res) => {
    if (req.headers['x-finnhub-token'] !== apiKey) return json(res, 401, { error: 'Invalid API key' })
    if (url.pathname !== '/api/v1/stock/price-target') return json(res, 404, { error: 'Not Found' })
    const symbol = url.searchParams.get('symbol') ?? ''
    const t = targets[symbol]
    if (!t) return json(res, 200, { lastUpdated: '', symbol, targetHigh: 0, targetLow: 0, targetMean: 0, targetMedian: 0 })
    json(res, 200, { lastUpdated: '2026-11-30 00:00:00', symbol, targetHigh: t.high, targetLow: t.low, targetMean: t.mean, targetMedian: t.median })
  })
}
