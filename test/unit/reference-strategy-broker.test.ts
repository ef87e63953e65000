// Hand-checked cases for the naive reference broker (test/support/reference-strategy-broker.ts)
// that the integration tests compare paperd against. Every number below is worked out in the
// comments; bars are written [open, high, low, close] (volume 1000 unless stated) and bar i has
// ts "t<i>".
import { describe, expect, it } from 'vitest'
import { referenceBroker, type RefBar, type RefConfig } from '../support/reference-strategy-broker.js'

type OHLC = [number, number, number, number] | [number, number, number, number, number]
const series = (rows: OHLC[]): RefBar[] => rows.map(([open, high, low, close, volume], i) => ({ ts: `t${i}`, open, high, low, close, volume: volume ?? 1000 }))
/** Flat bars where open = high = low = close. */
const flat = (closes: number[]): RefBar[] => series(closes.map((c) => [c, c, c, c]))

const NO_COSTS = { commission_pct: 0, commission_per_share: 0, commission_min: 0, slippage_bps: 0 }
const config = (over: Partial<RefConfig>): RefConfig => ({
  cash: 10000,
  costs: NO_COSTS,
  indicators: {},
  entry: {},
  exit: {},
  sizing: { fixed_qty: 10 },
  ...over,
})
const fill = (ts: string, side: 'buy' | 'sell', qty: number, price: number, reason: string, commission = 0) => ({
  ts,
  side,
  qty,
  price,
  commission,
  reason,
})

describe('reference strategy broker: signals', () => {
  it('enters long at the next open and exits by signal at the following open', () => {
    // t1 closes 102 > 100 → buy at t2 open 103: cash 10000 − 1030 = 8970.
    // t3 closes 94 < 95 → sell at t4 open 96: cash 8970 + 960 = 9930.
    const bars = series([
      [100, 101, 99, 100],
      [100, 103, 99, 102],
      [103, 104, 102, 103],
      [101, 102, 93, 94],
      [96, 97, 95, 96],
    ])
    const r = referenceBroker(bars, config({ entry: { long: { gt: ['close', 100] } }, exit: { long: { lt: ['close', 95] } } }))
    expect(r.fills).toEqual([fill('t2', 'buy', 10, 103, 'entry'), fill('t4', 'sell', 10, 96, 'signal')])
    expect(r.exits).toEqual([{ ts: 't4', reason: 'signal' }])
    expect(r.cash).toBe(9930)
    expect(r.position).toBeNull()
  })

  it('sells short and covers by signal; an open short is reported at the end', () => {
    // t1 closes 98 < 100 → sell short at t2 open 97: cash 10000 + 970 = 10970.
    // t3 closes 101 > 100 → buy to cover at t4 open 102: cash 10970 − 1020 = 9950.
    const bars = series([
      [100, 101, 99, 100],
      [100, 100, 97, 98],
      [97, 98, 95, 96],
      [95, 102, 95, 101],
      [102, 103, 101, 102],
    ])
    const cfg = config({ entry: { short: { lt: ['close', 100] } }, exit: { short: { gt: ['close', 100] } } })
    const r = referenceBroker(bars, cfg)
    expect(r.fills).toEqual([fill('t2', 'sell', 10, 97, 'entry'), fill('t4', 'buy', 10, 102, 'signal')])
    expect(r.cash).toBe(9950)
    expect(r.position).toBeNull()

    const open = referenceBroker(bars.slice(0, 3), cfg)
    expect(open.cash).toBe(10970)
    expect(open.position).toEqual({ side: 'short', qty: 10 })
    expect(open.exits).toEqual([])
  })

  it('crossesAbove against an SMA: UNKNOWN until both bars have values', () => {
    // closes 10 11 12 9 13 13; sma3 = –, –, 11, 32/3 ≈ 10.667, 34/3 ≈ 11.333, 35/3 ≈ 11.667.
    // t2: close 12 > 11 but sma3[t1] is missing → UNKNOWN, no entry.
    // t4: 9 ≤ 10.667 and 13 > 11.333 → cross → buy 1 at t5 open 13: cash 100 − 13 = 87.
    const r = referenceBroker(
      flat([10, 11, 12, 9, 13, 13]),
      config({
        cash: 100,
        sizing: { fixed_qty: 1 },
        indicators: { s3: { type: 'sma', period: 3 } },
        entry: { long: { crossesAbove: ['close', 's3'] } },
      }),
    )
    expect(r.fills).toEqual([fill('t5', 'buy', 1, 13, 'entry')])
    expect(r.cash).toBe(87)
  })

  it('three-valued logic: not(UNKNOWN) does not fire, not(all(FALSE, UNKNOWN)) does', () => {
    const bars = flat([10, 11, 12, 9, 13])
    const indicators = { s3: { type: 'sma' as const, period: 3 } }
    // not(s3 > 1000): UNKNOWN at t0, t1 (sma3 missing) → first TRUE at t2 → buy at t3 open 9.
    const a = referenceBroker(bars, config({ indicators, entry: { long: { not: { gt: ['s3', 1000] } } } }))
    expect(a.fills).toEqual([fill('t3', 'buy', 10, 9, 'entry')])
    // all(close > 1000, s3 > 0) at t0 = all(FALSE, UNKNOWN) = FALSE → not → TRUE → buy at t1 open 11.
    const b = referenceBroker(bars, config({ indicators, entry: { long: { not: { all: [{ gt: ['close', 1000] }, { gt: ['s3', 0] }] } } } }))
    expect(b.fills).toEqual([fill('t1', 'buy', 10, 11, 'entry')])
    // not(any(close > 1000, s3 > 0)): any(FALSE, UNKNOWN) = UNKNOWN at t0/t1, then TRUE → never fires.
    const c = referenceBroker(bars, config({ indicators, entry: { long: { not: { any: [{ gt: ['close', 1000] }, { gt: ['s3', 0] }] } } } }))
    expect(c.fills).toEqual([])
  })

  it('both entry sides TRUE on one close → no entry', () => {
    const r = referenceBroker(flat([100, 100, 100]), config({ entry: { long: { gte: ['close', 100] }, short: { lte: ['close', 100] } } }))
    expect(r.fills).toEqual([])
  })
})

