import { describe, expect, it } from 'vitest'
import {
  DPI_REGIMES,
  dpiRegimeName,
  lookbackOf,
  newIndicator,
  outputsOf,
  putValues,
  specProblem,
  updateIndicator,
  type IndicatorSpec,
  type IndicatorState,
  type OhlcvBar,
} from '../../actors/lib/indicators/index.js'
import { dpiComponents, newDpi } from '../../actors/lib/indicators/dpi.js'
import { newRun, runPush, uniformSince } from '../../actors/lib/indicators/rolling.js'
import { prng, syntheticBars } from '../../src/app/synthetic-bars.js'
import { reference, refDpi, refDpiComponents, type Out } from '../support/reference-indicators.js'

// ---------------------------------------------------------------------------------------------
// Series: seeded random walks and the edges.
// ---------------------------------------------------------------------------------------------
const ohlcv = (b: OhlcvBar): OhlcvBar => ({ open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume })
const walk = (n: number, seed: number, price = 50) => syntheticBars(n, { seed, price }).map(ohlcv)
const scale = (bars: OhlcvBar[], k: number) => bars.map((b) => ({ open: b.open * k, high: b.high * k, low: b.low * k, close: b.close * k, volume: b.volume }))

/** Price gaps: every ~40 bars the whole rest of the series jumps by −25%..+25%. */
function gapped(bars: OhlcvBar[], seed: number): OhlcvBar[] {
  const rand = prng(seed)
  let k = 1
  return bars.map((b, i) => {
    if (i > 0 && rand() < 0.025) k *= 0.75 + rand() * 0.5
    return { open: b.open * k, high: b.high * k, low: b.low * k, close: b.close * k, volume: b.volume }
  })
}

/** Flat (H = L = O = C) stretches and zero-volume bars inside a random walk. */
function withFlatsAndZeroVolume(bars: OhlcvBar[]): OhlcvBar[] {
  return bars.map((b, i) => {
    const out = { ...b }
    if (i >= 500 && i < 800) {
      const p = bars[499]!.close
      Object.assign(out, { open: p, high: p, low: p, close: p })
    }
    if (i % 5 === 0 || (i >= 1000 && i < 1100) || (i >= 1500 && i < 1530 && i % 7 !== 0)) out.volume = 0
    if (i >= 1200 && i < 1260) Object.assign(out, { high: out.close, low: out.close, open: out.close }) // H = L, moving closes
    return out
  })
}

const flat = (n: number, p: number, volume: number): OhlcvBar[] =>
  Array.from({ length: n }, (_, i) => ({ open: p, high: p, low: p, close: p, volume: i % 3 === 0 ? 0 : volume }))

const SERIES: [string, OhlcvBar[]][] = [
  ['random walk (seed 1)', walk(3000, 1)],
  ['random walk (seed 2)', walk(3000, 2, 200)],
  ['gaps', gapped(walk(3000, 3), 33)],
  ['flat stretches, H = L bars, zero-volume bars', withFlatsAndZeroVolume(walk(3000, 4))],
  ['flat series', flat(400, 37.37, 1000)],
  ['tiny prices (× 1e-6)', scale(walk(2000, 5), 1e-6)],
  ['huge prices (× 1e9)', scale(walk(2000, 6), 1e9)],
]

const SPECS: IndicatorSpec[] = [
  { type: 'sma', period: 1 },
  { type: 'sma', period: 10 },
  { type: 'sma', period: 30, source: 'volume' },
  { type: 'ema', period: 1 },
  { type: 'ema', period: 10 },
  { type: 'ema', period: 26, source: 'open' },
  { type: 'rsi' },
  { type: 'rsi', period: 2 },
  { type: 'rsi', period: 30 },
  { type: 'macd' },
  { type: 'macd', fast: 5, slow: 35, signal: 5 },
  { type: 'macd', fast: 26, slow: 12, signal: 9 },
  { type: 'macd', fast: 8, slow: 8, signal: 1 },
  { type: 'atr' },
  { type: 'atr', period: 1 },
  { type: 'atr', period: 50 },
  { type: 'bbands' },
  { type: 'bbands', period: 5, stddev: 1.5, source: 'high' },
  { type: 'bbands', period: 2, stddev: 0 },
  { type: 'highest', period: 1 },
  { type: 'highest', period: 20 },
  { type: 'highest', period: 55, source: 'close' },
  { type: 'lowest', period: 20 },
  { type: 'lowest', period: 7, source: 'volume' },
  { type: 'dpi' },
  { type: 'dpi', period: 5 },
  { type: 'dpi', period: 11 },
  { type: 'dpi', period: 60 },
]

