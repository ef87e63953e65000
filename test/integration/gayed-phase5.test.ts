// Multi-symbol and Phase-5 end to end, with market-snapshots, indicators and strategy split over two
// daemons (partitions 0-7 and 8-15), as a scaled deployment runs them: a feed publishes seven
// symbols day by day and a NarrativeGap context; the Gayed strategy rotates SPY → TLT, a Phase-5
// strategy sizes with NG × Brier × DPI. The daemons' rows must equal the in-process backtest, the
// Brier numbers must follow the formula from the trades themselves, and snapshots keep their
// retention window.
import { jetstream } from '@nats-io/jetstream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forecastFromNg } from '../../actors/lib/phase5.js'
import { runBacktest, type BacktestContext } from '../../src/app/backtest.js'
import { parseConfig } from '../../src/config/env.js'
import { GAYED_CONFIG, GAYED_DAYS, GAYED_SYMBOLS, gayedSeries, SWITCH_DAY } from '../support/gayed-series.js'
import { startStack, type Stack } from '../support/stack.js'

const RETENTION_DAYS = 30
const config = {
  accounts: [...GAYED_CONFIG.accounts, { id: 'phase5', starting_cash: 50_000 }],
  strategies: [
    ...GAYED_CONFIG.strategies,
    {
      id: 'p5',
      account: 'phase5',
      symbols: ['SPY'],
      indicators: { dpi: { type: 'dpi', period: 10 } },
      entry: { long: { gt: ['dpi.value', -2] } }, // as soon as the DPI is warm
      exit: { max_bars: 3 },
      sizing: { fixed_qty: 100, phase5: true },
    },
  ],
  persistence: { snapshot_retention_days: RETENTION_DAYS },
}
const series = gayedSeries()
const contexts: BacktestContext[] = [
  { symbol: 'SPY', ts: series.SPY![0]!.ts, consensus_forecast: 104, distribution_estimate: 101 },
  { symbol: 'SPY', ts: series.SPY![30]!.ts, consensus_forecast: 120, distribution_estimate: 125 },
]

