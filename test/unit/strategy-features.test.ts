// The parts of the strategy language a reference broker run does not single out: session windows in
// a time zone, forbidden conditions, the protective exit an idea carries to the bar that fires it,
// reversals as two ideas, NarrativeGap from md.in.context, and the Phase-5 sizing and Brier tracker
// of the risk gate, with hand-computed numbers.
import { describe, expect, it } from 'vitest'
import { handleContext, handleInjectedBar, type SnapshotsState } from '../../actors/market-snapshots.js'
import { sizeOf } from '../../actors/risk-gate/sizing.js'
import { newRiskState } from '../../actors/risk-gate/state.js'
import { sessionTest } from '../../actors/lib/sessions.js'
import { handleIndicators, watchers, type StrategyState } from '../../actors/strategy.js'
import type { Inbound } from '../../src/core/actor.js'
import { createCodec } from '../../src/runtime/codec.js'
import { parseConfig } from '../../src/config/env.js'
import type { Message } from '../../src/core/contracts.js'
import { inbound, injected, ofType, playSync } from '../support/actor-spec.js'
import { TestMarket } from '../support/gate-market.js'
import { message } from '../support/messages.js'

const codec = createCodec(16)
type Ind = Message<'md.ind'>
type Idea = Message<'trade.idea'>

const day = (d: number, hour = 0) => new Date(Date.UTC(2024, 0, d, hour)).toISOString()

function strategyOf(extra: Record<string, unknown>, account: Record<string, unknown> = {}) {
  const config = parseConfig({
    accounts: [{ id: 'main', starting_cash: 10_000, ...account }],
    strategies: [
      {
        id: 's',
        account: 'main',
        symbols: ['ORCL'],
        indicators: { fast: { type: 'sma', period: 2 } },
        entry: { long: { gt: ['close', 100] } },
        sizing: { fixed_qty: 10 },
        ...extra,
      },
    ],
  })
  const index = watchers(config.strategies, config.accounts)
  return (history: Ind[]) => {
    let seq = 0
    const played = playSync(
      (s: StrategyState, i: Inbound) => handleIndicators(s, i as Inbound<'md.ind'>, index),
      { books: {} },
      history.map((i) => inbound('md.ind', i, { seq: ++seq })),
    )
    for (const out of played.emit) codec.check(out.type, out.data)
    return ofType(played.emit, 'trade.idea')
  }
}

/** md.ind of ORCL on day d (or at `ts`), with OHLC and values. */
function ind(
  d: number,
  ohlc: { open?: number; high?: number; low?: number; close: number },
  opts: { ts?: string; values?: Record<string, number>; context?: Ind['context'] } = {},
): Ind {
  const ts = opts.ts ?? day(d)
  const barId = `bar:ORCL:1d:${ts}`
  const open = ohlc.open ?? ohlc.close
  return message('md.ind', {
    id: `ind:ORCL:1d:${ts}`,
    ts,
    causation_id: barId,
    correlation_id: barId,
    bar_id: barId,
    bar_seq: d * 2,
    bar: { open, high: ohlc.high ?? Math.max(open, ohlc.close), low: ohlc.low ?? Math.min(open, ohlc.close), close: ohlc.close, volume: 1000 },
    values: opts.values ?? {},
    ...(opts.context ? { context: opts.context } : {}),
  })
}

const brief = (ideas: Idea[]) => ideas.map((i) => [i.ts.slice(0, 10), i.intent, i.position_side, i.order_type, i.exit_reason])

