import { describe, expect, it } from 'vitest'
import {
  brierAdjustment,
  brierAlerts,
  brierDegrading,
  brierLevel,
  brierScore,
  dpiEnhancement,
  forecastFromNg,
  healthStatus,
  narrativeGap,
  newBrier,
  newPhase5Stats,
  ngMultiplier,
  ngStrength,
  phase5Factors,
  phase5Metrics,
  phase5Size,
  predictionCount,
  recentAccuracy,
  recordForecast,
  recordIdea,
  recordOutcome,
  recordTrade,
  type BrierState,
} from '../../actors/lib/phase5.js'

/** Opens and closes one position per pair, in order: [forecast, won]. */
function tracked(pairs: [number, boolean][], window?: number): BrierState {
  const s = newBrier(window)
  pairs.forEach(([f, won], i) => {
    recordForecast(s, `p${i}`, f)
    recordOutcome(s, `p${i}`, won)
  })
  return s
}

describe('narrativeGap', () => {
  it('|c − d| ÷ price', () => {
    // trader-ai's own example: price 100, consensus 105, estimate 110 → 5/100.
    expect(narrativeGap(100, 105, 110)).toBeCloseTo(0.05, 15)
    expect(narrativeGap(100, 110, 105)).toBeCloseTo(0.05, 15)
    expect(narrativeGap(50, 50, 49)).toBe(1 / 50)
    expect(narrativeGap(200, 210, 210)).toBe(0)
  })
  it('0 when price ≤ 1', () => {
    expect(narrativeGap(1, 5, 1)).toBe(0)
    expect(narrativeGap(0.5, 5, 1)).toBe(0)
    expect(narrativeGap(0, 5, 1)).toBe(0)
    expect(narrativeGap(-10, 5, 1)).toBe(0)
    expect(narrativeGap(1.01, 1.01, 1)).toBeCloseTo(0.01 / 1.01, 15)
  })
  it('capped at 1', () => {
    expect(narrativeGap(10, 100, 0)).toBe(1)
    expect(narrativeGap(10, 20, 10)).toBe(1) // exactly 1
    expect(narrativeGap(10, 19, 10)).toBe(0.9)
  })
  it('0 for non-finite inputs', () => {
    expect(narrativeGap(Number.NaN, 1, 2)).toBe(0)
    expect(narrativeGap(100, Number.NaN, 2)).toBe(0)
    expect(narrativeGap(100, 1, Number.POSITIVE_INFINITY)).toBe(0)
    expect(narrativeGap(Number.POSITIVE_INFINITY, 1, 2)).toBe(0)
  })
})

describe('ngMultiplier / ngStrength / forecastFromNg', () => {
  it('clamp(1 + NG, 1, 2)', () => {
    expect(ngMultiplier(0)).toBe(1)
    expect(ngMultiplier(0.05)).toBe(1.05)
    expect(ngMultiplier(1)).toBe(2)
    expect(ngMultiplier(1.5)).toBe(2)
    expect(ngMultiplier(-0.3)).toBe(1)
    expect(ngMultiplier(Number.NaN)).toBe(1)
  })
  it('weak < 0.02 ≤ moderate < 0.05 ≤ strong', () => {
    expect(ngStrength(0)).toBe('weak')
    expect(ngStrength(0.0199)).toBe('weak')
    expect(ngStrength(0.02)).toBe('moderate')
    expect(ngStrength(0.0499)).toBe('moderate')
    expect(ngStrength(0.05)).toBe('strong')
    expect(ngStrength(1)).toBe('strong')
    expect(ngStrength(Number.NaN)).toBe('weak')
  })
  it('min(0.9, 10·|NG|)', () => {
    expect(forecastFromNg(0)).toBe(0)
    expect(forecastFromNg(0.05)).toBe(0.5)
    expect(forecastFromNg(0.09)).toBeCloseTo(0.9, 15) // 0.8999999999999999
    expect(forecastFromNg(0.2)).toBe(0.9)
    expect(forecastFromNg(-0.03)).toBeCloseTo(0.3, 15)
    expect(forecastFromNg(Number.NaN)).toBe(0)
  })
})