describe('reference strategy broker: protective exits', () => {
  // Long: t0 closes exactly 101 → buy 10 at t1 open 100 → stop 95 (5%), target 110 (10%).
  const longEntry = { long: { eq: ['close', 101] as [string, number] } }
  // Short: t0 closes exactly 99 → sell 10 at t1 open 100 → stop 105, target 90.
  const shortEntry = { short: { eq: ['close', 99] as [string, number] } }

  it('long stop: intrabar at the stop, gap open at the open; never on the entry bar', () => {
    const head: OHLC[] = [
      [100, 101, 99, 101],
      [100, 101, 94, 99], // entry bar: low 94 ≤ 95 but the stop only applies from the next bar
    ]
    const cfg = config({ entry: longEntry, exit: { stop_loss: { pct: 0.05 } } })
    // t2 opens 99 > 95, low 94 ≤ 95 → sell at 95: cash 10000 − 1000 + 950 = 9950.
    const intrabar = referenceBroker(series([...head, [99, 100, 94, 96]]), cfg)
    expect(intrabar.fills).toEqual([fill('t1', 'buy', 10, 100, 'entry'), fill('t2', 'sell', 10, 95, 'stop_loss')])
    expect(intrabar.exits).toEqual([{ ts: 't2', reason: 'stop_loss' }])
    expect(intrabar.cash).toBeCloseTo(9950, 10)
    // t2 gaps down to open 93 ≤ 95 → sell at 93: cash 10000 − 1000 + 930 = 9930.
    const gap = referenceBroker(series([...head, [93, 96, 92, 95]]), cfg)
    expect(gap.fills[1]).toEqual(fill('t2', 'sell', 10, 93, 'stop_loss'))
    expect(gap.cash).toBe(9930)
  })

  it('short stop: intrabar at the stop, gap open at the open', () => {
    const head: OHLC[] = [
      [100, 101, 98, 99],
      [100, 106, 99, 101], // entry bar: high 106 ≥ 105 ignored
    ]
    const cfg = config({ entry: shortEntry, exit: { stop_loss: { pct: 0.05 } } })
    // t2 high 106 ≥ 105 → buy at 105: cash 10000 + 1000 − 1050 = 9950.
    const intrabar = referenceBroker(series([...head, [101, 106, 100, 101]]), cfg)
    expect(intrabar.fills[1]).toEqual(fill('t2', 'buy', 10, 105, 'stop_loss'))
    expect(intrabar.cash).toBe(9950)
    // t2 opens 107 ≥ 105 → buy at 107: cash 9930.
    const gap = referenceBroker(series([...head, [107, 108, 104, 106]]), cfg)
    expect(gap.fills[1]).toEqual(fill('t2', 'buy', 10, 107, 'stop_loss'))
    expect(gap.cash).toBe(9930)
  })

  it('long target: intrabar at the level, gap open at the (better) open', () => {
    const head: OHLC[] = [
      [100, 101, 99, 101],
      [100, 101, 99, 100],
    ]
    const cfg = config({ entry: longEntry, exit: { take_profit: { pct: 0.1 } } })
    // T = 100·1.1 = 110 (to float precision). t2 high 111 ≥ 110 → sell at 110: cash 10100.
    const intrabar = referenceBroker(series([...head, [105, 111, 104, 108]]), cfg)
    expect(intrabar.fills[1]!.reason).toBe('take_profit')
    expect(intrabar.fills[1]!.price).toBeCloseTo(110, 10)
    expect(intrabar.cash).toBeCloseTo(10100, 10)
    // t2 opens 112 ≥ 110 → sell at 112: cash 10120.
    const gap = referenceBroker(series([...head, [112, 113, 111, 112]]), cfg)
    expect(gap.fills[1]).toEqual(fill('t2', 'sell', 10, 112, 'take_profit'))
    expect(gap.cash).toBe(10120)
  })

  it('short target: intrabar at the level, gap open at the (better) open', () => {
    const head: OHLC[] = [
      [100, 101, 98, 99],
      [100, 101, 99, 100],
    ]
    const cfg = config({ entry: shortEntry, exit: { take_profit: { pct: 0.1 } } })
    // T = 100·0.9 = 90. t2 low 89 ≤ 90 → buy at 90: cash 10000 + 1000 − 900 = 10100.
    const intrabar = referenceBroker(series([...head, [95, 96, 89, 92]]), cfg)
    expect(intrabar.fills[1]).toEqual(fill('t2', 'buy', 10, 90, 'take_profit'))
    expect(intrabar.cash).toBe(10100)
    // t2 opens 88 ≤ 90 → buy at 88: cash 10120.
    const gap = referenceBroker(series([...head, [88, 89, 87, 88]]), cfg)
    expect(gap.fills[1]).toEqual(fill('t2', 'buy', 10, 88, 'take_profit'))
    expect(gap.cash).toBe(10120)
  })

  it('take_profit rr: target = F + rr·|F − S|', () => {
    // F 100, S 95 → T = 100 + 2·5 = 110; t2 high exactly 110 → sell at 110: cash 10100.
    const bars = series([
      [100, 101, 99, 101],
      [100, 101, 99, 100],
      [104, 110, 103, 108],
    ])
    const r = referenceBroker(bars, config({ entry: longEntry, exit: { stop_loss: { pct: 0.05 }, take_profit: { rr: 2 } } }))
    expect(r.fills[1]).toEqual(fill('t2', 'sell', 10, 110, 'take_profit'))
    expect(r.cash).toBe(10100)
  })

  it('a bar touching both the stop and the target exits at the stop', () => {
    const exit = { stop_loss: { pct: 0.05 }, take_profit: { pct: 0.1 } }
    // Long: S 95, T 110; t2 range 94..111 touches both → sell at 95.
    const long = referenceBroker(
      series([
        [100, 101, 99, 101],
        [100, 101, 99, 100],
        [100, 111, 94, 105],
      ]),
      config({ entry: longEntry, exit }),
    )
    expect(long.fills[1]).toEqual(fill('t2', 'sell', 10, 95, 'stop_loss'))
    // Short: S 105, T 90; t2 range 89..106 touches both → buy at 105.
    const short = referenceBroker(
      series([
        [100, 101, 98, 99],
        [100, 101, 99, 100],
        [100, 106, 89, 95],
      ]),
      config({ entry: shortEntry, exit }),
    )
    expect(short.fills[1]).toEqual(fill('t2', 'buy', 10, 105, 'stop_loss'))
  })

  it('max_bars: signal t0, fill t1, max_bars 2 → market exit at the t3 open (before the stop)', () => {
    // Slippage 10 bps: buy at 100·1.001 = 100.1; t3 exit at 103·0.999 = 102.897.
    // t3's low 85 is below the stop (90) but max_bars is decided first, at the open.
    // cash 10000 − 1001 + 1028.97 = 10027.97.
    const bars = series([
      [100, 101, 99, 101],
      [100, 102, 99, 100],
      [100, 103, 99, 102],
      [103, 104, 85, 100],
      [100, 101, 99, 100],
    ])
    const r = referenceBroker(
      bars,
      config({
        costs: { ...NO_COSTS, slippage_bps: 10 },
        entry: longEntry,
        exit: { max_bars: 2, stop_loss: { price: 90 } },
      }),
    )
    expect(r.fills.map((f) => [f.ts, f.side, f.reason])).toEqual([
      ['t1', 'buy', 'entry'],
      ['t3', 'sell', 'max_bars'],
    ])
    expect(r.fills[0]!.price).toBeCloseTo(100.1, 10)
    expect(r.fills[1]!.price).toBeCloseTo(102.897, 10)
    expect(r.cash).toBeCloseTo(10027.97, 10)
    expect(r.position).toBeNull()
  })
})