describe('session windows', () => {
  const nyMorning = sessionTest([{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], start: '09:30', end: '16:00', tz: 'America/New_York' }])
  it.each([
    ['Tuesday 09:30 New York (14:30Z in winter)', '2024-01-02T14:30:00.000Z', true],
    ['Tuesday 15:59 New York', '2024-01-02T20:59:00.000Z', true],
    ['Tuesday 16:00 New York: the end is exclusive', '2024-01-02T21:00:00.000Z', false],
    ['Tuesday 09:29 New York', '2024-01-02T14:29:00.000Z', false],
    ['Saturday 10:00 New York', '2024-01-06T15:00:00.000Z', false],
    ['summer time: Monday 09:30 New York is 13:30Z', '2024-07-01T13:30:00.000Z', true],
    ['summer time: 14:30Z is 10:30 New York', '2024-07-01T14:30:00.000Z', true],
    ['summer time: 20:00Z is 16:00 New York', '2024-07-01T20:00:00.000Z', false],
  ])('%s → %s', (_, ts, want) => expect(nyMorning(ts)).toBe(want))

  it('an overnight window wraps midnight; days alone allow the whole day; no windows allow everything', () => {
    const night = sessionTest([{ start: '22:00', end: '02:00', tz: 'UTC' }])
    expect([
      night('2024-01-02T23:00:00.000Z'),
      night('2024-01-02T01:59:00.000Z'),
      night('2024-01-02T02:00:00.000Z'),
      night('2024-01-02T12:00:00.000Z'),
    ]).toEqual([true, true, false, false])
    const weekdays = sessionTest([{ days: ['mon', 'fri'], tz: 'UTC' }])
    expect([weekdays('2024-01-01T00:00:00.000Z'), weekdays('2024-01-02T00:00:00.000Z'), weekdays('2024-01-05T23:59:00.000Z')]).toEqual([true, false, true])
    expect(sessionTest(undefined)('2024-01-06T00:00:00.000Z')).toBe(true)
  })

  it('entries only inside a window; exits at any time', () => {
    const run = strategyOf({ session_windows: [{ start: '14:00', end: '16:00' }], exit: { long: { lt: ['close', 100] } } })
    const ideas = run([
      ind(2, { close: 101 }, { ts: day(2, 10) }), // outside: no entry
      ind(2, { close: 101 }, { ts: day(2, 14) }), // inside: entry
      ind(2, { close: 99 }, { ts: day(2, 20) }), // outside, but an exit
    ])
    expect(ideas.map((i) => [i.ts, i.intent])).toEqual([
      [day(2, 14), 'entry'],
      [day(2, 20), 'exit'],
    ])
  })
})

describe('forbidden conditions', () => {
  it('no entry while any holds; the next bar where none holds enters', () => {
    const run = strategyOf({ forbidden: [{ gt: ['volume', 5000] }, { gt: ['close', 'fast'] }] })
    // close > 100 on every bar; fast = sma(2): close > fast while rising
    const ideas = run([
      ind(1, { close: 101 }, { values: { fast: 100 } }),
      ind(2, { close: 102 }, { values: { fast: 101.5 } }),
      ind(3, { close: 102 }, { values: { fast: 102 } }),
    ])
    expect(brief(ideas)).toEqual([['2024-01-03', 'entry', 'long', 'market', null]])
  })
})