const run = (spec: IndicatorSpec, bars: OhlcvBar[], state: IndicatorState = newIndicator(spec)) => bars.map((b) => updateIndicator(state, b))

/**
 * 1e-9 relative for every value. DPI alone gets an absolute floor of 1e-12 as well: it is a tanh of
 * sums that cross 0, where no two implementations agree relatively (rounding is absolute there).
 */
function expectMatches(spec: IndicatorSpec, got: (Record<string, number> | undefined)[], want: Out[]): number {
  const where = (i: number) => `${JSON.stringify(spec)} bar ${i}`
  expect(got.length).toBe(want.length)
  let worst = 0
  for (let i = 0; i < want.length; i++) {
    const w = want[i]
    const g = got[i]
    if (w === undefined) {
      if (g !== undefined) expect.fail(`${where(i)}: ${JSON.stringify(g)} before warm-up`)
      continue
    }
    if (g === undefined) expect.fail(`${where(i)}: nothing once warmed up`)
    if (Object.keys(g).sort().join() !== Object.keys(w).sort().join()) expect.fail(`${where(i)}: keys ${Object.keys(g)}`)
    for (const [k, b] of Object.entries(w)) {
      const a: number = g[k]!
      if (!Number.isFinite(a)) expect.fail(`${where(i)} ${k}: ${a}`)
      if (spec.type === 'dpi' && k === 'regime') {
        if (a !== b) expect.fail(`${where(i)}: regime ${a}, want ${b}`)
        continue
      }
      const floor = spec.type === 'dpi' ? 1e-12 / 1e-9 : 0
      const err = a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), floor, Number.MIN_VALUE)
      if (err > 1e-9) expect.fail(`${where(i)} ${k || 'value'}: got ${a}, want ${b} (relative error ${err})`)
      worst = Math.max(worst, err)
    }
  }
  return worst
}

describe('every indicator matches its reference to 1e-9 after warm-up, and gives nothing before', () => {
  for (const [name, bars] of SERIES) {
    describe(name, () => {
      it.each(SPECS.map((s) => [JSON.stringify(s), s] as const))('%s', (_, spec) => {
        expectMatches(spec, run(spec, bars), reference(spec, bars))
      })
    })
  }

  it('the first value comes at lookbackOf(spec), as TA-Lib counts it', () => {
    const bars = walk(400, 9)
    for (const spec of SPECS) {
      const first = run(spec, bars).findIndex((v) => v !== undefined)
      expect(first, JSON.stringify(spec)).toBe(lookbackOf(spec))
      expect(
        reference(spec, bars).findIndex((v) => v !== undefined),
        JSON.stringify(spec),
      ).toBe(lookbackOf(spec))
    }
    expect(lookbackOf({ type: 'macd' })).toBe(33)
    expect(lookbackOf({ type: 'rsi' })).toBe(14)
    expect(lookbackOf({ type: 'atr' })).toBe(14)
    expect(lookbackOf({ type: 'bbands' })).toBe(19)
    expect(lookbackOf({ type: 'dpi' })).toBe(19)
  })

  it('DPI regimes are all reached on long random walks (the comparison above covers them)', () => {
    const seen = new Set<number>()
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      for (const v of run({ type: 'dpi', period: 10 }, walk(3000, seed))) if (v) seen.add(v['regime']!)
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3])
  })
})