describe('reference strategy broker: reversals', () => {
  it('long → short: sell to close (reversal) then sell short, both at the next open', () => {
    // t0 closes 101 > 100 → buy 10 at t1 open 101: cash 8990. t1 closes 102: already long.
    // t2 closes 98 < 100 → reversal: at t3 open 97 sell 10 (cash 9960) then short 10 (cash 10930).
    const bars = series([
      [100, 101, 99, 101],
      [101, 103, 100, 102],
      [102, 102, 97, 98],
      [97, 98, 96, 97],
    ])
    const r = referenceBroker(bars, config({ entry: { long: { gt: ['close', 100] }, short: { lt: ['close', 100] } } }))
    expect(r.fills).toEqual([fill('t1', 'buy', 10, 101, 'entry'), fill('t3', 'sell', 10, 97, 'reversal'), fill('t3', 'sell', 10, 97, 'entry')])
    expect(r.exits).toEqual([{ ts: 't3', reason: 'reversal' }])
    expect(r.cash).toBe(10930)
    expect(r.position).toEqual({ side: 'short', qty: 10 })
  })

  it('an exit signal and an opposite entry on one close: exit (signal) then entry', () => {
    // Same bars; exit.long also fires at t2 (close 98 < 99), so the close is a signal exit.
    const bars = series([
      [100, 101, 99, 101],
      [101, 103, 100, 102],
      [102, 102, 97, 98],
      [97, 98, 96, 97],
    ])
    const r = referenceBroker(bars, config({ entry: { long: { gt: ['close', 100] }, short: { lt: ['close', 100] } }, exit: { long: { lt: ['close', 99] } } }))
    expect(r.fills.map((f) => [f.ts, f.side, f.reason])).toEqual([
      ['t1', 'buy', 'entry'],
      ['t3', 'sell', 'signal'],
      ['t3', 'sell', 'entry'],
    ])
    expect(r.cash).toBe(10930)
  })

  it('a position already being exited counts as flat: a same-side entry on that close re-enters', () => {
    // t0 close 101 → buy at t1 open 100. t1 close 103: exit.long (> 102) and entry.long (> 100)
    // both TRUE → sell at t2 open 104 (signal), buy again at t2 open 104.
    const bars = series([
      [100, 101, 99, 101],
      [100, 103, 99, 103],
      [104, 104, 100, 101],
    ])
    const r = referenceBroker(bars, config({ entry: { long: { gt: ['close', 100] } }, exit: { long: { gt: ['close', 102] } } }))
    expect(r.fills).toEqual([fill('t1', 'buy', 10, 100, 'entry'), fill('t2', 'sell', 10, 104, 'signal'), fill('t2', 'buy', 10, 104, 'entry')])
    expect(r.position).toEqual({ side: 'long', qty: 10 })
  })
})