describe('protective exits ride to the bar that fires them', () => {
  it('a 5% stop: entry signal day 1, fill day 2 at the open (100), the bar that trades through 95 exits with a stop order on that bar', () => {
    const run = strategyOf({ exit: { stop_loss: { pct: 0.05 } } })
    const ideas = run([ind(1, { close: 101 }), ind(2, { open: 100, low: 96, close: 98 }), ind(3, { open: 97, low: 94.9, close: 95.5 })])
    expect(brief(ideas)).toEqual([
      ['2024-01-01', 'entry', 'long', 'market', null],
      ['2024-01-03', 'exit', 'long', 'stop', 'stop_loss'],
    ])
    expect(ideas[1]!.bar_seq).toBe(6) // day 3's bar: a protective exit fills on its own bar
    expect(ideas[0]!.bracket).toEqual({ stop_loss: { kind: 'pct', value: 0.05 }, take_profit: null, max_bars: null })
  })

  it('the fill bar itself never fires the bracket, even when it trades through the stop', () => {
    const run = strategyOf({ exit: { stop_loss: { pct: 0.05 } } })
    expect(brief(run([ind(1, { close: 101 }), ind(2, { open: 100, low: 80, close: 98 })])).map((i) => i[1])).toEqual(['entry'])
  })

  it('a bar touching both the stop and the target takes the stop; the slippage of the account moves the levels with the fill', () => {
    const run = strategyOf({ exit: { stop_loss: { pct: 0.05 }, take_profit: { pct: 0.05 } } }, { costs: { slippage_bps: 100 } })
    // fill = 100 × 1.01 = 101: stop 95.95, target 106.05
    expect(brief(run([ind(1, { close: 101 }), ind(2, { open: 100, close: 100 }), ind(3, { open: 100, high: 106.1, low: 95.9, close: 100 })])).at(-1)).toEqual([
      '2024-01-03',
      'exit',
      'long',
      'stop',
      'stop_loss',
    ])
    expect(brief(run([ind(1, { close: 101 }), ind(2, { open: 100, close: 100 }), ind(3, { open: 100, high: 106.1, low: 95.96, close: 100 })])).at(-1)).toEqual([
      '2024-01-03',
      'exit',
      'long',
      'limit',
      'take_profit',
    ])
  })

  it('an ATR stop is fixed as a distance on the signal bar; no ATR yet, no entry', () => {
    const run = strategyOf({
      indicators: { fast: { type: 'sma', period: 2 }, atr: { type: 'atr', period: 3 } },
      exit: { stop_loss: { atr: 2, indicator: 'atr' } },
      sizing: { risk_pct: 0.01 },
    })
    const ideas = run([ind(1, { close: 101 }), ind(2, { close: 101 }, { values: { atr: 1.5 } })])
    expect(ideas.map((i) => [i.ts.slice(0, 10), i.bracket?.stop_loss, i.stop_distance, i.qty, i.sizing])).toEqual([
      ['2024-01-02', { kind: 'distance', value: 3 }, 3, null, { method: 'risk_pct', value: 0.01, phase5: false }],
    ])
  })

  it('rr_expectation: an entry whose target is not far enough against its stop is not proposed', () => {
    const want = (rr: number) =>
      strategyOf({ exit: { stop_loss: { pct: 0.02 }, take_profit: { pct: 0.05 } }, rr_expectation: rr })([ind(1, { close: 101 })]).length
    expect([want(2.5), want(2.6)]).toEqual([1, 0]) // reward 5% ÷ risk 2% = 2.5
  })
})

describe('reversals and shorts', () => {
  it('long → short on one bar is two ideas: the exit (reversal), then the short entry', () => {
    const run = strategyOf({ entry: { long: { gt: ['close', 100] }, short: { lt: ['close', 90] } } })
    const ideas = run([ind(1, { close: 101 }), ind(2, { close: 95 }), ind(3, { close: 89 })])
    expect(brief(ideas)).toEqual([
      ['2024-01-01', 'entry', 'long', 'market', null],
      ['2024-01-03', 'exit', 'long', 'market', 'reversal'],
      ['2024-01-03', 'entry', 'short', 'market', null],
    ])
    expect(ideas.map((i) => i.side)).toEqual(['buy', 'sell', 'sell'])
    expect(ideas[1]!.id).toBe(`idea:s:ORCL:${day(3)}:exit:long`)
    expect(ideas[2]!.id).toBe(`idea:s:ORCL:${day(3)}:entry:short`)
  })

  it('both entries at once is no signal', () => {
    const run = strategyOf({ entry: { long: { gt: ['close', 100] }, short: { gt: ['close', 90] } } })
    expect(run([ind(1, { close: 101 })])).toEqual([])
  })
})

