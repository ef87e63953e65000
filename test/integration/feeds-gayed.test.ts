// The Gayed rotation on real-provider inputs, end to end: six ETFs from a Tiingo feed and the VIX
// from a FRED feed (series VIXCLS, paged), each against a stand-in speaking its API, while a Finnhub
// feed publishes NarrativeGap context. paperd fetches everything by itself — each feed a whole
// history at a time, in whatever order — and trades exactly what the in-process backtest makes of
// the same bars. The context goes out once per trading day, and a restart publishes it no second time.
import { jetstreamManager } from '@nats-io/jetstream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBacktest } from '../../src/app/backtest.js'
import { parseConfig } from '../../src/config/env.js'
import { localDate } from '../../src/core/market-calendar.js'
import { finnhubStandIn, fredStandIn, type StandIn, tiingoStandIn } from '../support/provider-stand-ins.js'
import { GAYED_CONFIG, GAYED_DAYS, GAYED_SYMBOLS, gayedSeries } from '../support/gayed-series.js'
import { startStack, type Stack } from '../support/stack.js'

const ETFS = GAYED_SYMBOLS.filter((s) => s !== 'VIX')
const series = gayedSeries()
// FRED publishes one value a day: the VIX as a bar whose four prices are that value, volume 0.
series.VIX = series.VIX!.map((b) => ({ ts: b.ts, open: b.close, high: b.close, low: b.close, close: b.close, volume: 0 }))
const config = {
  ...GAYED_CONFIG,
  feeds: [
    { provider: 'tiingo', symbols: ETFS, start: '2024-01-01' },
    { provider: 'fred', id: 'rates', series: { VIX: 'VIXCLS' }, start: '2024-01-01' },
    { provider: 'finnhub', symbols: ['SPY', 'TLT', 'GLD'] },
  ],
}
const TARGETS = { SPY: { mean: 610.5, median: 600, high: 700, low: 480 }, TLT: { mean: 95.2, median: 96, high: 110, low: 80 } }

describe('the Gayed strategy on feeds', () => {
  let stack: Stack
  let tiingo: StandIn
  let fred: StandIn
  let finnhub: StandIn
  const env = () => ({
    TIINGO_API_TOKEN: 'tiingo-token',
    TIINGO_API_URL: tiingo.url,
    FRED_API_KEY: 'fredkey0123456789',
    FRED_API_URL: fred.url,
    FINNHUB_API_KEY: 'finnhub-key',
    FINNHUB_API_URL: finnhub.url,
  })
  const stored = async (filter: string) => {
    const info = await (await jetstreamManager(stack.client)).streams.info('MD_IN', { subjects_filter: filter })
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0)
  }
  beforeAll(async () => {
    tiingo = await tiingoStandIn(Object.fromEntries(ETFS.map((s) => [s, series[s]!])), 'tiingo-token')
    fred = await fredStandIn({ VIXCLS: series.VIX!.map((b) => ({ date: b.ts.slice(0, 10), value: b.close.toFixed(2) })) }, 'fredkey0123456789', 30)
    finnhub = await finnhubStandIn(TARGETS, 'finnhub-key')
    stack = await startStack(config)
    await stack.start(undefined, env())
    const deadline = Date.now() + 60_000
    while ((await stored('md.in.bar.>')) < GAYED_DAYS * GAYED_SYMBOLS.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    await stack.quiesce(90_000)
  }, 150_000)
  afterAll(async () => {
    await stack?.close()
    await Promise.all([tiingo?.close(), fred?.close(), finnhub?.close()])
  })

  it('fetches every series by itself: FRED paged by offset, each ETF from Tiingo', async () => {
    expect(await stored('md.in.bar.>')).toBe(GAYED_DAYS * GAYED_SYMBOLS.length)
    expect(fred.requests.map((r) => r.query.offset)).toEqual(['0', '30', '60'])
    expect(tiingo.requests.map((r) => r.path).sort()).toEqual(ETFS.map((s) => `/tiingo/daily/${s.toLowerCase()}/prices`).sort())
  })

  it('trades exactly as the backtest of the same bars', async () => {
    const run = await runBacktest(
      parseConfig(config),
      GAYED_SYMBOLS.map((symbol) => ({ symbol, timeframe: '1d', bars: series[symbol]! })),
    )
    const rows = await stack.sql`select trade_id, symbol, side, qty::float8 as qty, price::float8 as price, ts from trades order by trade_id`
    const daemon = rows.map((t) => ({ id: t.trade_id, symbol: t.symbol, side: t.side, qty: t.qty, price: t.price, ts: (t.ts as Date).toISOString() }))
    const backtest = run.fills
      .map((f) => ({ id: f.id, symbol: f.symbol, side: f.side, qty: f.qty, price: f.price, ts: f.ts }))
      .sort((a, b) => a.id.localeCompare(b.id))
    expect(backtest.map((f) => [f.side, f.symbol])).toEqual([
      ['buy', 'SPY'],
      ['sell', 'SPY'],
      ['buy', 'TLT'],
    ])
    expect(daemon).toEqual(backtest)
  })

  it('publishes the analysts’ mean and median targets as context once a trading day, and nothing for a symbol without targets', async () => {
    const jsm = await jetstreamManager(stack.client)
    const day = localDate(Date.now())
    const spy = await jsm.streams.getMessage('MD_IN', { last_by_subj: 'md.in.context.SPY' })
    expect(spy!.json()).toEqual({ ts: day, consensus_forecast: 610.5, distribution_estimate: 600 })
    expect(spy!.header?.get('Nats-Msg-Id')).toBe(`ctx:SPY:${day}`)
    expect(await stored('md.in.context.>')).toBe(2) // SPY and TLT; GLD has no targets
    const asked = finnhub.requests.length
    expect(asked).toBe(3)
    await stack.stopDaemon()
    await stack.start(undefined, env())
    await new Promise((r) => setTimeout(r, 500))
    expect(finnhub.requests.length).toBe(asked) // already read today
    expect(await stored('md.in.context.>')).toBe(2)
    const [dead] = await stack.sql<{ n: number }[]>`select count(*)::int as n from dead_letters`
    expect(dead!.n).toBe(0)
  })
})