describe('reference strategy broker: sizing', () => {
  it('pct_equity: floor(p·E/C) at the signal close, E marked at C before the reversal', () => {
    // t0: E 10000, C 102 → 0.5·10000/102 = 49.02 → 49; buy at t1 open 100: cash 10000 − 4900 = 5100.
    // t2 closes 80 < 90 → short: E = 5100 + 49·80 = 9020 → 0.5·9020/80 = 56.375 → 56.
    // t3 open 79: sell 49 (cash 5100 + 3871 = 8971), then short 56 (cash 8971 + 4424 = 13395).
    const bars = series([
      [100, 102, 99, 102],
      [100, 101, 99, 100],
      [95, 96, 79, 80],
      [79, 80, 78, 79],
    ])
    const r = referenceBroker(bars, config({ sizing: { pct_equity: 0.5 }, entry: { long: { gt: ['close', 100] }, short: { lt: ['close', 90] } } }))
    expect(r.fills).toEqual([fill('t1', 'buy', 49, 100, 'entry'), fill('t3', 'sell', 49, 79, 'reversal'), fill('t3', 'sell', 56, 79, 'entry')])
    expect(r.cash).toBe(13395)
    expect(r.position).toEqual({ side: 'short', qty: 56 })
  })

  it('pct_equity: the 1e-9 relative tolerance keeps 0.57·10000/100 (= 56.999…99 in floats) at 57', () => {
    const r = referenceBroker(flat([100, 100]), config({ sizing: { pct_equity: 0.57 }, entry: { long: { eq: ['close', 100] } } }))
    expect(r.fills[0]!.qty).toBe(57)
  })

  it('fixed_qty is used as given, even fractional', () => {
    const r = referenceBroker(flat([100, 100]), config({ sizing: { fixed_qty: 0.5 }, entry: { long: { eq: ['close', 100] } } }))
    expect(r.fills).toEqual([fill('t1', 'buy', 0.5, 100, 'entry')])
    expect(r.cash).toBe(9950)
  })

  it('risk_pct with a pct stop: floor(r·E/(pct·C))', () => {
    // C 100, stop distance 0.02·100 = 2 → 0.01·10000/2 = 50. Filled at t1 open 101 regardless.
    const r = referenceBroker(
      flat([100, 101]),
      config({ sizing: { risk_pct: 0.01 }, entry: { long: { eq: ['close', 100] } }, exit: { stop_loss: { pct: 0.02 } } }),
    )
    expect(r.fills).toEqual([fill('t1', 'buy', 50, 101, 'entry')])
  })

  it('risk_pct with an ATR stop: no entry before the ATR exists; the stop uses the signal bar ATR', () => {
    // ATR(2): TR1 = max(2, |12−10|, |10−10|) = 2, TR2 = max(2, 1, 1) = 2 → ATR[t2] = 2 (first value).
    // entry.long is always TRUE; t0 and t1 have no ATR → no entry.
    // t2: distance 1.5·2 = 3 → qty floor(0.01·10000/3) = 33; buy at t3 open 12: cash 10000 − 396 = 9604,
    //     stop 12 − 3 = 9.
    // t4: low 8.5 ≤ 9 → sell 33 at 9: cash 9604 + 297 = 9901.
    //     TR3 = max(2, 2, 0) = 2 → ATR3 = (2 + 2)/2 = 2; TR4 = max(2.5, 1, 3.5) = 3.5 → ATR4 = 2.75,
    //     distance 4.125 → qty floor(99.01/4.125 = 24.002) = 24.
    // t5: buy 24 at open 10: cash 9901 − 240 = 9661; stop 10 − 4.125 = 5.875 (ATR of t4, not t5).
    // t6: low 5.8 ≤ 5.875 → sell 24 at 5.875: cash 9661 + 141 = 9802. The t6 signal is dropped at the end.
    const bars = series([
      [10, 11, 9, 10],
      [10, 12, 10, 11],
      [11, 12, 10, 11],
      [12, 13, 11, 12],
      [11, 11, 8.5, 9],
      [10, 10.5, 9.5, 10],
      [9, 9, 5.8, 6],
    ])
    const r = referenceBroker(
      bars,
      config({
        indicators: { atr2: { type: 'atr', period: 2 } },
        sizing: { risk_pct: 0.01 },
        entry: { long: { gt: ['close', 0] } },
        exit: { stop_loss: { atr: 1.5, indicator: 'atr2' } },
      }),
    )
    expect(r.fills).toEqual([
      fill('t3', 'buy', 33, 12, 'entry'),
      fill('t4', 'sell', 33, 9, 'stop_loss'),
      fill('t5', 'buy', 24, 10, 'entry'),
      fill('t6', 'sell', 24, 5.875, 'stop_loss'),
    ])
    expect(r.cash).toBe(9802)
    expect(r.position).toBeNull()
  })
})