describe('Brier tracker', () => {
  it('empty: score 0.5, adjustment 0.5, accuracy 0.5, no alerts, healthy', () => {
    const s = newBrier()
    expect(brierScore(s)).toBe(0.5)
    expect(brierAdjustment(s)).toBe(0.5)
    expect(recentAccuracy(s)).toBe(0.5)
    expect(predictionCount(s)).toBe(0)
    expect(brierAlerts(s)).toEqual([])
    expect(healthStatus(s)).toBe('healthy')
  })

  it('mean((f − o)²) by hand', () => {
    // simple_brier.py's own example: (0.8,1) (0.3,0) (0.9,0) (0.2,1) (0.6,1)
    // errors² 0.04 + 0.09 + 0.81 + 0.64 + 0.16 = 1.74 → 0.348; correct (f≥0.5 ⇔ o): 1,1,0,0,1 → 0.6
    const s = tracked([
      [0.8, true],
      [0.3, false],
      [0.9, false],
      [0.2, true],
      [0.6, true],
    ])
    expect(brierScore(s)).toBeCloseTo(0.348, 15)
    expect(brierAdjustment(s)).toBeCloseTo(0.652, 15)
    expect(recentAccuracy(s)).toBeCloseTo(0.6, 15)
    expect(predictionCount(s)).toBe(5)
  })

  it('a forecast of exactly 0.5 counts as predicting a win', () => {
    expect(recentAccuracy(tracked([[0.5, true]]))).toBe(1)
    expect(recentAccuracy(tracked([[0.5, false]]))).toBe(0)
  })

  it('the outcome waits for its position; unknown positions and second outcomes are ignored', () => {
    const s = newBrier()
    recordForecast(s, 'a', 0.9)
    recordForecast(s, 'b', 0.1)
    recordForecast(s, 'a', 0.2) // first forecast of a position wins
    expect(predictionCount(s)).toBe(0)
    recordOutcome(s, 'zzz', true)
    expect(predictionCount(s)).toBe(0)
    recordOutcome(s, 'b', true) // (0.1 − 1)² = 0.81
    expect(brierScore(s)).toBeCloseTo(0.81, 15)
    recordOutcome(s, 'b', false) // already closed
    expect(predictionCount(s)).toBe(1)
    recordOutcome(s, 'a', true) // (0.9 − 1)² = 0.01 → (0.81 + 0.01)/2
    expect(brierScore(s)).toBeCloseTo(0.41, 15)
    expect(s.pending).toEqual({})
    expect(s.forecasts).toEqual([0.1, 0.9])
    expect(s.outcomes).toEqual([1, 1])
  })

  it('rejects forecasts outside [0, 1]', () => {
    const s = newBrier()
    expect(() => recordForecast(s, 'x', 1.1)).toThrow(RangeError)
    expect(() => recordForecast(s, 'x', -0.1)).toThrow(RangeError)
    expect(() => recordForecast(s, 'x', Number.NaN)).toThrow(RangeError)
    expect(() => newBrier(0)).toThrow(RangeError)
  })

  it('the window rolls over after 100', () => {
    // 100 perfect predictions (f 0, lost), then 1 bad one (f 0.9, lost → 0.81): the window holds the
    // last 100 → 0.81/100; after 100 bad ones the perfect ones are all gone → 0.81.
    const pairs: [number, boolean][] = []
    for (let i = 0; i < 100; i++) pairs.push([0, false])
    const s = tracked(pairs)
    expect(predictionCount(s)).toBe(100)
    expect(brierScore(s)).toBe(0)
    expect(brierAdjustment(s)).toBe(1)
    recordForecast(s, 'bad0', 0.9)
    recordOutcome(s, 'bad0', false)
    expect(predictionCount(s)).toBe(100)
    expect(brierScore(s)).toBeCloseTo(0.0081, 15)
    for (let i = 1; i < 100; i++) {
      recordForecast(s, `bad${i}`, 0.9)
      recordOutcome(s, `bad${i}`, false)
    }
    expect(predictionCount(s)).toBe(100)
    expect(brierScore(s)).toBeCloseTo(0.81, 12)
    expect(s.forecasts.every((f) => f === 0.9)).toBe(true)
  })

  it('a smaller window rolls over too', () => {
    const s = tracked(
      [
        [1, false],
        [0, false],
        [0, false],
      ],
      2,
    ) // the (1, lost) falls out
    expect(brierScore(s)).toBe(0)
  })

  it('adjustment floors at 0.1', () => {
    const s = tracked([[1, false]]) // Brier 1
    expect(brierScore(s)).toBe(1)
    expect(brierAdjustment(s)).toBe(0.1)
    const t = tracked([
      [0.9, false],
      [0.9, false],
    ]) // Brier 0.81 → 0.19 (above the floor)
    expect(brierAdjustment(t)).toBeCloseTo(0.19, 15)
  })

  it('levels: > 0.28 warning, > 0.4 critical, strictly', () => {
    expect(brierLevel(0.28)).toBe('normal')
    expect(brierLevel(0.2800001)).toBe('warning')
    expect(brierLevel(0.4)).toBe('warning')
    expect(brierLevel(0.4000001)).toBe('critical')
    expect(brierLevel(0)).toBe('normal')
  })

  it('exactly 0.28 from a tracker is healthy, exactly 0.4 is a warning', () => {
    // errors² 0.04 + 0.16 + 0.64 = 0.84 → 0.28 exactly in binary floating point
    const a = tracked([
      [0.8, true],
      [0.6, true],
      [0.2, true],
    ])
    expect(brierScore(a)).toBe(0.28)
    expect(brierAlerts(a)).toEqual([])
    expect(healthStatus(a)).toBe('healthy')
    // 0.16 + 0.04 + 1 + 0.64 + 0.16 = 2 → 0.4 exactly; the scores go 0.16, 0.1, 0.4, 0.46, 0.4: not rising
    const b = tracked([
      [0.4, false],
      [0.2, false],
      [0, true],
      [0.8, false],
      [0.4, false],
    ])
    expect(brierScore(b)).toBe(0.4)
    expect(brierAlerts(b)).toEqual(['brier_warning'])
    expect(healthStatus(b)).toBe('warning')
    // one more miss pushes it over 0.4: (2 + 0.81)/6 = 0.468…
    recordForecast(b, 'more', 0.9)
    recordOutcome(b, 'more', false)
    expect(brierScore(b)).toBeCloseTo(2.81 / 6, 15)
    expect(brierAlerts(b)).toEqual(['brier_critical'])
    expect(healthStatus(b)).toBe('critical')
  })

  it('degrading: the last 5 scores strictly rising', () => {
    // scores after each outcome: 0.01, (0.01+0.09)/2 = 0.05, 0.19/3, 0.28/4 = 0.07, 0.37/5 = 0.074
    const pairs: [number, boolean][] = [
      [0.1, false],
      [0.3, false],
      [0.3, false],
      [0.3, false],
    ]
    const s = tracked(pairs)
    expect(s.scores).toHaveLength(4)
    expect(brierDegrading(s)).toBe(false) // only 4 so far
    recordForecast(s, 'x', 0.3)
    recordOutcome(s, 'x', false)
    expect(s.scores.map((x) => +x.toFixed(6))).toEqual([0.01, 0.05, 0.063333, 0.07, 0.074])
    expect(brierDegrading(s)).toBe(true)
    expect(brierScore(s)).toBeLessThan(0.28)
    expect(brierAlerts(s)).toEqual(['brier_degrading'])
    expect(healthStatus(s)).toBe('warning') // degrading alone ⇒ warning
    // a perfect prediction brings the score down: the run is broken
    recordForecast(s, 'y', 0)
    recordOutcome(s, 'y', false)
    expect(s.scores).toHaveLength(5)
    expect(brierDegrading(s)).toBe(false)
    expect(healthStatus(s)).toBe('healthy')
  })

  it('a flat run is not degrading', () => {
    const s = tracked([
      [0.5, true],
      [0.5, false],
      [0.5, true],
      [0.5, false],
      [0.5, true],
    ])
    expect(s.scores).toEqual([0.25, 0.25, 0.25, 0.25, 0.25])
    expect(brierDegrading(s)).toBe(false)
  })

  it('degrading and critical together are critical', () => {
    // 0, 0.405, 0.54, 0.6075, 0.648: rising and > 0.4
    const s = tracked([
      [0, false],
      [0.9, false],
      [0.9, false],
      [0.9, false],
      [0.9, false],
    ])
    expect(brierAlerts(s)).toEqual(['brier_critical', 'brier_degrading'])
    expect(healthStatus(s)).toBe('critical')
  })

  it('survives a JSON round trip and carries on identically', () => {
    const s = tracked([
      [0.8, true],
      [0.3, false],
      [0.9, false],
    ])
    recordForecast(s, 'open1', 0.7)
    const copy = JSON.parse(JSON.stringify(s)) as BrierState
    expect(copy).toEqual(s)
    recordOutcome(s, 'open1', true)
    recordOutcome(copy, 'open1', true)
    expect(copy).toEqual(s)
    expect(brierScore(copy)).toBe(brierScore(s))
  })
})

