// The providers' clients against local servers answering with their documented responses
// (test/fixtures/providers): what each request looks like, and the bars (or context) paperd makes of
// the answer. And the one HTTP helper: Retry-After honoured, 5xx asked again, credentials refused at
// once, secrets masked in what it reports.
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { alpacaBars } from '../../src/adapters/feeds/alpaca.js'
import type { FetchedBar } from '../../src/adapters/feeds/bars.js'
import { finnhubTargets } from '../../src/adapters/feeds/finnhub.js'
import { fredBars } from '../../src/adapters/feeds/fred.js'
import { getJson, ProviderError, retryAfterMs, shownUrl } from '../../src/adapters/feeds/http.js'
import { tiingoBars } from '../../src/adapters/feeds/tiingo.js'

const fixture = (name: string) => readFileSync(`test/fixtures/providers/${name}`, 'utf8')
const closers: (() => void)[] = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

async function server(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: IncomingMessage[] = []
  const s = createServer((req, res) => {
    seen.push(req)
    handle(req, res)
  })
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  closers.push(() => s.close())
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen }
}
const answer =
  (body: string, status = 200, headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(body)
  }
async function collect(pages: AsyncGenerator<FetchedBar[]>): Promise<FetchedBar[]> {
  const out: FetchedBar[] = []
  for await (const page of pages) out.push(...page)
  return out
}