describe('reference strategy broker: entry filters', () => {
  const bars = flat([100, 100])
  const entry = { long: { eq: ['close', 100] as [string, number] } }

  it('rr_expectation: blocks when reward/risk is below it, allows at or above it', () => {
    // pct stop 2%, pct target 3% → reward/risk = 3/2 = 1.5.
    const pct = { stop_loss: { pct: 0.02 }, take_profit: { pct: 0.03 } }
    expect(referenceBroker(bars, config({ entry, exit: pct, rr_expectation: 2 })).fills).toEqual([])
    expect(referenceBroker(bars, config({ entry, exit: pct, rr_expectation: 1.5 })).fills).toHaveLength(1)
    // rr target 2 → reward/risk = 2.
    const rr = { stop_loss: { pct: 0.02 }, take_profit: { rr: 2 } }
    expect(referenceBroker(bars, config({ entry, exit: rr, rr_expectation: 2.5 })).fills).toEqual([])
    expect(referenceBroker(bars, config({ entry, exit: rr, rr_expectation: 2 })).fills).toHaveLength(1)
    // Without a target the expectation is not applied.
    expect(referenceBroker(bars, config({ entry, exit: { stop_loss: { pct: 0.02 } }, rr_expectation: 10 })).fills).toHaveLength(1)
  })

  it('forbidden: a TRUE forbidden condition blocks the entry; UNKNOWN does not', () => {
    // t0: volume 2000 > 1500 → blocked; t1: volume 1000 → buy at t2 open 102.
    const vbars = series([
      [100, 101, 99, 101, 2000],
      [101, 102, 100, 102, 1000],
      [102, 103, 101, 102, 1000],
    ])
    const r = referenceBroker(vbars, config({ entry: { long: { gt: ['close', 100] } }, forbidden: [{ gt: ['volume', 1500] }] }))
    expect(r.fills).toEqual([fill('t2', 'buy', 10, 102, 'entry')])
    // sma3 > 0 is UNKNOWN on t0 → not forbidden → buy at t1 open 101.
    const u = referenceBroker(
      vbars,
      config({
        indicators: { s3: { type: 'sma', period: 3 } },
        entry: { long: { gt: ['close', 100] } },
        forbidden: [{ gt: ['s3', 0] }],
      }),
    )
    expect(u.fills).toEqual([fill('t1', 'buy', 10, 101, 'entry')])
  })

  it('an entry the cash cannot cover at its fill (commission included) is skipped silently', () => {
    // cash 1000, qty 10, commission_min 10. t1 open 99.5: 995 + 10 = 1005 > 1000 → skipped.
    // t2 open 99: 990 + 10 = 1000 ≤ 1000 → filled; cash 0.
    const bars3 = series([
      [100, 101, 99, 101],
      [99.5, 102, 99, 101],
      [99, 100, 98, 99],
    ])
    const costs = { ...NO_COSTS, commission_min: 10 }
    const r = referenceBroker(bars3, config({ cash: 1000, costs, entry: { long: { gt: ['close', 100] } } }))
    expect(r.fills).toEqual([fill('t2', 'buy', 10, 99, 'entry', 10)])
    expect(r.cash).toBe(0)
    expect(r.position).toEqual({ side: 'long', qty: 10 })
    // Shorts need 100% of the notional too: 10·101 = 1010 > 1000 → skipped.
    const s = referenceBroker(flat([99, 101]), config({ cash: 1000, entry: { short: { eq: ['close', 99] } } }))
    expect(s.fills).toEqual([])
    expect(s.position).toBeNull()
    expect(s.cash).toBe(1000)
  })
})