describe('dpiEnhancement', () => {
  it('1 + 0.5·DPI for a long, 1 − 0.5·DPI for a short', () => {
    expect(dpiEnhancement(0.6, 'long')).toBeCloseTo(1.3, 15)
    expect(dpiEnhancement(0.6, 'short')).toBeCloseTo(0.7, 15)
    expect(dpiEnhancement(-0.4, 'long')).toBeCloseTo(0.8, 15)
    expect(dpiEnhancement(-0.4, 'short')).toBeCloseTo(1.2, 15)
    expect(dpiEnhancement(0, 'short')).toBe(1)
    expect(dpiEnhancement(1, 'long')).toBe(1.5)
    expect(dpiEnhancement(-1, 'long')).toBe(0.5)
  })
  it('no DPI (warming up) or a bad one: 1; out of range: clamped', () => {
    expect(dpiEnhancement(null, 'long')).toBe(1)
    expect(dpiEnhancement(undefined, 'short')).toBe(1)
    expect(dpiEnhancement(Number.NaN, 'long')).toBe(1)
    expect(dpiEnhancement(3, 'long')).toBe(1.5)
    expect(dpiEnhancement(3, 'short')).toBe(0.5)
  })
})

describe('phase5Size', () => {
  const base = { equity: 100_000, price: 50 }

  it('base × ng × brier × dpi, floored to whole shares', () => {
    // 100 × 1.05 × 0.5 × 1.3 = 68.25 → 68
    const r = phase5Size({ ...base, base: 100, ngMultiplier: 1.05, brierAdjustment: 0.5, dpiEnhancement: 1.3 })
    expect(r.raw_qty).toBeCloseTo(68.25, 12)
    expect(r.qty).toBe(68)
    expect(r.capped).toBe(false)
    expect(r.cap_qty).toBe(500) // 25% of 100k ÷ 50
    expect(r).toMatchObject({ base: 100, ng_multiplier: 1.05, brier_adjustment: 0.5, dpi_enhancement: 1.3 })
  })

  it('keeps the fraction with rounding none', () => {
    const r = phase5Size({ ...base, base: 100, ngMultiplier: 1.05, brierAdjustment: 0.5, dpiEnhancement: 1.3, rounding: 'none' })
    expect(r.qty).toBeCloseTo(68.25, 12)
  })

  it('whole numbers on paper stay whole despite binary noise', () => {
    // 100 × 1.15 × 0.6 is 69 on paper but 68.99999999999999 in binary: the floor must still give 69.
    expect(100 * 1.15 * 0.6 * 1).toBeLessThan(69)
    const r = phase5Size({ ...base, base: 100, ngMultiplier: 1.15, brierAdjustment: 0.6, dpiEnhancement: 1 })
    expect(r.qty).toBe(69)
  })

  it('caps the notional at 25% of equity', () => {
    // 1000 × 2 × 1 × 1.5 = 3000 shares wanted; 25% of 100k = 25k ÷ 50 = 500 shares
    const r = phase5Size({ ...base, base: 1000, ngMultiplier: 2, brierAdjustment: 1, dpiEnhancement: 1.5 })
    expect(r.raw_qty).toBe(3000)
    expect(r.cap_qty).toBe(500)
    expect(r.capped).toBe(true)
    expect(r.qty).toBe(500)
    expect(r.qty * base.price).toBe(25_000)
  })

  it('floors a fractional cap and never breaches it', () => {
    // 25% of 10,000 = 2,500 ÷ 30 = 83.33 → 83 (83 × 30 = 2490 ≤ 2500)
    const r = phase5Size({ base: 500, ngMultiplier: 1, brierAdjustment: 1, dpiEnhancement: 1, equity: 10_000, price: 30 })
    expect(r.capped).toBe(true)
    expect(r.qty).toBe(83)
    const f = phase5Size({ base: 500, ngMultiplier: 1, brierAdjustment: 1, dpiEnhancement: 1, equity: 10_000, price: 30, rounding: 'none' })
    expect(f.qty).toBeCloseTo(2500 / 30, 12)
    expect(f.qty * 30).toBeLessThanOrEqual(2500)
  })

  it('another cap fraction', () => {
    const r = phase5Size({ base: 100, ngMultiplier: 1, brierAdjustment: 1, dpiEnhancement: 1, equity: 1000, price: 10, maxEquityPct: 0.5 })
    expect(r.cap_qty).toBe(50)
    expect(r.qty).toBe(50)
  })

  it('bad inputs size to 0', () => {
    const ok = { base: 10, ngMultiplier: 1, brierAdjustment: 1, dpiEnhancement: 1, equity: 1000, price: 10 }
    expect(phase5Size({ ...ok, price: 0 }).qty).toBe(0)
    expect(phase5Size({ ...ok, equity: -5 }).qty).toBe(0)
    expect(phase5Size({ ...ok, base: 0 }).qty).toBe(0)
    expect(phase5Size({ ...ok, brierAdjustment: Number.NaN }).qty).toBe(0)
    expect(phase5Size({ ...ok }).qty).toBe(10)
  })

  it('phase5Factors gathers the four recorded numbers', () => {
    const brier = tracked([
      [0.8, true],
      [0.6, true],
      [0.2, true],
    ]) // 0.28 → 0.72
    const f = phase5Factors(0.05, brier, 0.6, 'short')
    expect(f.ng_score).toBe(0.05)
    expect(f.ng_multiplier).toBe(1.05)
    expect(f.brier_adjustment).toBeCloseTo(0.72, 15)
    expect(f.dpi_enhancement).toBeCloseTo(0.7, 15)
    // 100 × 1.05 × 0.72 × 0.7 = 52.92 → 52
    expect(
      phase5Size({ base: 100, ngMultiplier: f.ng_multiplier, brierAdjustment: f.brier_adjustment, dpiEnhancement: f.dpi_enhancement, equity: 1e6, price: 10 })
        .qty,
    ).toBe(52)
    expect(phase5Factors(Number.NaN, newBrier(), null, 'long')).toEqual({ ng_score: 0, ng_multiplier: 1, brier_adjustment: 0.5, dpi_enhancement: 1 })
  })
})