describe('NarrativeGap from md.in.context', () => {
  it('market-snapshots keeps the newest context per symbol and rides it on every later bar; older contexts are dropped', () => {
    let state: SnapshotsState = { last: {} }
    const ctx = (ts: string, cf: number, seq: number) =>
      inbound('md.in.context', { ts, consensus_forecast: cf, distribution_estimate: 100 }, { seq, tokens: { symbol: 'ORCL' } })
    state = handleContext(state, ctx('2024-01-01', 104, 1)).state
    expect(handleContext(state, ctx('2023-12-31', 999, 2)).outcome).toBe('out_of_order')
    const bar = handleInjectedBar(state, injected('ORCL', { ts: '2024-01-02', open: 100, high: 101, low: 99, close: 100, volume: 1 }, 3)).emit![0]!
      .data as Message<'md.bar'>
    expect(bar.context).toEqual({ ts: '2024-01-01T00:00:00.000Z', consensus_forecast: 104, distribution_estimate: 100 })
    codec.check('md.bar', bar)
    const other = handleInjectedBar(state, injected('AAPL', { ts: '2024-01-02', open: 100, high: 101, low: 99, close: 100, volume: 1 }, 4)).emit![0]!
      .data as Message<'md.bar'>
    expect(other.context).toBeUndefined()
  })

  it('a context is validated like a bar: a missing forecast, an impossible date or a symbol mismatch is refused', () => {
    expect(() => codec.check('md.in.context', { ts: '2024-01-01', consensus_forecast: 1 })).toThrow(/distribution_estimate/)
    expect(() => codec.check('md.in.context', { ts: '2024-02-30', consensus_forecast: 1, distribution_estimate: 2 })).toThrow(/not a real date/)
    const payload = new TextEncoder().encode(JSON.stringify({ ts: '2024-01-01', consensus_forecast: 1, distribution_estimate: 2, symbol: 'AAPL' }))
    expect(() => codec.decode('md.in.context.ORCL', payload, { seq: 1, msgId: undefined })).toThrow(/does not match/)
  })

  it('the entry carries NG = |consensus − distribution| ÷ close (0 without context) and the DPI of the signal bar', () => {
    const run = strategyOf({ indicators: { dpi: { type: 'dpi' } }, sizing: { fixed_qty: 10, phase5: true } })
    const [withCtx] = run([
      ind(
        1,
        { close: 101 },
        { values: { 'dpi.value': 0.4, 'dpi.regime': 3 }, context: { ts: day(0), consensus_forecast: 104.03, distribution_estimate: 101 } },
      ),
    ])
    expect(withCtx!.ng_score).toBeCloseTo(0.03, 12)
    expect([withCtx!.dpi, withCtx!.dpi_regime, withCtx!.qty]).toEqual([0.4, 'regime_transition', null])
    const [without] = run([ind(1, { close: 101 })])
    expect([without!.ng_score, without!.dpi]).toEqual([0, null])
  })
})

const market = new TestMarket()