describe('reference strategy broker: costs', () => {
  const costs = { commission_pct: 0.001, commission_per_share: 0.01, commission_min: 5, slippage_bps: 10 }
  const bars = series([
    [100, 101, 99, 101],
    [100, 101, 99, 100],
    [110, 116, 109, 116],
    [110, 111, 109, 110],
  ])
  const cfg = (qty: number, cash: number) =>
    config({ cash, costs, sizing: { fixed_qty: qty }, entry: { long: { eq: ['close', 101] } }, exit: { long: { gt: ['close', 115] } } })

  it('slippage on market fills and commission_min on a small order', () => {
    // Buy 10 at 100·1.001 = 100.1; commission max(5, 1.001 + 0.1) = 5 → cash 10000 − 1001 − 5 = 8994.
    // Sell 10 at 110·0.999 = 109.89; commission max(5, 1.0989 + 0.1) = 5 → cash 8994 + 1098.9 − 5 = 10087.9.
    const r = referenceBroker(bars, cfg(10, 10000))
    expect(r.fills.map((f) => [f.ts, f.side, f.qty, f.commission, f.reason])).toEqual([
      ['t1', 'buy', 10, 5, 'entry'],
      ['t3', 'sell', 10, 5, 'signal'],
    ])
    expect(r.fills[0]!.price).toBeCloseTo(100.1, 10)
    expect(r.fills[1]!.price).toBeCloseTo(109.89, 10)
    expect(r.cash).toBeCloseTo(10087.9, 10)
  })

  it('commission above the minimum: qty·price·pct + qty·perShare', () => {
    // Buy 100 at 100.1: 10.01 + 1 = 11.01 → cash 20000 − 10010 − 11.01 = 9978.99.
    // Sell 100 at 109.89: 10.989 + 1 = 11.989 → cash 9978.99 + 10989 − 11.989 = 20956.001.
    const r = referenceBroker(bars, cfg(100, 20000))
    expect(r.fills[0]!.commission).toBeCloseTo(11.01, 10)
    expect(r.fills[1]!.commission).toBeCloseTo(11.989, 10)
    expect(r.cash).toBeCloseTo(20956.001, 10)
  })

  it('stops fill with slippage; targets fill at the level without it; levels come from the slipped entry', () => {
    // F = 100.1 → stop 5%: S = 95.095, rr 2: T = 100.1 + 2·5.005 = 110.11.
    const exit = { stop_loss: { pct: 0.05 }, take_profit: { rr: 2 } }
    const c = config({ costs, entry: { long: { eq: ['close', 101] } }, exit })
    const head: OHLC[] = [
      [100, 101, 99, 101],
      [100, 101, 99, 100],
    ]
    // Stop: sell at 95.095·0.999 = 94.999905.
    const stop = referenceBroker(series([...head, [99, 100, 94, 96]]), c)
    expect(stop.fills[1]!.reason).toBe('stop_loss')
    expect(stop.fills[1]!.price).toBeCloseTo(94.999905, 10)
    // Target: sell at exactly 110.11.
    const target = referenceBroker(series([...head, [105, 111, 104, 108]]), c)
    expect(target.fills[1]!.reason).toBe('take_profit')
    expect(target.fills[1]!.price).toBeCloseTo(110.11, 10)
    // cash 10000 − 1001 − 5 + 1101.1 − 5 = 10090.1.
    expect(target.cash).toBeCloseTo(10090.1, 10)
  })

  it('a short entry sells at open·(1 − slippage)', () => {
    const r = referenceBroker(flat([99, 100]), config({ costs, entry: { short: { eq: ['close', 99] } } }))
    // Sell 10 at 99.9, commission 5 → cash 10000 + 999 − 5 = 10994.
    expect(r.fills[0]!.side).toBe('sell')
    expect(r.fills[0]!.price).toBeCloseTo(99.9, 10)
    expect(r.cash).toBeCloseTo(10994, 10)
  })
})