describe('phase5Metrics', () => {
  it('empty account', () => {
    expect(phase5Metrics({ brier: newBrier(), stats: newPhase5Stats(), dpiRegime: null })).toEqual({
      brier_score: 0.5,
      prediction_count: 0,
      recent_accuracy: 0.5,
      ng_signal_count: 0,
      avg_ng_score: 0,
      high_ng_trades: 0,
      dpi_regime: null,
      avg_dpi_enhancement: 1,
      health_status: 'healthy',
    })
  })

  it('aggregates ideas and trades', () => {
    const stats = newPhase5Stats()
    for (const ng of [0, 0.02, 0.021, 0.05, 0.3]) recordIdea(stats, ng) // > 0.02: 0.021, 0.05, 0.3
    recordTrade(stats, 0.021, 1.2)
    recordTrade(stats, 0.05, 0.8) // ≥ 0.05: high
    recordTrade(stats, 0.3, 1.3) // high
    const brier = tracked([
      [0.8, true],
      [0.3, false],
      [0.9, false],
      [0.2, true],
      [0.6, true],
    ]) // 0.348
    const row = phase5Metrics({ brier, stats, dpiRegime: 'regime_transition' })
    expect(row.brier_score).toBeCloseTo(0.348, 15)
    expect(row.prediction_count).toBe(5)
    expect(row.recent_accuracy).toBeCloseTo(0.6, 15)
    expect(row.ng_signal_count).toBe(3)
    expect(row.avg_ng_score).toBeCloseTo((0.021 + 0.05 + 0.3) / 3, 15)
    expect(row.high_ng_trades).toBe(2)
    expect(row.dpi_regime).toBe('regime_transition')
    expect(row.avg_dpi_enhancement).toBeCloseTo(1.1, 15)
    expect(row.health_status).toBe('warning') // 0.348 > 0.28
    expect(stats.ideas).toBe(5)
    expect(stats.trades).toBe(3)
  })

  it('stats survive a JSON round trip', () => {
    const stats = recordTrade(recordIdea(newPhase5Stats(), 0.04), 0.04, 1.1)
    const copy = JSON.parse(JSON.stringify(stats))
    expect(copy).toEqual(stats)
    recordTrade(copy, 0.06, 1.3)
    recordTrade(stats, 0.06, 1.3)
    expect(copy).toEqual(stats)
  })
})
