import { describe, expect, it } from 'vitest'
import { consensus, targetHolding } from '../../actors/lib/gayed/consensus.js'
import { dayOf, MAX_PENDING_DAYS, newGayedState, updateGayed, type GayedEvaluation, type GayedState } from '../../actors/lib/gayed/days.js'
import { lumberGold, sp500Ma, treasuryCurve, utilitiesSpy, vixDefensive, type GayedSignal } from '../../actors/lib/gayed/signals.js'

/** n closes: `start` everywhere except the last, which is `end` (only the endpoints matter to returns). */
const jump = (n: number, start: number, end: number): number[] => [...Array<number>(n - 1).fill(start), end]
const flat = (n: number, v = 100): number[] => Array<number>(n).fill(v)

describe('utilitiesSpy (21 days)', () => {
  it('XLU +10% while SPY is flat → Risk-Off, Strong, confidence 1', () => {
    const s = utilitiesSpy(jump(22, 100, 110), flat(22))!
    expect(s).toMatchObject({ name: 'utilities_spy', signal: 'Risk-Off', strength: 'Strong', confidence: 1 })
    expect(s.value).toBeCloseTo(1.1, 14)
  })
  it('SPY +3% while XLU is flat → Risk-On, Moderate', () => {
    const s = utilitiesSpy(flat(22), jump(22, 100, 103))!
    // ratio 1/1.03 = 0.970874; d = 0.029126 → Moderate (> 0.02), confidence 10·d
    expect(s.signal).toBe('Risk-On')
    expect(s.strength).toBe('Moderate')
    expect(s.value).toBeCloseTo(1 / 1.03, 14)
    expect(s.confidence).toBeCloseTo(10 * (1 - 1 / 1.03), 12)
  })
  it('ratio exactly 1 is Risk-On (strictly > 1 for Risk-Off), Weak, confidence 0', () => {
    expect(utilitiesSpy(flat(22), flat(22))).toEqual({ name: 'utilities_spy', signal: 'Risk-On', value: 1, strength: 'Weak', confidence: 0 })
  })
  it('XLU +1.5% → Weak, confidence 0.15', () => {
    const s = utilitiesSpy(jump(22, 100, 101.5), flat(22))!
    expect(s.signal).toBe('Risk-Off')
    expect(s.strength).toBe('Weak')
    expect(s.confidence).toBeCloseTo(0.15, 12)
  })
  it('looks back exactly 21 closes: older history does not matter', () => {
    const xlu = [50, 70, 90, ...jump(22, 100, 110)]
    expect(utilitiesSpy(xlu, [1, 2, 3, ...flat(22)])!.value).toBeCloseTo(1.1, 14)
  })
  it('needs 22 closes of each', () => {
    expect(utilitiesSpy(flat(21), flat(22))).toBeNull()
    expect(utilitiesSpy(flat(22), flat(21))).toBeNull()
  })
})

describe('lumberGold (91 days)', () => {
  it('WOOD +10%, GLD flat → Risk-On, Moderate, confidence 0.5', () => {
    const s = lumberGold(jump(92, 100, 110), flat(92))!
    expect(s.signal).toBe('Risk-On')
    expect(s.strength).toBe('Moderate') // 0.05 < 0.1 ≤ 0.15
    expect(s.value).toBeCloseTo(1.1, 14)
    expect(s.confidence).toBeCloseTo(0.5, 12)
  })
  it('GLD +20%, WOOD flat → Risk-Off, Strong', () => {
    const s = lumberGold(flat(92), jump(92, 100, 120))!
    // LG = 1/1.2 = 0.8333; d = 0.1667 > 0.15; confidence 5·d = 0.8333
    expect(s.signal).toBe('Risk-Off')
    expect(s.strength).toBe('Strong')
    expect(s.confidence).toBeCloseTo(5 * (1 - 1 / 1.2), 12)
  })
  it('LG exactly 1 is Risk-Off (Risk-On needs > 1)', () => {
    expect(lumberGold(flat(92), flat(92))).toMatchObject({ signal: 'Risk-Off', strength: 'Weak', confidence: 0 })
  })
  it('needs 92 closes', () => {
    expect(lumberGold(flat(91), flat(92))).toBeNull()
  })
})