describe('reference strategy broker: entry orders', () => {
  // Every case signals at t0 with a close of exactly 100 (C = 100) unless stated; fixed_qty 10.
  const long100 = { long: { eq: ['close', 100] as [string, number] } }
  const short100 = { short: { eq: ['close', 100] as [string, number] } }
  const SLIP = { ...NO_COSTS, slippage_bps: 10 }

  it("type 'market' is today's behaviour (offsets and valid_bars ignored)", () => {
    const bars = series([
      [100, 101, 99, 100],
      [103, 104, 102, 103],
    ])
    const plain = referenceBroker(bars, config({ entry: long100 }))
    const market = referenceBroker(bars, config({ entry: long100, entry_order: { type: 'market', offset_pct: 0.5, valid_bars: 3 } }))
    expect(market).toEqual(plain)
    expect(market.fills).toEqual([fill('t1', 'buy', 10, 103, 'entry')])
    expect(market.expired).toEqual([])
  })

  it('limit buy: fills on the 2nd working bar at L when the low reaches it, without slippage', () => {
    // L = 100·(1 − 0.02) = 98. Works t1..t3.
    // t1: O 99 > 98, low 98.5 > 98 → no fill. t2: O 99 > 98, low 97 ≤ 98 → buy 10 at 98 (no slippage
    // even with 10 bps configured): cash 10000 − 980 = 9020.
    const bars = series([
      [100, 101, 99, 100],
      [99, 100, 98.5, 99],
      [99, 99.5, 97, 98.5],
    ])
    const r = referenceBroker(bars, config({ costs: SLIP, entry: long100, entry_order: { type: 'limit', offset_pct: 0.02, valid_bars: 3 } }))
    expect(r.fills).toEqual([fill('t2', 'buy', 10, 98, 'entry')])
    expect(r.cash).toBe(9020)
    expect(r.position).toEqual({ side: 'long', qty: 10 })
    expect(r.expired).toEqual([])
  })

  it('limit buy: a gap open below L fills at the open; the target is measured from that fill', () => {
    // L = 98. t1 no fill (as above). t2 opens 96 ≤ 98 → buy at 96: cash 10000 − 960 = 9040.
    // take_profit 25%: T = 96·1.25 = 120 (not 98·1.25 = 122.5). t2 is the fill bar (bracket not
    // checked). t3 high 121 ≥ 120 → sell at 120: cash 9040 + 1200 = 10240.
    const bars = series([
      [100, 101, 99, 100],
      [99, 100, 98.5, 99],
      [96, 97, 95, 96.5],
      [110, 121, 109, 115],
    ])
    const r = referenceBroker(
      bars,
      config({
        entry: long100,
        exit: { take_profit: { pct: 0.25 } },
        entry_order: { type: 'limit', offset_pct: 0.02, valid_bars: 3 },
      }),
    )
    expect(r.fills).toEqual([fill('t2', 'buy', 10, 96, 'entry'), fill('t3', 'sell', 10, 120, 'take_profit')])
    expect(r.cash).toBe(10240)
    expect(r.position).toBeNull()
  })

  it('limit short entry: sells at L = C·(1 + offset) when the high reaches it, or at a gap open above', () => {
    // L = 100·1.02 = 102; valid_bars defaults to 1 (works on t1 only).
    const cfg = config({ costs: SLIP, entry: short100, entry_order: { type: 'limit', offset_pct: 0.02 } })
    // t1: O 101 < 102, high 102.5 ≥ 102 → sell 10 at 102 (no slippage): cash 10000 + 1020 = 11020.
    const intrabar = referenceBroker(
      series([
        [100, 101, 99, 100],
        [101, 102.5, 100, 101],
      ]),
      cfg,
    )
    expect(intrabar.fills).toEqual([fill('t1', 'sell', 10, 102, 'entry')])
    expect(intrabar.cash).toBe(11020)
    expect(intrabar.position).toEqual({ side: 'short', qty: 10 })
    // t1 opens 103 ≥ 102 → sell at 103: cash 11030.
    const gap = referenceBroker(
      series([
        [100, 101, 99, 100],
        [103, 104, 101, 102],
      ]),
      cfg,
    )
    expect(gap.fills).toEqual([fill('t1', 'sell', 10, 103, 'entry')])
    expect(gap.cash).toBe(11030)
  })

  it('stop buy: breakout at S and gap open above S, both with slippage; stop sell mirrored', () => {
    // S = 100·1.01 = 101, slippage 10 bps.
    const cfg = config({ costs: SLIP, entry: long100, entry_order: { type: 'stop', offset_pct: 0.01 } })
    // t1: O 100 < 101, high 101.5 ≥ 101 → buy at 101·1.001 = 101.101: cash 10000 − 1011.01 = 8988.99.
    const breakout = referenceBroker(
      series([
        [100, 101, 99, 100],
        [100, 101.5, 99.5, 101],
      ]),
      cfg,
    )
    expect(breakout.fills.map((f) => [f.ts, f.side, f.qty, f.reason])).toEqual([['t1', 'buy', 10, 'entry']])
    expect(breakout.fills[0]!.price).toBeCloseTo(101.101, 10)
    expect(breakout.cash).toBeCloseTo(8988.99, 10)
    // t1 opens 103 ≥ 101 → buy at 103·1.001 = 103.103: cash 10000 − 1031.03 = 8968.97.
    const gap = referenceBroker(
      series([
        [100, 101, 99, 100],
        [103, 104, 102, 103],
      ]),
      cfg,
    )
    expect(gap.fills[0]!.price).toBeCloseTo(103.103, 10)
    expect(gap.cash).toBeCloseTo(8968.97, 10)
    // Short: S = 100·0.99 = 99. t1: O 100 > 99, low 98.5 ≤ 99 → sell at 99·0.999 = 98.901:
    // cash 10000 + 989.01 = 10989.01.
    const short = referenceBroker(
      series([
        [100, 101, 99.5, 100],
        [100, 100.5, 98.5, 99],
      ]),
      config({ costs: SLIP, entry: short100, entry_order: { type: 'stop', offset_pct: 0.01 } }),
    )
    expect(short.fills.map((f) => [f.ts, f.side, f.reason])).toEqual([['t1', 'sell', 'entry']])
    expect(short.fills[0]!.price).toBeCloseTo(98.901, 10)
    expect(short.cash).toBeCloseTo(10989.01, 10)
  })

  // stop_limit long: S = 100·1.01 = 101, L = 101·1.005 = 101.505; slippage 10 bps never applies.
  const stopLimit = (valid_bars: number) =>
    config({
      costs: SLIP,
      entry: long100,
      entry_order: { type: 'stop_limit', offset_pct: 0.01, limit_offset_pct: 0.005, valid_bars },
    })

  it('stop_limit triggered inside the bar fills at S without slippage', () => {
    // t1: O 100 < 101, high 102 ≥ 101 → buy at 101: cash 10000 − 1010 = 8990.
    const r = referenceBroker(
      series([
        [100, 101, 99, 100],
        [100, 102, 99.5, 101.8],
      ]),
      stopLimit(1),
    )
    expect(r.fills).toEqual([fill('t1', 'buy', 10, 101, 'entry')])
    expect(r.cash).toBe(8990)
  })

  it('stop_limit triggered at a gap open beyond the limit: no fill that bar, later a limit at L', () => {
    // t1: O 103 ≥ 101 → triggered at the open; O 103 > L and low 102 > L → no fill, stays triggered.
    const head: OHLC[] = [
      [100, 101, 99, 100],
      [103, 104, 102, 103],
    ]
    // t2: O 102 > L, low 101 ≤ 101.505 → buy at L = 101.505 (no slippage): cash 10000 − 1015.05 = 8984.95.
    const later = referenceBroker(series([...head, [102, 102.5, 101, 101.8]]), stopLimit(3))
    expect(later.fills.map((f) => [f.ts, f.side, f.qty, f.reason])).toEqual([['t2', 'buy', 10, 'entry']])
    expect(later.fills[0]!.price).toBeCloseTo(101.505, 10)
    expect(later.cash).toBeCloseTo(8984.95, 10)
    // The triggered state sticks: t2 never reaches S (high 100.8 < 101), but as a limit O 100.5 ≤ L
    // → buy at the open 100.5: cash 10000 − 1005 = 8995.
    const sticky = referenceBroker(series([...head, [100.5, 100.8, 100.2, 100.6]]), stopLimit(3))
    expect(sticky.fills).toEqual([fill('t2', 'buy', 10, 100.5, 'entry')])
    expect(sticky.cash).toBe(8995)
    // With valid_bars 1 the t1 bar is the last: expired at t1, nothing filled.
    const once = referenceBroker(series([...head, [102, 102.5, 101, 101.8]]), stopLimit(1))
    expect(once.fills).toEqual([])
    expect(once.expired).toEqual([{ ts: 't1' }])
  })

  it('stop_limit expiry after valid_bars without a fill; a later entry signal works again', () => {
    // valid_bars 2: works t1, t2. t1, t2: O < 101 and high < 101 → nothing.
    // After t2's check it expires (expired t2). t2 closes 100 but is a working bar → that signal is
    // ignored (otherwise a new order would work on t3 and fill there at 101, t3's high being 101.5).
    // t3 (no order working) closes 100 → new order S 101, L 101.505 working on t4.
    // t4: O 100.5 < 101, high 101.2 ≥ 101 → buy at 101: cash 8990.
    const bars = series([
      [100, 100.5, 99.5, 100],
      [100, 100.8, 99.6, 100.2],
      [100.2, 100.9, 99.8, 100],
      [100, 101.5, 99.7, 100],
      [100.5, 101.2, 100.3, 101],
    ])
    const r = referenceBroker(bars, stopLimit(2))
    expect(r.expired).toEqual([{ ts: 't2' }])
    expect(r.fills).toEqual([fill('t4', 'buy', 10, 101, 'entry')])
    expect(r.cash).toBe(8990)
    // Cut after t3: the expiry is recorded, no fill; the t3 order still working at the end is
    // dropped (not counted as expired).
    const cut = referenceBroker(bars.slice(0, 4), stopLimit(2))
    expect(cut.fills).toEqual([])
    expect(cut.expired).toEqual([{ ts: 't2' }])
    expect(cut.cash).toBe(10000)
    expect(cut.position).toBeNull()
  })

  it('signals are ignored while the order works; the fill bar proceeds as usual', () => {
    // Limit long, L = 98, valid_bars 3; entry.long close ≥ 100, entry.short close < 95, exit.long
    // close < 96.
    // t1: low 99 > 98, no fill; closes 94 → short signal ignored (no cancel, no reversal).
    // t2: low 98.5 > 98, no fill; closes 104 → long signal ignored (a new order at
    //     L = 104·0.98 = 101.92 would have filled at t3's open 99).
    // t3: low 95 ≤ 98 → buy 10 at 98 (cash 9020); the bar proceeds: close 95.5 < 96 → exit.long.
    // t4: sell 10 at the open 96 (signal): cash 9020 + 960 = 9980.
    const bars = series([
      [100, 101, 99, 100],
      [99.5, 100, 99, 94],
      [99, 105, 98.5, 104],
      [99, 99.5, 95, 95.5],
      [96, 97, 95.5, 96],
    ])
    const r = referenceBroker(
      bars,
      config({
        entry: { long: { gte: ['close', 100] }, short: { lt: ['close', 95] } },
        exit: { long: { lt: ['close', 96] } },
        entry_order: { type: 'limit', offset_pct: 0.02, valid_bars: 3 },
      }),
    )
    expect(r.fills).toEqual([fill('t3', 'buy', 10, 98, 'entry'), fill('t4', 'sell', 10, 96, 'signal')])
    expect(r.exits).toEqual([{ ts: 't4', reason: 'signal' }])
    expect(r.expired).toEqual([])
    expect(r.cash).toBe(9980)
    expect(r.position).toBeNull()
  })

  it('a limit fill the cash cannot cover is skipped; the order ends and that bar proceeds', () => {
    // cash 1000, qty 10, commission_min 10; L = C = 100 (offset 0).
    // t1: O 100.5 > 100, low 99.5 ≤ 100 → at 100: 1000 + 10 = 1010 > 1000 → skipped (not expired).
    //     t1 closes 100 → a new order, L = 100, works on t2.
    // t2: O 99 ≤ 100 → buy at 99: 990 + 10 = 1000 ≤ 1000 → filled, cash 0.
    const bars = series([
      [100, 101, 99, 100],
      [100.5, 101, 99.5, 100],
      [99, 100, 98, 99],
    ])
    const r = referenceBroker(bars, config({ cash: 1000, costs: { ...NO_COSTS, commission_min: 10 }, entry: long100, entry_order: { type: 'limit' } }))
    expect(r.fills).toEqual([fill('t2', 'buy', 10, 99, 'entry', 10)])
    expect(r.expired).toEqual([])
    expect(r.cash).toBe(0)
  })
})