describe('Gayed and Phase-5 over a split deployment', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack(config)
    await stack.start(undefined, { PAPERD_PARTITIONS: '0-7' })
    await stack.start(['market-snapshots', 'indicators', 'strategy'], { PAPERD_PARTITIONS: '8-15' })
    const js = jetstream(stack.client)
    let c = 0
    for (let d = 0; d < GAYED_DAYS; d++) {
      for (; c < contexts.length && contexts[c]!.ts <= series.SPY![d]!.ts; c++) {
        const { symbol, ...body } = contexts[c]!
        await js.publish(`md.in.context.${symbol}`, JSON.stringify(body), { msgID: `ctx:${symbol}:${body.ts}` })
      }
      for (const symbol of GAYED_SYMBOLS) {
        const b = series[symbol]![d]!
        await js.publish(`md.in.bar.${symbol}`, JSON.stringify({ ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume }), {
          msgID: `in:${symbol}:1d:${b.ts}`,
        })
      }
    }
    await stack.quiesce(90_000)
  }, 150_000)
  afterAll(async () => stack?.close())

  it('split over two daemons, the Gayed strategy publishes one state per day, Risk-On then Risk-Off', async () => {
    const rows = await stack.sql`select ts, consensus, holding, signals from strategy_signals where strategy_id = 'gayed' order by ts`
    expect(rows).toHaveLength(GAYED_DAYS)
    expect(rows[SWITCH_DAY - 1]).toMatchObject({ consensus: 'Risk-On', holding: 'SPY' })
    expect(rows[GAYED_DAYS - 1]).toMatchObject({ consensus: 'Risk-Off', holding: 'TLT' })
    expect((rows[GAYED_DAYS - 1]!.signals as { signal: string }[]).map((s) => s.signal)).toEqual(Array(5).fill('Risk-Off'))
  })

  it('the daemons trade exactly as the backtest, for both accounts, Phase-5 factors included', async () => {
    const run = await runBacktest(
      parseConfig(config),
      GAYED_SYMBOLS.map((symbol) => ({ symbol, timeframe: '1d', bars: series[symbol]! })),
      { contexts },
    )
    const rows = await stack.sql`select trade_id, account, symbol, side, qty::float8 as qty, price::float8 as price, commission::float8 as commission, ts,
      ng_score::float8 as ng_score, ng_multiplier::float8 as ng_multiplier, brier_adjustment::float8 as brier_adjustment, dpi_enhancement::float8 as dpi_enhancement
      from trades order by trade_id`
    type Row = {
      trade_id: string
      account: string
      symbol: string
      side: string
      qty: number
      price: number
      commission: number
      ts: string
      ng_score: number | null
      ng_multiplier: number | null
      brier_adjustment: number | null
      dpi_enhancement: number | null
    }
    const daemon = rows.map((t) => ({ ...t, ts: (t.ts as Date).toISOString() }) as Row)
    const backtest = run.fills
      .map((f) => ({
        trade_id: f.id,
        account: f.account,
        symbol: f.symbol,
        side: f.side,
        qty: f.qty,
        price: f.price,
        commission: f.commission,
        ts: f.ts,
        ng_score: f.phase5?.ng_score ?? null,
        ng_multiplier: f.phase5?.ng_multiplier ?? null,
        brier_adjustment: f.phase5?.brier_adjustment ?? null,
        dpi_enhancement: f.phase5?.dpi_enhancement ?? null,
      }))
      .sort((a, b) => a.trade_id.localeCompare(b.trade_id))
    expect(daemon).toEqual(backtest)
    const gayed = daemon.filter((t) => t.account === 'gayed').sort((a, b) => a.ts.localeCompare(b.ts))
    expect(gayed.map((t) => [t.side, t.symbol])).toEqual([
      ['buy', 'SPY'],
      ['sell', 'SPY'],
      ['buy', 'TLT'],
    ])
    const entries = daemon.filter((t) => t.account === 'phase5' && t.side === 'buy')
    expect(entries.length).toBeGreaterThan(5)
    expect(entries.every((t) => t.ng_score !== null && t.ng_multiplier === Math.min(2, 1 + t.ng_score) && t.dpi_enhancement !== null)).toBe(true)
  })

  it('phase5_metrics: a row at each close whose Brier score is the formula over the trades’ own forecasts and outcomes', async () => {
    const closes = await stack.sql`select p.position_id, p.realized_pnl::float8 as pnl, p.closed_at, t.ng_score::float8 as ng
      from positions p join trades t on t.position_id = p.position_id and t.intent = 'entry'
      where p.account = 'phase5' and p.status = 'closed' order by p.closed_at`
    const rows =
      await stack.sql`select trigger, brier_score::float8 as brier, prediction_count, health_status, dpi_regime from phase5_metrics where account = 'phase5' and trigger = 'position_closed' order by ts, id`
    expect(rows).toHaveLength(closes.length)
    expect(closes.length).toBeGreaterThan(3)
    const squares = closes.map((c) => (forecastFromNg(c.ng as number) - ((c.pnl as number) > 0 ? 1 : 0)) ** 2)
    const last = rows[rows.length - 1]!
    expect(last.prediction_count).toBe(closes.length)
    expect(last.brier).toBeCloseTo(squares.reduce((a, b) => a + b, 0) / squares.length, 12)
    expect(last.health_status).toBe(last.brier > 0.4 ? 'critical' : last.brier > 0.28 ? 'warning' : 'healthy')
    expect(rows.every((r) => typeof r.dpi_regime === 'string')).toBe(true)
    const [daily] = await stack.sql<{ n: number }[]>`select count(*)::int as n from phase5_metrics where account = 'phase5' and trigger = 'daily'`
    expect(daily!.n).toBeGreaterThan(10)
  })

  it('snapshots keep only the retention window behind each series’ newest bar', async () => {
    const spans = await stack.sql`select symbol, count(*)::int as n, max(ts) - min(ts) as span from snapshot_market group by symbol`
    expect(spans).toHaveLength(7)
    for (const s of spans) expect(s.n).toBeLessThanOrEqual(RETENTION_DAYS + 2)
    const [ind] = await stack.sql<{ n: number }[]>`select count(*)::int as n from snapshot_indicators where symbol = 'SPY'`
    expect(ind!.n).toBeLessThanOrEqual(RETENTION_DAYS + 2)
  })
})