describe('hand-computed values', () => {
  const closes = (xs: number[]) => xs.map((c) => ({ open: c, high: c, low: c, close: c, volume: 1 }))
  const one = (spec: IndicatorSpec, bars: OhlcvBar[]) => run(spec, bars).map((v) => (v === undefined ? undefined : v['']))

  it('RSI: Wilder averages seeded with the mean of the first n changes; a flat series is 0', () => {
    // changes +1, +1, −1, 0: seed gain 1, loss 0 → 100; then gain (1·1+0)/2 = .5, loss (0+1)/2 = .5 → 50;
    // then gain .25, loss .25 → 50.
    expect(one({ type: 'rsi', period: 2 }, closes([1, 2, 3, 2, 2]))).toEqual([undefined, undefined, 100, 50, 50])
    expect(one({ type: 'rsi', period: 2 }, closes([5, 5, 5, 5]))).toEqual([undefined, undefined, 0, 0])
    expect(one({ type: 'rsi', period: 2 }, closes([5, 4, 3]))).toEqual([undefined, undefined, 0])
  })

  it('ATR: true ranges from bar 1 (bar 0 has no previous close), SMA seed, then Wilder', () => {
    const bars = [
      { open: 9.5, high: 10, low: 9, close: 9.5, volume: 1 },
      { open: 10.5, high: 11, low: 10, close: 10.5, volume: 1 }, // TR max(1, |9.5−11|, |9.5−10|) = 1.5
      { open: 9, high: 10.5, low: 8, close: 9, volume: 1 }, // TR max(2.5, 0, 2.5) = 2.5
      { open: 9.2, high: 9.5, low: 9, close: 9.2, volume: 1 }, // TR max(0.5, 0.5, 0) = 0.5
    ]
    expect(one({ type: 'atr', period: 2 }, bars)).toEqual([undefined, undefined, 2, 1.25])
  })

  it('MACD: the fast EMA is seeded on the bars that end at the slow seed (TA-Lib), not from bar 0', () => {
    // fast 2, slow 3, signal 2 over 10, 1, 2, 3, 6:
    // bar 2: slow seed (10+1+2)/3, fast seed (1+2)/2 = 1.5 (bar 0 never reaches the fast EMA)
    const slow2 = 13 / 3
    const line2 = 1.5 - slow2
    // bar 3: fast 1.5 + (3 − 1.5)·2/3 = 2.5, slow s + (3 − s)·0.5
    const slow3 = slow2 + (3 - slow2) * 0.5
    const line3 = 2.5 - slow3
    const signal3 = (line2 + line3) / 2 // first output: bar (3−1) + (2−1) = 3
    // bar 4
    const fast4 = 2.5 + (6 - 2.5) * (2 / 3)
    const slow4 = slow3 + (6 - slow3) * 0.5
    const line4 = fast4 - slow4
    const signal4 = signal3 + (line4 - signal3) * (2 / 3)
    const got = run({ type: 'macd', fast: 2, slow: 3, signal: 2 }, closes([10, 1, 2, 3, 6]))
    expect(got.slice(0, 3)).toEqual([undefined, undefined, undefined])
    expect(got[3]!['line']).toBeCloseTo(line3, 12)
    expect(got[3]!['signal']).toBeCloseTo(signal3, 12)
    expect(got[4]!['line']).toBeCloseTo(line4, 12)
    expect(got[4]!['signal']).toBeCloseTo(signal4, 12)
    expect(got[4]!['hist']).toBeCloseTo(line4 - signal4, 12)
    // Two independently seeded EMAs would give a different line: EMA2 seeded at bar 1 with (10+1)/2.
    const independentFast3 = 5.5 + (2 - 5.5) * (2 / 3) + (3 - (5.5 + (2 - 5.5) * (2 / 3))) * (2 / 3)
    expect(Math.abs(independentFast3 - slow3 - line3)).toBeGreaterThan(0.5)
  })

  it('Bollinger: SMA middle ± k·population σ; σ = 0 on a flat window', () => {
    const got = run({ type: 'bbands', period: 3, stddev: 2 }, closes([1, 2, 3, 3, 3, 3]))
    const sd = Math.sqrt(2 / 3)
    expect(got[2]!['middle']).toBe(2)
    expect(got[2]!['upper']).toBeCloseTo(2 + 2 * sd, 14)
    expect(got[2]!['lower']).toBeCloseTo(2 - 2 * sd, 14)
    expect(got[5]).toEqual({ upper: 3, middle: 3, lower: 3 })
    // Exactly 0, not the residue of running sums, when the window's values are equal but not
    // representable (0.37 + 0.37 + 0.37 ≠ 3·0.37 in binary).
    for (const v of run({ type: 'bbands', period: 3, stddev: 2 }, closes([0.1, 0.7, 1.3, 0.37, 0.37, 0.37, 0.37])).slice(5)) {
      expect(v!['upper']).toBe(v!['middle'])
      expect(v!['lower']).toBe(v!['middle'])
    }
  })

  it('highest / lowest: the extreme of the last n values, the current one included', () => {
    const xs = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
    expect(one({ type: 'highest', period: 3, source: 'close' }, closes(xs))).toEqual([undefined, undefined, 4, 4, 5, 9, 9, 9, 6, 6])
    expect(one({ type: 'lowest', period: 3, source: 'close' }, closes(xs))).toEqual([undefined, undefined, 1, 1, 1, 1, 2, 2, 2, 3])
  })

  it('DPI(5) by hand: flow and skew only (SMA5 = SMA5 → momentum 0; < 10 returns → clustering 0)', () => {
    const bars = [
      { open: 10, high: 11, low: 9, close: 10.5, volume: 100 }, // buyP − sellP = (1.5 − 0.5)/2 = 0.5
      { open: 11, high: 12, low: 10, close: 10, volume: 200 }, // (0 − 2)/2 = −1
      { open: 11, high: 11, low: 11, close: 11, volume: 300 }, // H = L: 0
      { open: 10, high: 12, low: 10, close: 12, volume: 0 }, // 1, but no volume
      { open: 12, high: 13, low: 11, close: 12.5, volume: 400 }, // 0.5
    ]
    const flow = Math.tanh(10 * ((100 * 0.5 + 200 * -1 + 300 * 0 + 0 + 400 * 0.5) / 1000)) // tanh(0.5)
    // returns weighted by their bar's volume: r1 = 10/10.5 − 1 (200), r2 = 11/10 − 1 (300), r3 (0), r4 = 12.5/12 − 1 (400)
    const r = [10 / 10.5 - 1, 11 / 10 - 1, 12.5 / 12 - 1]
    const w = [200 / 900, 300 / 900, 400 / 900]
    const m = r[0]! * w[0]! + r[1]! * w[1]! + r[2]! * w[2]!
    const m2 = w[0]! * (r[0]! - m) ** 2 + w[1]! * (r[1]! - m) ** 2 + w[2]! * (r[2]! - m) ** 2
    const m3 = w[0]! * (r[0]! - m) ** 3 + w[1]! * (r[1]! - m) ** 3 + w[2]! * (r[2]! - m) ** 3
    const skew = Math.tanh(m3 / m2 ** 1.5)
    const value = Math.tanh(0.35 * flow + 0.25 * skew)
    const got = run({ type: 'dpi', period: 5 }, bars)
    expect(got.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined])
    expect(got[4]!['value']).toBeCloseTo(value, 14)
    expect(flow).toBeCloseTo(Math.tanh(0.5), 15)
    expect(skew).toBeLessThan(0) // the big −4.8% return carries 2/9 of the weight against smaller gains
    expect(got[4]!['regime']).toBe(Math.abs(value) < 0.2 ? 0 : 3)
  })

  it('DPI of flat bars (H = L = C): every component 0, value 0, regime low_pressure_balanced', () => {
    const got = run({ type: 'dpi' }, flat(60, 37.37, 1000))
    for (const v of got.slice(19)) expect(v).toEqual({ value: 0, regime: 0 })
  })

  it('DPI with no volume at all in the frame: flow and skew 0', () => {
    const bars = walk(200, 12).map((b) => ({ ...b, volume: 0 }))
    const got = run({ type: 'dpi', period: 20 }, bars)
    const want = refDpi(bars, 20)
    expectMatches({ type: 'dpi' }, got, want)
    const c = refDpiComponents(bars.slice(100, 120))
    expect([c.flow, c.skew]).toEqual([0, 0])
  })
})