describe('risk gate: sizing', () => {
  const account = parseConfig({ accounts: [{ id: 'main', starting_cash: 10_000 }] }).accounts[0]!
  const idea = (over: Partial<Idea>): Idea =>
    message('trade.idea', { id: 'idea:s:ORCL:x:entry:long', ts: day(1), causation_id: 'c', correlation_id: 'r', bar_seq: market.seqOf('ORCL', 1), ...over })

  it.each<[string, Partial<Idea>, number]>([
    ['fixed_qty', {}, 100],
    ['pct_equity: floor(0.33 × 10 000 ÷ 50) = 66', { sizing: { method: 'pct_equity', value: 0.33, phase5: false } }, 66],
    ['risk_pct: floor(0.01 × 10 000 ÷ 1.5) = 66', { sizing: { method: 'risk_pct', value: 0.01, phase5: false }, stop_distance: 1.5 }, 66],
    ['risk_caps.max_lot_size clamps it', { max_qty: 40 }, 40],
    // base 20 × ng (1 + 0.03) × brier 0.5 (no data) × dpi (1 + 0.5·0.4) = 12.36 → 12
    ['phase5 under the cap', { sizing: { method: 'fixed_qty', value: 20, phase5: true }, ng_score: 0.03, dpi: 0.4 }, 12],
    // base 100 → 61.8, capped at 25% of equity: 2500 ÷ 50 = 50
    ['phase5 capped at 25% of equity', { sizing: { method: 'fixed_qty', value: 100, phase5: true }, ng_score: 0.03, dpi: 0.4 }, 50],
    // a short takes the DPI against it: 1 − 0.5·0.4 = 0.8 → 20 × 1.03 × 0.5 × 0.8 = 8.24 → 8
    ['phase5 for a short', { sizing: { method: 'fixed_qty', value: 20, phase5: true }, ng_score: 0.03, dpi: 0.4, position_side: 'short', side: 'sell' }, 8],
  ])('%s → %s', (_, over, qty) => {
    expect(sizeOf(newRiskState(10_000, account.risk), idea(over), account).qty).toBe(qty)
  })

  it('equity for sizing: cash and every position at its last close as of the idea’s bar', () => {
    const state = newRiskState(4_000, account.risk)
    const b = state.ledger.books
    b.positions = {
      ORCL: { position_id: 'p1', qty: 50, avg_price: 40, realized_pnl: 0, opened_at: day(1) },
      AAPL: { position_id: 'p2', qty: 10, avg_price: 100, realized_pnl: 0, opened_at: day(1) },
    }
    b.marks = { ORCL: { ts: day(1), price: 50 }, AAPL: { ts: day(1), price: 90 } }
    // 4000 + 50 × 50 + 10 × 90 = 7400; 0.5 × 7400 ÷ 50 = 74
    expect(sizeOf(state, idea({ sizing: { method: 'pct_equity', value: 0.5, phase5: false } }), account).qty).toBe(74)
  })

  it('a share of equity never asks for more than the cash it may use buys (exits working count at what they bring)', () => {
    const state = newRiskState(1_000, account.risk)
    const b = state.ledger.books
    b.positions = { AAPL: { position_id: 'p2', qty: 10, avg_price: 100, realized_pnl: 0, opened_at: day(1) } }
    b.marks = { AAPL: { ts: day(1), price: 90 } }
    // Equity 1000 + 900 = 1900: 95% of it is 36 at 50, but only the 1000 of cash is free → 20.
    expect(sizeOf(state, idea({ sizing: { method: 'pct_equity', value: 0.95, phase5: false } }), account).qty).toBe(20)
    // With AAPL being sold, its 900 count: 1900 buys 38, 95% of equity is 36.
    state.ledger.orders['order:x'] = {
      symbol: 'AAPL',
      strategy: 's',
      timeframe: '1d',
      intent: 'exit',
      signalSeq: 1,
      signalTs: day(1),
      kind: 'market',
      qty: 10,
      filled: 0,
      reserve: 0,
    }
    expect(sizeOf(state, idea({ sizing: { method: 'pct_equity', value: 0.95, phase5: false } }), account).qty).toBe(36)
  })

  it('the order and then the fill carry the four Phase-5 factors; the trades row records them', () => {
    const { emit } = playSync(market.gate(account), newRiskState(10_000, account.risk), [
      inbound('trade.idea', idea({ sizing: { method: 'fixed_qty', value: 20, phase5: true }, ng_score: 0.03, dpi: 0.4 }), { seq: 1 }),
    ])
    const [order] = ofType(emit, 'trade.order')
    expect(order!.qty).toBe(12)
    expect(order!.phase5).toEqual({ ng_score: 0.03, ng_multiplier: 1.03, brier_adjustment: 0.5, dpi_enhancement: 1.2 })
  })
})