describe('treasuryCurve (21 days)', () => {
  it('exactly 1.005 and exactly 0.995 are Neutral', () => {
    const up = treasuryCurve(jump(22, 100, 100.5), flat(22))!
    expect(up.value).toBe(1.005)
    expect(up.signal).toBe('Neutral')
    expect(up.strength).toBe('Weak')
    expect(up.confidence).toBeCloseTo(0.25, 12) // 50·0.005
    const down = treasuryCurve(jump(22, 100, 99.5), flat(22))!
    expect(down.value).toBe(0.995)
    expect(down.signal).toBe('Neutral')
  })
  it('IEF +0.8% → Risk-On, Weak, confidence 0.4', () => {
    const s = treasuryCurve(jump(22, 100, 100.8), flat(22))!
    expect(s).toMatchObject({ signal: 'Risk-On', strength: 'Weak' })
    expect(s.confidence).toBeCloseTo(0.4, 12)
  })
  it('IEF +1.2% → Moderate; return spread > 1% boosts confidence ×1.2', () => {
    const s = treasuryCurve(jump(22, 100, 101.2), flat(22))!
    expect(s).toMatchObject({ signal: 'Risk-On', strength: 'Moderate' })
    expect(s.confidence).toBeCloseTo(0.6 * 1.2, 12)
  })
  it('TLT +1.5% → Risk-Off, Moderate, ×1.2', () => {
    const s = treasuryCurve(flat(22), jump(22, 100, 101.5))!
    const d = 1 - 1 / 1.015
    expect(s).toMatchObject({ signal: 'Risk-Off', strength: 'Moderate' })
    expect(s.confidence).toBeCloseTo(50 * d * 1.2, 12)
  })
  it('a > 5% bond move boosts Risk-Off confidence ×1.3, not Risk-On', () => {
    // IEF +5.3%, TLT +6%: ratio 1.053/1.06 = 0.99340 → Risk-Off, Weak; spread 0.007 (no ×1.2)
    const off = treasuryCurve(jump(22, 100, 105.3), jump(22, 100, 106))!
    const d = 1 - 1.053 / 1.06
    expect(off).toMatchObject({ signal: 'Risk-Off', strength: 'Weak' })
    expect(off.confidence).toBeCloseTo(50 * d * 1.3, 12)
    const on = treasuryCurve(jump(22, 100, 106), jump(22, 100, 105.3))!
    expect(on.signal).toBe('Risk-On')
    expect(on.confidence).toBeCloseTo(50 * (1.06 / 1.053 - 1), 12)
  })
  it('Strong beyond 2%, confidence capped at 1, floor 0.1', () => {
    expect(treasuryCurve(jump(22, 100, 103), flat(22))).toMatchObject({ signal: 'Risk-On', strength: 'Strong', confidence: 1 })
    expect(treasuryCurve(flat(22), flat(22))).toMatchObject({ signal: 'Neutral', strength: 'Weak', confidence: 0.1, value: 1 })
  })
  it('needs 22 closes', () => {
    expect(treasuryCurve(flat(21), flat(21))).toBeNull()
  })
})

describe('vixDefensive (12.5)', () => {
  const v = (x: number): GayedSignal => vixDefensive([20, 15, x])!
  it('exactly 12.5 is Risk-On (Risk-Off needs < 12.5), Weak, confidence floor 0.1', () => {
    expect(v(12.5)).toEqual({ name: 'vix_defensive', signal: 'Risk-On', value: 12.5, strength: 'Weak', confidence: 0.1 })
  })
  it('just below 12.5 is Risk-Off', () => {
    expect(v(12.49)).toMatchObject({ signal: 'Risk-Off', strength: 'Weak', confidence: 0.1 })
  })
  it('by hand', () => {
    // 11: rel 0.12 → Weak, 0.24
    expect(v(11).signal).toBe('Risk-Off')
    expect(v(11).strength).toBe('Weak')
    expect(v(11).confidence).toBeCloseTo(0.24, 12)
    // 9.5: rel 0.24 → Moderate, 0.48 × 1.5 (VIX < 10) = 0.72
    expect(v(9.5).strength).toBe('Moderate')
    expect(v(9.5).confidence).toBeCloseTo(0.72, 12)
    // 8: rel 0.36 → Moderate, 0.72 × 1.5 → capped at 1
    expect(v(8)).toMatchObject({ signal: 'Risk-Off', strength: 'Moderate', confidence: 1 })
    // 16: rel 0.28 → Moderate, 0.56, Risk-On
    expect(v(16).signal).toBe('Risk-On')
    expect(v(16).strength).toBe('Moderate')
    expect(v(16).confidence).toBeCloseTo(0.56, 12)
    // 18: rel 0.44 → Strong, 0.88
    expect(v(18).strength).toBe('Strong')
    expect(v(18).confidence).toBeCloseTo(0.88, 12)
    expect(v(35)).toMatchObject({ signal: 'Risk-On', strength: 'Strong', confidence: 1 })
  })
  it('values outside (0, 200) are dropped; the latest valid one counts', () => {
    expect(vixDefensive([14, 250])).toMatchObject({ value: 14, signal: 'Risk-On' })
    expect(vixDefensive([11, 0])).toMatchObject({ value: 11, signal: 'Risk-Off' })
    expect(vixDefensive([])).toBeNull()
    expect(vixDefensive([300])).toBeNull()
  })
})