describe('degenerate windows give exact zeros, not the residue of running sums', () => {
  // Bars 500..799 are flat (H = L = O = C) after 500 bars of movement, so every running sum carries
  // add-then-remove residue into them.
  const bars = withFlatsAndZeroVolume(walk(1000, 41))

  it('Bollinger: σ = 0 on every window inside the flat stretch', () => {
    const got = run({ type: 'bbands', period: 20, stddev: 2 }, bars)
    for (let t = 519; t < 800; t++) {
      expect(got[t]!['upper'], `bar ${t}`).toBe(got[t]!['middle'])
      expect(got[t]!['lower'], `bar ${t}`).toBe(got[t]!['middle'])
    }
  })

  it('DPI: every component is exactly 0 on frames inside the flat stretch', () => {
    const s = newDpi(20)
    bars.forEach((b, t) => {
      const c = dpiComponents(s, b)
      if (t >= 519 && t < 800) expect(c, `bar ${t}`).toEqual({ flow: 0, skew: 0, momentum: 0, clustering: 0 })
    })
  })

  it('DPI: skew 0 when every volume-weighted return is the same (volume only on the up-days of a zig-zag)', () => {
    const zigzag = Array.from({ length: 200 }, (_, i) => {
      const c = i % 2 === 0 ? 100 : 110.3
      return { open: c, high: c + 1, low: c - 1, close: c, volume: i % 2 === 1 ? 1000 + i : 0 }
    })
    const s = newDpi(20)
    zigzag.forEach((b, t) => {
      const c = dpiComponents(s, b)
      if (t >= 19) expect(c!.skew, `bar ${t}`).toBe(0)
    })
    expectMatches({ type: 'dpi' }, run({ type: 'dpi' }, zigzag), refDpi(zigzag, 20))
  })

  it('running sums stay accurate over 300,000 bars whose magnitudes slide by 1e9 (periodic re-sums)', () => {
    const rand = prng(77)
    const count = 300_000
    const bars = walk(count, 78).map((b, i) => {
      const k = Math.exp((-Math.log(1e9) * i) / count) // 1 → 1e-9
      return { open: b.open, high: b.high, low: b.low, close: b.close, volume: 1e9 * k * (0.5 + rand()) }
    })
    const tail = 2000
    for (const spec of [{ type: 'dpi' }, { type: 'dpi', period: 60 }, { type: 'bbands' }, { type: 'sma', period: 20, source: 'volume' }] as const) {
      const got = run(spec, bars).slice(-tail)
      const want = reference(spec, bars.slice(-tail - 100)).slice(-tail)
      expectMatches(spec, got, want)
    }
    const prices = walk(count, 79).map((b, i) => {
      const k = 1e6 * Math.exp((-Math.log(1e6) * i) / count)
      return { open: b.open * k, high: b.high * k, low: b.low * k, close: b.close * k, volume: b.volume }
    })
    for (const spec of [
      { type: 'bbands', period: 20, stddev: 2 },
      { type: 'bbands', period: 50, stddev: 1 },
    ] as const) {
      expectMatches(spec, run(spec, prices).slice(-tail), reference(spec, prices.slice(-tail - 100)).slice(-tail))
    }
  })
})

