// The Gayed consensus as a strategy (SPEC §5.2): on crafted series where every signal is known to
// say Risk-On and then Risk-Off, it holds SPY, then rotates into the defensive symbol; it publishes
// its state every complete day; and exactly one process runs it however the strategy actor is split.
import { describe, expect, it } from 'vitest'
import { strategy } from '../../actors/strategy.js'
import { runBacktest, type BacktestRun } from '../../src/app/backtest.js'
import { parseConfig } from '../../src/config/env.js'
import { partitionOf } from '../../src/core/partition.js'
import { GAYED_CONFIG, GAYED_DAYS, GAYED_SYMBOLS, gayedSeries, SWITCH_DAY } from '../support/gayed-series.js'
import { ownerOf } from '../../src/runtime/placement.js'
import type { Inbound, Outbound } from '../../src/core/actor.js'
import { message } from '../support/messages.js'

const config = parseConfig(GAYED_CONFIG)
const series = gayedSeries()
const inputs = GAYED_SYMBOLS.map((symbol) => ({ symbol, timeframe: '1d', bars: series[symbol]! }))
const day = (d: number) => new Date(Date.UTC(2024, 0, 1) + d * 86_400_000).toISOString()

describe('Gayed consensus strategy on crafted series', async () => {
  const run = await runBacktest(config, inputs)

  it('publishes one state per complete day, with every signal once warmed up', () => {
    expect(run.signals).toHaveLength(GAYED_DAYS)
    expect(run.signals.map((s) => s.ts)).toEqual(series.SPY!.map((b) => b.ts))
    const warm = run.signals[SWITCH_DAY - 1]!
    expect(warm.signals.map((s) => s.name)).toEqual(['utilities_spy', 'lumber_gold', 'treasury_curve', 'vix_defensive', 'sp500_ma'])
    expect(warm.id).toBe(`signal:gayed:${day(SWITCH_DAY - 1).slice(0, 10)}`)
  })

  it('every signal says Risk-On before the switch and Risk-Off well after it; the consensus follows', () => {
    const before = run.signals[SWITCH_DAY - 1]!
    expect(before.signals.every((s) => s.signal === 'Risk-On')).toBe(true)
    expect(before.consensus).toBe('Risk-On')
    expect(before.holding).toBe('SPY')
    const after = run.signals[GAYED_DAYS - 1]!
    expect(after.signals.every((s) => s.signal === 'Risk-Off')).toBe(true)
    expect(after.consensus).toBe('Risk-Off')
    expect(after.holding).toBe('TLT')
    // With all five agreeing, weights are Σ confidence × strength ÷ 5 on one side only.
    expect(after.risk_on_weight).toBe(0)
    expect(after.risk_off_weight).toBeGreaterThan(0.1)
  })

  it('holds SPY in Risk-On and rotates into the defensive symbol in Risk-Off: sell SPY, buy TLT on the same day', () => {
    const fills = run.fills.map((f) => [f.ts.slice(0, 10), f.side, f.symbol, f.intent])
    expect(fills[0]).toEqual([day(1).slice(0, 10), 'buy', 'SPY', 'entry'])
    const rotation = fills.slice(1)
    expect(rotation).toHaveLength(2)
    expect(rotation[0]![0]).toBe(rotation[1]![0])
    expect(rotation.map((f) => f.slice(1))).toEqual([
      ['sell', 'SPY', 'exit'],
      ['buy', 'TLT', 'entry'],
    ])
    expect(String(rotation[0]![0]) > day(SWITCH_DAY).slice(0, 10)).toBe(true)
    // pct_equity 0.95 of 100 000 at the first day's close of 101 → floor(940.59) = 940 shares.
    expect(run.fills[0]!.qty).toBe(940)
    expect(run.orderStatuses).toEqual([]) // TLT's bar comes first each day: its buy waited for SPY's sale
  })

  /** Feeds the Gayed scope `bars` (each symbol's own in time order), then each idea's verdict and fill in the order the ideas were made. */
  function replayScope(bars: { symbol: string; d: number }[]) {
    const def = strategy(config.strategies, config.accounts)
    const scope = def.scopes.find((s) => s.key === 'gayed-gayed')!
    let state = def.init(scope)
    const statusOf = new Map(run.statuses.map((st) => [st.idea_id, st]))
    const fillOf = new Map(run.fills.map((f) => [f.idea_id, f]))
    const signals: unknown[] = []
    const ideas: string[] = []
    let seq = 0
    const feed = (type: Outbound['type'], data: Outbound['data']) => {
      const step = def.handle(state, { type, data, subject: '', params: {}, seq: ++seq, msgId: data.id } as Inbound, scope, [])
      state = step.state
      for (const e of step.emit ?? []) {
        if (e.type === 'strategy.signal') signals.push(e.data)
        if (e.type === 'trade.idea') ideas.push(e.data.id)
      }
    }
    for (const { symbol, d } of bars) {
      const b = series[symbol]![d]!
      const id = `bar:${symbol}:1d:${b.ts}`
      feed('md.bar', message('md.bar', { id, correlation_id: id, symbol, ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume }))
    }
    const beforeAnswers = signals.length
    // Each idea's verdict and fill, in the order the ideas were made (an answer may bring new ideas).
    for (let i = 0; i < ideas.length; i++) {
      feed('trade.idea_status', statusOf.get(ideas[i]!)!)
      const fill = fillOf.get(ideas[i]!)
      if (fill) feed('trade.fill', fill)
    }
    return { beforeAnswers, signals, ideas }
  }
  const dayByDay = [...Array(GAYED_DAYS).keys()].flatMap((d) => GAYED_SYMBOLS.map((symbol) => ({ symbol, d })))

  it('acts on every day as the backtest does however late the account answers: all the bars first, the news of each idea only then', () => {
    // An executor far behind the bars (a loaded machine, a restart): every day after the first idea
    // waits for its fill.
    const { beforeAnswers, signals, ideas } = replayScope(dayByDay)
    expect(beforeAnswers).toBeLessThan(GAYED_DAYS - 40)
    expect(ideas).toEqual(run.statuses.map((st) => st.idea_id))
    expect(signals).toEqual(run.signals)
  })

  it('acts on every day as the backtest does however far some symbols run ahead of the others (one partition slower than another)', () => {
    // The symbols of even partitions have published every day before the odd ones start (their
    // scopes are rebuilt later, or owned by a slower process): the days wait for their last symbol,
    // however many.
    const ahead = GAYED_SYMBOLS.filter((sym) => partitionOf(sym) % 2 === 0)
    expect(ahead.length).toBeGreaterThan(0)
    expect(ahead.length).toBeLessThan(GAYED_SYMBOLS.length)
    const first = dayByDay.filter((b) => ahead.includes(b.symbol))
    const { beforeAnswers, signals, ideas } = replayScope([...first, ...dayByDay.filter((b) => !ahead.includes(b.symbol))])
    expect(beforeAnswers).toBeGreaterThan(0)
    expect(ideas).toEqual(run.statuses.map((st) => st.idea_id))
    expect(signals).toEqual(run.signals)
  })

  it('is deterministic: a second run publishes byte-identical states and fills', async () => {
    const again = await runBacktest(config, inputs)
    expect(JSON.stringify(again.signals)).toBe(JSON.stringify(run.signals))
    expect(JSON.stringify(again.fills)).toBe(JSON.stringify(run.fills))
  })
})