describe('sp500Ma (50/200)', () => {
  it('above both → Risk-On', () => {
    // 200 × 100 then 110: SMA50 = (49·100 + 110)/50 = 100.2, SMA200 = (199·100 + 110)/200 = 100.05
    const s = sp500Ma(jump(201, 100, 110))!
    const avg = (((110 - 100.2) / 100.2) * 100 + ((110 - 100.05) / 100.05) * 100) / 2 // 9.86
    expect(avg).toBeGreaterThan(5)
    expect(s).toMatchObject({ signal: 'Risk-On', strength: 'Strong', confidence: 1 })
    expect(s.value).toBeCloseTo(110 / 100.05, 12)
  })
  it('below both → Risk-Off', () => {
    const s = sp500Ma(jump(201, 100, 90))!
    expect(s).toMatchObject({ signal: 'Risk-Off', strength: 'Strong', confidence: 1 })
  })
  it('a small move: Moderate, 0.6 + avg/10', () => {
    // 200 × 100 then 103: SMA50 = 100.06, SMA200 = 100.015
    const s = sp500Ma(jump(201, 100, 103))!
    const avg = (((103 - 100.06) / 100.06) * 100 + ((103 - 100.015) / 100.015) * 100) / 2 // 2.94
    expect(s.signal).toBe('Risk-On')
    expect(s.strength).toBe('Moderate')
    expect(s.confidence).toBeCloseTo(0.6 + avg / 10, 12)
  })
  it('between the averages → Neutral, max(0.1, 0.5 − avg/20)', () => {
    // 151 × 120, 49 × 100, then 104. Last 200: 150·120 + 49·100 + 104 = 23004 → SMA200 = 115.02;
    // last 50: 49·100 + 104 = 5004 → SMA50 = 100.08. 100.08 < 104 < 115.02.
    const xs = [...flat(151, 120), ...flat(49, 100), 104]
    const s = sp500Ma(xs)!
    const d50 = ((104 - 100.08) / 100.08) * 100 // +3.9169
    const d200 = ((104 - 115.02) / 115.02) * 100 // −9.5809
    const avg = Math.abs((d50 + d200) / 2) // 2.8320
    expect(s.signal).toBe('Neutral')
    expect(s.strength).toBe('Moderate')
    expect(s.confidence).toBeCloseTo(0.5 - avg / 20, 12)
    expect(s.value).toBeCloseTo(104 / 115.02, 12)
  })
  it('a flat market (price = both averages) is not above them → Risk-Off, Weak, 0.6', () => {
    expect(sp500Ma(flat(201))).toEqual({ name: 'sp500_ma', signal: 'Risk-Off', value: 1, strength: 'Weak', confidence: 0.6 })
  })
  it('needs 201 closes', () => {
    expect(sp500Ma(flat(200))).toBeNull()
  })
})

const sig = (signal: GayedSignal['signal'], strength: GayedSignal['strength'], confidence: number): GayedSignal => ({
  name: 'utilities_spy',
  signal,
  strength,
  confidence,
  value: 1,
})