describe('the equal-value run (how degenerate windows are detected exactly)', () => {
  it('knows whether every value pushed since an index was the same', () => {
    const r = newRun()
    expect(uniformSince(r, 0)).toBe(true) // nothing pushed
    ;[0.1, 0.3, 0.3, 0.3].forEach((x, i) => runPush(r, i, x))
    expect([0, 1, 2, 3].map((from) => uniformSince(r, from))).toEqual([false, true, true, true])
    runPush(r, 7, 0.3) // indices may skip (zero-volume returns are not pushed)
    expect(uniformSince(r, 1)).toBe(true)
    runPush(r, 8, 0.1 + 0.2) // 0.30000000000000004: equal means bit-equal
    expect([1, 7, 8].map((from) => uniformSince(r, from))).toEqual([false, false, true])
    expect(JSON.parse(JSON.stringify(r))).toStrictEqual(r)
  })
})

describe('the interface', () => {
  it('outputsOf names every value a declaration provides; putValues writes them under those names', () => {
    expect(outputsOf('fast', { type: 'sma', period: 10 })).toEqual(['fast'])
    expect(outputsOf('macd', { type: 'macd' })).toEqual(['macd.line', 'macd.signal', 'macd.hist'])
    expect(outputsOf('bb', { type: 'bbands' })).toEqual(['bb.upper', 'bb.middle', 'bb.lower'])
    expect(outputsOf('p', { type: 'dpi' })).toEqual(['p.value', 'p.regime'])
    const bars = walk(100, 3)
    for (const spec of SPECS) {
      const state = newIndicator(spec)
      let last: Record<string, number> | undefined
      for (const b of bars) last = updateIndicator(state, b)
      const flat: Record<string, number> = {}
      putValues(flat, 'x', last!)
      expect(Object.keys(flat).sort(), JSON.stringify(spec)).toEqual(outputsOf('x', spec).sort())
    }
  })

  it('regime codes map to the SPEC names', () => {
    expect(DPI_REGIMES).toEqual(['low_pressure_balanced', 'high_pressure_bullish', 'high_pressure_bearish', 'regime_transition'])
    expect([0, 1, 2, 3].map(dpiRegimeName)).toEqual([...DPI_REGIMES])
    expect(dpiRegimeName(4)).toBeUndefined()
  })

  it('rejects declarations TA-Lib (or DPI) cannot compute, with a message naming the field', () => {
    expect(specProblem({ type: 'sma', period: 0 })).toMatch(/sma: period must be an integer from 1/)
    expect(specProblem({ type: 'rsi', period: 1 })).toMatch(/rsi: period .* from 2/)
    expect(specProblem({ type: 'macd', fast: 1 })).toMatch(/macd: fast/)
    expect(specProblem({ type: 'macd', signal: 0 })).toMatch(/macd: signal/)
    expect(specProblem({ type: 'bbands', stddev: -1 })).toMatch(/bbands: stddev/)
    expect(specProblem({ type: 'dpi', period: 4 })).toMatch(/dpi: period .* from 5/)
    expect(specProblem({ type: 'highest', period: 2.5 })).toMatch(/highest: period/)
    for (const spec of SPECS) expect(specProblem(spec), JSON.stringify(spec)).toBeUndefined()
    expect(() => newIndicator({ type: 'atr', period: 0 })).toThrow(/atr: period/)
  })
})