/** What the account holds of the strategy at the close of each day its state was published on. */
function positionsAt(run: Pick<BacktestRun, 'signals' | 'fills'>): (string | null)[] {
  return run.signals.map((sig) => {
    const held = new Map<string, number>()
    for (const f of run.fills) if (f.ts <= sig.ts) held.set(f.symbol, (held.get(f.symbol) ?? 0) + (f.side === 'buy' ? f.qty : -f.qty))
    return (
      [...held]
        .filter(([, q]) => q > 0)
        .map(([s]) => s)
        .sort()[0] ?? null
    )
  })
}

describe('a Gayed rotation after a loss, and one the executor refuses', () => {
  it('after SPY has fallen below its cost, the rotation into TLT is sized on what SPY is worth: nothing refused, and the published holding is the account’s position every day', async () => {
    // SPY barely rises in Risk-On, then opens the Risk-Off phase 10 % lower: held at a loss when the consensus turns.
    const lossy = gayedSeries({ SPY: { on: 1.0008, off: 0.99 } }, { SPY: { [SWITCH_DAY]: 0.9 } })
    const run = await runBacktest(
      config,
      GAYED_SYMBOLS.map((symbol) => ({ symbol, timeframe: '1d', bars: lossy[symbol]! })),
    )
    const spyBuy = run.fills.find((f) => f.symbol === 'SPY' && f.side === 'buy')!
    const spySale = run.fills.find((f) => f.symbol === 'SPY' && f.side === 'sell')!
    expect(spySale.price).toBeLessThan(spyBuy.price * 0.95) // sold at a loss of more than 5 %
    expect(run.orderStatuses).toEqual([])
    expect(run.fills.filter((f) => f.symbol === 'TLT' && f.side === 'buy')).toHaveLength(1)
    expect(run.signals.map((s) => s.holding)).toEqual(positionsAt(run))
  })

  it('a TLT buy the executor refuses (TLT gaps up at the open) is not believed: the state says cash, and the next day buys TLT', async () => {
    const base = await runBacktest(config, inputs)
    const sale = base.fills.find((f) => f.symbol === 'SPY' && f.side === 'sell')!
    const day = Math.round((Date.parse(sale.ts) - Date.UTC(2024, 0, 1)) / 86_400_000)
    // TLT opens 20 % above the day before's close on the rotation's fill day: the buy cannot be paid for.
    const gapped = gayedSeries({}, { TLT: { [day]: 1.2 } })
    const run = await runBacktest(
      config,
      GAYED_SYMBOLS.map((symbol) => ({ symbol, timeframe: '1d', bars: gapped[symbol]! })),
    )
    expect(run.orderStatuses.map((o) => [o.symbol, o.reason])).toEqual([['TLT', 'insufficient_cash']])
    const buys = run.fills.filter((f) => f.symbol === 'TLT' && f.side === 'buy')
    expect(buys).toHaveLength(1)
    expect(buys[0]!.ts > sale.ts).toBe(true) // bought again, a day later
    const holdings = run.signals.map((s) => s.holding)
    expect(holdings).toEqual(positionsAt(run))
    expect(holdings).toContain(null) // a day in cash between the refused buy and the next one
    expect(holdings.at(-1)).toBe('TLT')
  })
})

describe('who runs a Gayed strategy when the strategy actor is split over processes', () => {
  it('its scope is tied to the partition its key hashes to: with instances restricted to halves (--partitions), the half that holds it runs it', () => {
    const gayed = strategy(config.strategies, config.accounts, 16).scopes.find((s) => s.key === 'gayed-gayed')!
    expect(gayed.partition).toBe(partitionOf('gayed-gayed', 16))
    const low = { instance: 'low', partitions: [...Array(8).keys()] }
    const high = { instance: 'high', partitions: [...Array(8).keys()].map((p) => p + 8) }
    expect(ownerOf('strategy', gayed, [low, high])).toBe(gayed.partition! < 8 ? 'low' : 'high')
    expect(gayed).toMatchObject({
      inputs: [
        { stream: 'MD', filter: 'md.bar.*.*', accepts: ['md.bar'] },
        { stream: 'TRADE', filter: 'trade.*.gayed', accepts: ['trade.idea_status', 'trade.fill', 'trade.order_status'] },
      ],
    })
  })
})