describe('consensus', () => {
  it('weights by hand', () => {
    // on: 0.5·0.75 + 0.56·0.75 + 1·1 = 0.375 + 0.42 + 1 = 1.795 → /5 = 0.359; off: 1·1 / 5 = 0.2
    const c = consensus([
      sig('Risk-Off', 'Strong', 1),
      sig('Risk-On', 'Moderate', 0.5),
      sig('Neutral', 'Weak', 0.25),
      sig('Risk-On', 'Moderate', 0.56),
      sig('Risk-On', 'Strong', 1),
    ])
    expect(c.risk_on_weight).toBeCloseTo(0.359, 12)
    expect(c.risk_off_weight).toBeCloseTo(0.2, 12)
    expect(c.consensus).toBe('Risk-On')
    expect(c.confidence).toBeCloseTo(0.5 + 0.159, 12)
    expect(c).toMatchObject({ risk_on_count: 3, risk_off_count: 1, valid_signals: 5 })
  })
  it('difference < 0.10 → Mixed with confidence 1 − 2·diff', () => {
    // on: (1 + 0.24·0.5)/3 = 0.37333, off: 1/3 → diff 0.04
    const c = consensus([sig('Risk-Off', 'Strong', 1), sig('Risk-On', 'Strong', 1), sig('Risk-On', 'Weak', 0.24)])
    expect(c.consensus).toBe('Mixed')
    expect(c.confidence).toBeCloseTo(1 - 2 * 0.04, 12)
  })
  it('difference exactly 0.10 is not Mixed; fewer than 3 signals ×0.8', () => {
    const c = consensus([sig('Risk-On', 'Weak', 0.2)]) // 0.2·0.5 / 1 = 0.1
    expect(c.risk_on_weight).toBe(0.1)
    expect(c.consensus).toBe('Risk-On')
    expect(c.confidence).toBeCloseTo(0.6 * 0.8, 12)
  })
  it('strong consensus: ×1.2 above 0.30, capped at 1', () => {
    // off: (1 + 1 + 0.8·0.75)/4 = 0.65, on 0 → min(0.9, 1.15) = 0.9, ×1.2 → 1
    const c = consensus([sig('Risk-Off', 'Strong', 1), sig('Risk-Off', 'Strong', 1), sig('Risk-Off', 'Moderate', 0.8), sig('Neutral', 'Weak', 0.1)])
    expect(c.consensus).toBe('Risk-Off')
    expect(c.risk_off_weight).toBeCloseTo(0.65, 12)
    expect(c.confidence).toBe(1)
    // two strong agreeing signals: 1 → 1 (capped) → ×0.8
    expect(consensus([sig('Risk-On', 'Strong', 1), sig('Risk-On', 'Strong', 1)]).confidence).toBeCloseTo(0.8, 12)
  })
  it('Neutral signals dilute: they count in the divisor only', () => {
    // on: 0.5·0.75 / 3 = 0.125 → Risk-On, diff 0.125 → 0.625
    const c = consensus([sig('Risk-On', 'Moderate', 0.5), sig('Neutral', 'Weak', 0.1), sig('Neutral', 'Strong', 1)])
    expect(c.risk_on_weight).toBeCloseTo(0.125, 12)
    expect(c.consensus).toBe('Risk-On')
    expect(c.confidence).toBeCloseTo(0.625, 12)
  })
  it('nulls are dropped; none left → Mixed, confidence 0', () => {
    expect(consensus([null, null])).toMatchObject({ consensus: 'Mixed', confidence: 0, valid_signals: 0 })
    expect(consensus([null, sig('Risk-On', 'Strong', 1)]).valid_signals).toBe(1)
  })
  it('a lone Neutral signal: Mixed, 1 × 0.8', () => {
    expect(consensus([sig('Neutral', 'Weak', 0.1)])).toMatchObject({ consensus: 'Mixed', confidence: 0.8 })
  })
})

describe('targetHolding', () => {
  it('SPY in Risk-On, the defensive symbol in Risk-Off, unchanged (null) in Mixed', () => {
    expect(targetHolding('Risk-On', 'XLU')).toBe('SPY')
    expect(targetHolding('Risk-Off', 'XLU')).toBe('XLU')
    expect(targetHolding('Mixed', 'XLU')).toBeNull()
    expect(targetHolding(consensus([sig('Risk-Off', 'Strong', 1)]), 'TLT')).toBe('TLT')
    expect(targetHolding('Risk-On', 'TLT', 'VOO')).toBe('VOO')
  })
})

// --- the rolling state --------------------------------------------------------------------------

const SYMBOLS = ['SPY', 'XLU', 'WOOD', 'GLD', 'IEF', 'TLT', 'VIX'] as const
type Sym = (typeof SYMBOLS)[number]
type Day = Record<Sym, number>

const dayTs = (i: number): string => new Date(Date.UTC(2023, 0, 2) + i * 86_400_000).toISOString()