describe('feed providers', () => {
  it('Alpaca: keys in headers, symbols as Alpaca writes them, daily bars on their New York date', async () => {
    const s = await server(answer(fixture('alpaca-bars.json')))
    const bars = await collect(
      alpacaBars(
        { keyId: 'K', secretKey: 'S', dataUrl: s.url },
        { symbols: ['AAPL', 'BRK-B'], timeframe: '1d', start: '2024-01-01', adjustment: 'raw', dataFeed: 'iex' },
        {},
      ),
    )
    const req = s.seen[0]!
    expect(req.headers['apca-api-key-id']).toBe('K')
    expect(req.headers['apca-api-secret-key']).toBe('S')
    const q = new URL(req.url!, 'http://x').searchParams
    expect(Object.fromEntries(q)).toMatchObject({ symbols: 'AAPL,BRK.B', timeframe: '1Day', start: '2024-01-01', feed: 'iex', adjustment: 'raw' })
    expect(bars).toEqual([
      { symbol: 'AAPL', ts: '2024-01-03T00:00:00.000Z', open: 184.22, high: 185.88, low: 183.43, close: 184.25, volume: 58414460 },
      { symbol: 'AAPL', ts: '2024-01-04T00:00:00.000Z', open: 182.15, high: 183.0872, low: 180.88, close: 181.91, volume: 71983570 },
      { symbol: 'BRK-B', ts: '2024-07-01T00:00:00.000Z', open: 406.6, high: 408.47, low: 403.21, close: 404.75, volume: 3185427 },
    ])
  })

  it('Alpaca minute bars: 1Min, and each bar keeps its instant', async () => {
    const s = await server(answer(JSON.stringify({ bars: { SPY: [{ t: '2026-12-04T14:30:00Z', o: 1, h: 2, l: 0.5, c: 1.5, v: 10 }] }, next_page_token: null })))
    const bars = await collect(
      alpacaBars({ keyId: 'K', secretKey: 'S', dataUrl: s.url }, { symbols: ['SPY'], timeframe: '1m', start: '2026-12-04T14:30:00Z', adjustment: 'raw' }, {}),
    )
    expect(new URL(s.seen[0]!.url!, 'http://x').searchParams.get('timeframe')).toBe('1Min')
    expect(bars).toEqual([{ symbol: 'SPY', ts: '2026-12-04T14:30:00.000Z', open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 }])
  })

  it('Tiingo: the token in the Authorization header, traded prices unless adjusted ones are asked for', async () => {
    const s = await server(answer(fixture('tiingo-prices.json')))
    const settings = { token: 'T', url: s.url }
    const traded = await collect(tiingoBars(settings, ['AAPL'], () => '2024-01-02', false, {}))
    const adjusted = await collect(tiingoBars(settings, ['AAPL'], () => '2024-01-02', true, {}))
    expect(s.seen[0]!.headers.authorization).toBe('Token T')
    expect(s.seen[0]!.url).toBe('/tiingo/daily/aapl/prices?startDate=2024-01-02&format=json&resampleFreq=daily&token=T')
    expect(traded[0]).toEqual({ symbol: 'AAPL', ts: '2024-01-03T00:00:00.000Z', open: 184.22, high: 185.88, low: 183.43, close: 184.25, volume: 58414460 })
    expect(adjusted[1]).toEqual({ symbol: 'AAPL', ts: '2024-01-04T00:00:00.000Z', open: 181.25, high: 182.18, low: 179.98, close: 181.01, volume: 71983570 })
  })

  it('FRED: a series as daily bars of its value under the symbol paperd gives it; missing days skipped', async () => {
    const s = await server(answer(fixture('fred-observations.json')))
    const bars = await collect(fredBars({ apiKey: 'F', url: s.url }, { VIX: 'VIXCLS' }, () => '2024-01-01', {}))
    expect(new URL(s.seen[0]!.url!, 'http://x').searchParams.get('series_id')).toBe('VIXCLS')
    expect(bars).toEqual([
      { symbol: 'VIX', ts: '2024-01-02T00:00:00.000Z', open: 13.2, high: 13.2, low: 13.2, close: 13.2, volume: 0 },
      { symbol: 'VIX', ts: '2024-01-03T00:00:00.000Z', open: 14.04, high: 14.04, low: 14.04, close: 14.04, volume: 0 },
    ])
  })

  it('Finnhub: the key in X-Finnhub-Token; mean and median targets', async () => {
    const s = await server(answer(fixture('finnhub-price-target.json')))
    const t = await finnhubTargets({ apiKey: 'H', url: s.url }, 'AAPL', {})
    expect(s.seen[0]!.headers['x-finnhub-token']).toBe('H')
    expect(t).toEqual({ symbol: 'AAPL', lastUpdated: '2024-01-03 00:00:00', mean: 201.85, median: 200, high: 250, low: 158 })
  })

  it('asks again after a 429 no sooner than Retry-After says, and after a 5xx', async () => {
    let n = 0
    const s = await server((req, res) => {
      n++
      if (n === 1) return answer('{"message":"too many requests."}', 429, { 'retry-after': '1' })(req, res)
      if (n === 2) return answer('oops', 503)(req, res)
      return answer('{"ok":true}')(req, res)
    })
    const waits: number[] = []
    const started = Date.now()
    const body = await getJson(`${s.url}/x`, { onRetry: (_why, ms) => waits.push(ms), attempts: 4 })
    expect(body).toEqual({ ok: true })
    expect(n).toBe(3)
    expect(waits[0]).toBeGreaterThanOrEqual(1000)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
  })

  it('gives up at once on refused credentials, and reports the URL with its key masked', async () => {
    const s = await server(answer('{"error":"Bad API key"}', 401))
    const err = await getJson(`${s.url}/fred/series/observations?series_id=X&api_key=SECRET123`, { attempts: 5 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProviderError)
    expect((err as ProviderError).transient).toBe(false)
    expect((err as Error).message).toContain('HTTP 401')
    expect((err as Error).message).not.toContain('SECRET123')
    expect(s.seen).toHaveLength(1)
    expect(shownUrl('https://x/y?token=abc&a=1&api_key=zz')).toBe('https://x/y?token=***&a=1&api_key=***')
  })

  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterMs('120')).toBe(120_000)
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:00 GMT', Date.parse('2026-10-21T07:27:30Z'))).toBe(30_000)
    expect(retryAfterMs(null)).toBeNull()
    expect(retryAfterMs('soon')).toBeNull()
  })
})