describe('state is plain JSON (the runtime checkpoints it)', () => {
  const bars = withFlatsAndZeroVolume(walk(2500, 21))

  it.each(SPECS.map((s) => [JSON.stringify(s), s] as const))('%s: a JSON round-trip mid-stream gives identical outputs', (_, spec) => {
    for (const cut of [0, 1, 3, lookbackOf(spec), lookbackOf(spec) + 1, 517, 1234, 2499]) {
      const straight = newIndicator(spec)
      const before = newIndicator(spec)
      for (const b of bars.slice(0, cut)) {
        updateIndicator(straight, b)
        updateIndicator(before, b)
      }
      const restored = JSON.parse(JSON.stringify(before)) as IndicatorState
      expect(restored).toStrictEqual(before)
      const a = run(spec, bars.slice(cut), straight)
      const b = run(spec, bars.slice(cut), restored)
      expect(b, `cut at ${cut}`).toEqual(a) // bit-identical, not just close
    }
  })
})

describe('O(1) per bar: state does not grow with the number of bars', () => {
  /** The longest array anywhere in a state. */
  function longestArray(x: unknown): number {
    if (Array.isArray(x)) return Math.max(x.length, ...x.map(longestArray))
    if (x !== null && typeof x === 'object') return Math.max(0, ...Object.values(x).map(longestArray))
    return 0
  }

  const period = (spec: IndicatorSpec): number =>
    spec.type === 'macd' ? 0 : 'period' in spec && spec.period !== undefined ? spec.period : spec.type === 'bbands' || spec.type === 'dpi' ? 20 : 14

  it.each(SPECS.map((s) => [JSON.stringify(s), s] as const))('%s', (_, spec) => {
    const bars = walk(20_000, 31)
    const state = newIndicator(spec)
    const sizes: number[] = []
    bars.forEach((b, i) => {
      updateIndicator(state, b)
      if ((i + 1) % 2000 === 0) sizes.push(longestArray(state))
    })
    expect(Math.max(...sizes)).toBeLessThanOrEqual(Math.max(period(spec), 5))
    expect(new Set(sizes).size, 'the same bound after 2,000 bars as after 20,000').toBe(1)
  })

  it('the highest/lowest deque holds at most `period` entries even on a monotone series (its worst case)', () => {
    const falling = Array.from({ length: 5000 }, (_, i) => ({ open: 1, high: 10_000 - i, low: i, close: 1, volume: 1 }))
    for (const spec of [
      { type: 'highest', period: 50 },
      { type: 'lowest', period: 50 },
    ] as const) {
      const state = newIndicator(spec)
      for (const b of falling) {
        updateIndicator(state, b)
        if (state.kind !== 'highest' && state.kind !== 'lowest') throw new Error('unreachable')
        expect(state.ext.size).toBeLessThanOrEqual(50)
      }
      expect(longestArray(state)).toBe(50)
      expectMatches(spec, run(spec, falling), reference(spec, falling))
    }
  })
})