/** A deterministic pseudo-random market of n days. */
function market(n: number, seed = 7): Day[] {
  let x = seed
  const rand = (): number => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  const px: Day = { SPY: 400, XLU: 70, WOOD: 80, GLD: 180, IEF: 95, TLT: 100, VIX: 15 }
  const out: Day[] = []
  for (let i = 0; i < n; i++) {
    for (const s of SYMBOLS) px[s] = s === 'VIX' ? Math.max(9, Math.min(40, px[s] + (rand() - 0.5) * 2)) : px[s] * (1 + (rand() - 0.5) * 0.03)
    out.push({ ...px })
  }
  return out
}

type Bar = [Sym, string, number]

function feed(state: GayedState, bars: Bar[]): GayedEvaluation[] {
  const out: GayedEvaluation[] = []
  for (const [s, ts, c] of bars) {
    const step = updateGayed(state, s, ts, c)
    if (step.evaluation) out.push(step.evaluation)
  }
  return out
}

const inOrder = (days: Day[]): Bar[] => days.flatMap((d, i) => SYMBOLS.map((s): Bar => [s, dayTs(i), d[s]]))

function shuffled<T>(xs: T[], seed: number): T[] {
  const a = [...xs]
  let x = seed
  for (let i = a.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31
    const j = x % (i + 1)
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a
}

describe('updateGayed', () => {
  it('evaluates a day when its last symbol arrives; signals appear as their history fills', () => {
    const days = market(205)
    const st = newGayedState()
    expect(st.required).toEqual(['GLD', 'IEF', 'SPY', 'TLT', 'VIX', 'WOOD', 'XLU'])
    const bars = inOrder(days)
    // the first day: six symbols pending, the seventh completes it
    for (const b of bars.slice(0, 6)) expect(updateGayed(st, ...b).note).toBe('pending')
    const first = updateGayed(st, ...bars[6]!)
    expect(first.note).toBe('evaluated')
    expect(first.evaluation!.day).toBe('2023-01-02')
    expect(first.evaluation!.signals.vix_defensive).not.toBeNull()
    expect(first.evaluation!.signals.utilities_spy).toBeNull()
    const evals = [first.evaluation!, ...feed(st, bars.slice(7))]
    expect(evals).toHaveLength(205)
    const has = (i: number, name: keyof GayedEvaluation['signals']): boolean => evals[i]!.signals[name] !== null
    expect([has(20, 'utilities_spy'), has(21, 'utilities_spy')]).toEqual([false, true]) // 22nd day
    expect([has(20, 'treasury_curve'), has(21, 'treasury_curve')]).toEqual([false, true])
    expect([has(90, 'lumber_gold'), has(91, 'lumber_gold')]).toEqual([false, true]) // 92nd day
    expect([has(199, 'sp500_ma'), has(200, 'sp500_ma')]).toEqual([false, true]) // 201st day
    expect(evals[0]!.consensus.valid_signals).toBe(1)
    expect(evals[204]!.consensus.valid_signals).toBe(5)
    // windows never grow past the longest need
    expect(st.capacity).toBe(201)
    for (const s of SYMBOLS) expect(st.closes[s]).toHaveLength(201)
    expect(st.pending).toEqual({})
    // the windows' signals equal the pure functions over the whole history
    const last = evals[204]!
    const col = (s: Sym): number[] => days.map((d) => d[s])
    expect(last.signals.sp500_ma).toEqual(sp500Ma(col('SPY')))
    expect(last.signals.utilities_spy).toEqual(utilitiesSpy(col('XLU'), col('SPY')))
    expect(last.signals.lumber_gold).toEqual(lumberGold(col('WOOD'), col('GLD')))
    expect(last.signals.treasury_curve).toEqual(treasuryCurve(col('IEF'), col('TLT')))
    expect(last.signals.vix_defensive).toEqual(vixDefensive(col('VIX')))
  })

  it('a crafted market gives the known answer', () => {
    // 200 days of everything flat, then SPY +10% and VIX 20 on day 201.
    // utilities: ratio 1/1.1 → Risk-On, Strong, 10·(1 − 1/1.1) = 0.909; lumber: 1 → Risk-Off, Weak, 0;
    // treasury: 1 → Neutral, 0.1; VIX 20: rel 0.6 → Risk-On, Strong, 1; MA: Risk-On, Strong, 1.
    // on = (0.909 + 1 + 1)/5 = 0.5818, off = 0 → Risk-On, min(0.9, 1.08) × 1.2 → 1.
    const st = newGayedState()
    const base: Day = { SPY: 100, XLU: 50, WOOD: 80, GLD: 180, IEF: 95, TLT: 100, VIX: 15 }
    const days: Day[] = [...Array(200)].map(() => ({ ...base }))
    days.push({ ...base, SPY: 110, VIX: 20 })
    const evals = feed(st, inOrder(days))
    const e = evals[200]!
    expect(e.signals.utilities_spy).toMatchObject({ signal: 'Risk-On', strength: 'Strong' })
    expect(e.signals.utilities_spy!.confidence).toBeCloseTo(10 * (1 - 1 / 1.1), 12)
    expect(e.signals.lumber_gold).toMatchObject({ signal: 'Risk-Off', strength: 'Weak', confidence: 0 })
    expect(e.signals.treasury_curve).toMatchObject({ signal: 'Neutral', confidence: 0.1 })
    expect(e.signals.vix_defensive).toMatchObject({ signal: 'Risk-On', strength: 'Strong', confidence: 1 })
    expect(e.signals.sp500_ma).toMatchObject({ signal: 'Risk-On', strength: 'Strong', confidence: 1 })
    expect(e.consensus.risk_on_weight).toBeCloseTo((10 * (1 - 1 / 1.1) + 2) / 5, 12)
    expect(e.consensus).toMatchObject({ consensus: 'Risk-On', confidence: 1, risk_on_count: 3, risk_off_count: 1, risk_off_weight: 0 })
    expect(targetHolding(e.consensus, 'XLU')).toBe('SPY')
    // the day before (200 closes: no MA yet): VIX 15 → rel exactly 0.2 → Weak, 0.4 (weight 0.2);
    // utilities ratio 1 → Risk-On, 0; lumber Risk-Off, 0; treasury Neutral.
    // on 0.2/4 = 0.05, off 0 → Mixed, 1 − 2·0.05 = 0.9
    const before = evals[199]!
    expect(before.signals.sp500_ma).toBeNull()
    expect(before.signals.vix_defensive).toMatchObject({ signal: 'Risk-On', strength: 'Weak', confidence: 0.4 })
    expect(before.consensus).toMatchObject({ consensus: 'Mixed', valid_signals: 4, risk_on_weight: 0.05 })
    expect(before.consensus.confidence).toBeCloseTo(0.9, 12)
    expect(targetHolding(before.consensus, 'XLU')).toBeNull()
  })

  it('does not depend on the order of one day’s bars, nor on interleaving across symbols', () => {
    const days = market(230, 11)
    const reference = newGayedState()
    const want = feed(reference, inOrder(days))
    // 1) each day's seven bars in a different order
    for (const seed of [1, 2, 3]) {
      const st = newGayedState()
      const bars = days.flatMap((d, i) =>
        shuffled(
          SYMBOLS.map((s): Bar => [s, dayTs(i), d[s]]),
          seed * 1000 + i,
        ),
      )
      expect(feed(st, bars)).toEqual(want)
      expect(st).toEqual(reference)
    }
    // 2) every symbol's bars in time order, but symbols drift apart: SPY runs 3 days ahead, VIX 2
    //    behind, …; then far apart (one partition's process ran the whole history before another's)
    for (const lag of [
      { SPY: -3, XLU: 0, WOOD: 1, GLD: -1, IEF: 2, TLT: 0, VIX: 2 },
      { SPY: -200, XLU: 0, WOOD: 0, GLD: -200, IEF: 0, TLT: -100, VIX: 5 },
    ] satisfies Record<Sym, number>[]) {
      const events = days.flatMap((d, i) => SYMBOLS.map((s) => ({ at: i + lag[s], s, bar: [s, dayTs(i), d[s]] as Bar })))
      events.sort((a, b) => a.at - b.at || SYMBOLS.indexOf(a.s) - SYMBOLS.indexOf(b.s))
      const st = newGayedState()
      expect(
        feed(
          st,
          events.map((e) => e.bar),
        ),
      ).toEqual(want)
      expect(st).toEqual(reference)
    }
  })

  it('a day one symbol never prints is dropped when a later day completes', () => {
    const days = market(30)
    const st = newGayedState()
    const bars = inOrder(days).filter(([s, ts]) => !(s === 'VIX' && ts === dayTs(5)))
    const evals = feed(st, bars)
    expect(evals).toHaveLength(29)
    expect(evals.map((e) => e.day)).not.toContain(dayOf(dayTs(5)))
    expect(evals[5]!.day).toBe(dayOf(dayTs(6)))
    expect(evals[5]!.dropped).toEqual([dayOf(dayTs(5))])
    expect(st.dropped_days).toBe(1)
    expect(st.days).toBe(29)
    for (const s of SYMBOLS) expect(st.closes[s]).toHaveLength(29) // aligned: day 5 left out everywhere
    // a late VIX bar for the dropped day is stale
    expect(updateGayed(st, 'VIX', dayTs(5), 14).note).toBe('stale')
  })

  it('notes what it ignores', () => {
    const st = newGayedState()
    expect(updateGayed(st, 'AAPL', dayTs(0), 100).note).toBe('unknown_symbol')
    expect(updateGayed(st, 'SPY', dayTs(0), 0).note).toBe('invalid_close')
    expect(updateGayed(st, 'SPY', dayTs(0), Number.NaN).note).toBe('invalid_close')
    expect(updateGayed(st, 'SPY', 'yesterday', 100).note).toBe('invalid_ts')
    expect(updateGayed(st, 'SPY', dayTs(0), 100).note).toBe('pending')
    expect(updateGayed(st, 'SPY', '2023-01-02T21:00:00Z', 101).note).toBe('duplicate') // same UTC day: first wins
    expect(st.pending['2023-01-02']).toEqual({ SPY: 100 })
    for (const s of ['XLU', 'WOOD', 'GLD', 'IEF', 'TLT']) updateGayed(st, s, dayTs(0), 50)
    expect(updateGayed(st, 'VIX', dayTs(0), 13).note).toBe('evaluated')
    expect(updateGayed(st, 'VIX', dayTs(0), 13).note).toBe('stale')
    expect(st.last_day).toBe('2023-01-02')
  })

  it('gives up the oldest incomplete days beyond ten years of them (a symbol that never prints)', () => {
    expect(MAX_PENDING_DAYS).toBe(2_520)
    const st = newGayedState()
    for (let i = 0; i < MAX_PENDING_DAYS + 8; i++) updateGayed(st, 'SPY', dayTs(i), 100) // nothing else ever arrives
    expect(Object.keys(st.pending)).toHaveLength(MAX_PENDING_DAYS)
    expect(st.dropped_days).toBe(8)
    expect(st.closed_through).toBe(dayOf(dayTs(7)))
    expect(updateGayed(st, 'XLU', dayTs(3), 50).note).toBe('stale')
  })

  it('switching a role off removes its signals and its symbols', () => {
    const st = newGayedState({ symbols: { wood: null, vix: 'VIXY' }, params: { ma_long: 100, ma_short: 20 } })
    expect(st.enabled).toEqual(['utilities_spy', 'treasury_curve', 'vix_defensive', 'sp500_ma'])
    expect(st.required).toEqual(['IEF', 'SPY', 'TLT', 'VIXY', 'XLU'])
    expect(st.capacity).toBe(101)
    const days = market(110)
    const bars: [string, string, number][] = days.flatMap((d, i) =>
      (['SPY', 'XLU', 'IEF', 'TLT', 'VIX'] as const).map((s): [string, string, number] => [s === 'VIX' ? 'VIXY' : s, dayTs(i), d[s]]),
    )
    let last: GayedEvaluation | null = null
    for (const b of bars) last = updateGayed(st, ...b).evaluation ?? last
    expect(Object.keys(last!.signals)).toEqual(['utilities_spy', 'treasury_curve', 'vix_defensive', 'sp500_ma'])
    expect(last!.signals.sp500_ma).toEqual(
      sp500Ma(
        days.map((d) => d.SPY),
        20,
        100,
      ),
    )
    expect(last!.consensus.valid_signals).toBe(4)
  })

  it('state survives a JSON round trip mid-stream and carries on identically', () => {
    const days = market(240, 5)
    const bars = inOrder(days)
    const cut = 150 * 7 + 3 // in the middle of a day, with bars pending
    const a = newGayedState()
    feed(a, bars.slice(0, cut))
    expect(Object.keys(a.pending)).toHaveLength(1)
    const b = JSON.parse(JSON.stringify(a)) as GayedState
    expect(b).toEqual(a)
    const rest = bars.slice(cut)
    expect(feed(b, rest)).toEqual(feed(a, rest))
    expect(b).toEqual(a)
  })
})