describe('risk gate: the Brier tracker and phase5_metrics', () => {
  const account = parseConfig({ accounts: [{ id: 'main', starting_cash: 10_000 }] }).accounts[0]!
  const fill = (id: string, intent: 'entry' | 'exit', side: 'buy' | 'sell', ng: number | null, ts: string, price = 50): Message<'trade.fill'> =>
    message('trade.fill', {
      id: `fill:${id}`,
      ts,
      causation_id: id,
      correlation_id: id,
      side,
      intent,
      qty: 10,
      order_id: id,
      idea_id: id,
      position_id: `pos:${id.slice(0, 1)}`,
      price,
      bar_id: 'b',
      bar_seq: market.seqOf('ORCL', Number(ts.slice(8, 10))),
      exit_reason: intent === 'exit' ? 'signal' : null,
      phase5: ng === null ? null : { ng_score: ng, ng_multiplier: 1 + ng, brier_adjustment: 0.5, dpi_enhancement: 1 },
    })
  /** An exit of a symbol not held: it leaves nothing working, and brings the books to its bar. */
  const probe = (d: number, seq: number) =>
    inbound(
      'trade.idea',
      message('trade.idea', {
        id: `idea:probe:${d}`,
        ts: day(d),
        causation_id: 'c',
        correlation_id: 'r',
        symbol: 'AAPL',
        side: 'sell',
        intent: 'exit',
        qty: null,
        exit_reason: 'signal',
        sizing: null,
        close_position: true,
        bar_seq: market.seqOf('AAPL', d),
        reason: 'probe',
      }),
      { seq },
    )
  const closed = (position: string, pnl: number, ts: string): Message<'trade.position'> =>
    message('trade.position', {
      id: `p:${position}`,
      ts,
      causation_id: 'c',
      correlation_id: 'c',
      position_id: position,
      qty: 0,
      avg_price: 50,
      realized_pnl: pnl,
      status: 'closed',
      opened_at: ts,
      closed_at: ts,
      exit_reason: 'signal',
      seq: 1,
    })

  it('records min(0.9, 10·NG) when a Phase-5 position opens and the outcome with the fill that closes it; a row at each close', () => {
    const history: Inbound[] = [
      inbound('trade.fill', fill('a1', 'entry', 'buy', 0.03, day(1)), { seq: 1 }), // forecast 0.3
      inbound('trade.fill', fill('a2', 'exit', 'sell', null, day(2), 51.2), { seq: 2 }), // +12: won, (0.3 − 1)² = 0.49
      inbound('trade.position', closed('pos:a', 12, day(2)), { seq: 3 }),
      inbound('trade.fill', fill('b1', 'entry', 'buy', 0.1, day(3)), { seq: 4 }), // forecast 0.9 (capped)
      inbound('trade.fill', fill('b2', 'exit', 'sell', null, day(4), 49.7), { seq: 5 }), // −3: lost, (0.9 − 0)² = 0.81
      inbound('trade.position', closed('pos:b', -3, day(4)), { seq: 6 }),
      probe(5, 7), // the books reach the fills
    ]
    const { emit } = playSync(market.gate(account), newRiskState(10_000, account.risk), history)
    const rows = ofType(emit, 'metrics.phase5').filter((r) => r.trigger === 'position_closed')
    for (const row of rows) codec.check('metrics.phase5', row)
    expect(rows.map((r) => [r.id, r.trigger, Number(r.brier_score.toFixed(12)), r.prediction_count, r.health_status])).toEqual([
      ['p5:main:close:pos:a', 'position_closed', 0.49, 1, 'critical'],
      ['p5:main:close:pos:b', 'position_closed', 0.65, 2, 'critical'],
    ])
    expect(rows[1]).toMatchObject({ recent_accuracy: 0, high_ng_trades: 1, avg_dpi_enhancement: 1 })
    expect(rows[1]!.avg_ng_score).toBeCloseTo(0.065, 12)
  })

  it('a daily row when the books reach a new bar-time day', () => {
    const { emit } = playSync(market.gate(account), newRiskState(10_000, account.risk), [
      inbound('trade.fill', fill('a1', 'entry', 'buy', null, day(1)), { seq: 1 }),
      probe(3, 2),
    ])
    expect(ofType(emit, 'metrics.phase5').map((r) => [r.id, r.brier_score, r.health_status])).toEqual([
      ['p5:main:daily:2024-01-02', 0.5, 'healthy'],
      ['p5:main:daily:2024-01-03', 0.5, 'healthy'],
    ])
  })
})
