import { describe, expect, it } from 'vitest'
import { newEma, newSma, updateEma, updateSma, type EmaState, type SmaState } from '../../actors/lib/moving-average.js'
import { prng } from '../../src/app/synthetic-bars.js'

// Independent, deliberately naive references (no shared code with the implementation).
/** SMA: the mean of the last n values, recomputed from scratch; undefined before n values. */
function naiveSma(xs: number[], n: number): (number | undefined)[] {
  return xs.map((_, i) => {
    if (i + 1 < n) return undefined
    let sum = 0
    for (let j = i + 1 - n; j <= i; j++) sum += xs[j]!
    return sum / n
  })
}

/** EMA, TA-Lib style: the SMA of the first n values, then prev + (x − prev)·2/(n+1). */
function naiveEma(xs: number[], n: number): (number | undefined)[] {
  const out: (number | undefined)[] = []
  let prev: number | undefined
  for (let i = 0; i < xs.length; i++) {
    if (i + 1 < n) out.push(undefined)
    else if (i + 1 === n) {
      prev = xs.slice(0, n).reduce((a, b) => a + b, 0) / n
      out.push(prev)
    } else {
      prev = prev! + (xs[i]! - prev!) * (2 / (n + 1))
      out.push(prev)
    }
  }
  return out
}

/** A random walk of positive prices (relative error is meaningful away from zero). */
function prices(count: number, seed: number, start = 100): number[] {
  const rand = prng(seed)
  const xs: number[] = []
  let p = start
  for (let i = 0; i < count; i++) {
    p = Math.max(0.01, p * (1 + (rand() - 0.5) * 0.04))
    xs.push(p)
  }
  return xs
}

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), Number.MIN_VALUE)

function expectSeriesClose(got: (number | undefined)[], want: (number | undefined)[], tolerance = 1e-9) {
  expect(got.length).toBe(want.length)
  let worst = 0
  for (let i = 0; i < want.length; i++) {
    if (want[i] === undefined) {
      expect(got[i], `index ${i}: nothing before warm-up`).toBeUndefined()
      continue
    }
    expect(got[i], `index ${i}`).toBeTypeOf('number')
    worst = Math.max(worst, relErr(got[i]!, want[i]!))
  }
  expect(worst).toBeLessThanOrEqual(tolerance)
}

const runSma = (xs: number[], n: number) => {
  const s = newSma(n)
  return xs.map((x) => updateSma(s, x))
}
const runEma = (xs: number[], n: number) => {
  const s = newEma(n)
  return xs.map((x) => updateEma(s, x))
}

describe('SMA', () => {
  it.each([
    [1, 1],
    [2, 2],
    [3, 3],
    [10, 4],
    [30, 5],
    [200, 6],
    [1000, 7],
  ])('period %i matches the naive mean of the last n over 5000 values (seed %i)', (n, seed) => {
    const xs = prices(5000, seed)
    expectSeriesClose(runSma(xs, n), naiveSma(xs, n))
  })

  it('gives nothing until the period is full, then the exact mean', () => {
    const s = newSma(3)
    expect(updateSma(s, 1)).toBeUndefined()
    expect(updateSma(s, 2)).toBeUndefined()
    expect(updateSma(s, 3)).toBe(2)
    expect(updateSma(s, 4)).toBe(3)
    expect(updateSma(s, 11)).toBe(6)
  })

  /**
   * 1e6 values decaying from 1e6 to about 1 (a long slide, with noise): a running sum accumulates
   * rounding error while the values are large and keeps it when they are small, so its relative
   * error grows; the periodic re-sum from the window resets it every `period` updates.
   */
  function* slide(count: number, seed: number): Generator<number> {
    const rand = prng(seed)
    for (let i = 0; i < count; i++) yield 1e6 * Math.exp((-Math.log(1e6) * i) / count) * (1 + (rand() - 0.5) * 0.02)
  }

  function worstDrift(n: number, sma: (x: number) => number | undefined): number {
    const window: number[] = []
    let worst = 0
    for (const x of slide(1_000_000, 99)) {
      window.push(x)
      if (window.length > n) window.shift()
      const got = sma(x)
      if (window.length < n) continue
      let sum = 0
      for (const w of window) sum += w
      worst = Math.max(worst, relErr(got!, sum / n))
    }
    return worst
  }

  it('keeps drift bounded over 1e6 values', () => {
    const s = newSma(20)
    expect(worstDrift(20, (x) => updateSma(s, x))).toBeLessThan(1e-9)
  })

  it('is the correctly rounded window sum over n, bit for bit (math.fsum, as backtrader), over 1e6 values', () => {
    // The window's exact sum in units of 2^-192 (every value here is a multiple of it), rounded once.
    const n = 20
    const s = newSma(n)
    const window: bigint[] = []
    let exact = 0n
    let mismatches = 0
    for (const x of slide(1_000_000, 98)) {
      const big = BigInt(x * 2 ** 192)
      window.push(big)
      exact += big
      if (window.length > n) exact -= window.shift()!
      const got = updateSma(s, x)
      if (window.length === n && got !== Number(exact) / 2 ** 192 / n) mismatches++
    }
    expect(mismatches).toBe(0)
  })

  it('a plain running sum over the same values drifts past 1e-9 (so the test above has teeth)', () => {
    const n = 20
    const window: number[] = []
    let sum = 0
    const plain = (x: number) => {
      window.push(x)
      sum += x
      if (window.length > n) sum -= window.shift()!
      return window.length < n ? undefined : sum / n
    }
    expect(worstDrift(n, plain)).toBeGreaterThan(1e-9)
  })
})

describe('EMA (TA-Lib convention)', () => {
  it.each([
    [1, 11],
    [2, 12],
    [5, 13],
    [12, 14],
    [26, 15],
    [50, 16],
    [500, 17],
  ])('period %i matches the naive SMA-seeded EMA over 5000 values (seed %i)', (n, seed) => {
    const xs = prices(5000, seed)
    expectSeriesClose(runEma(xs, n), naiveEma(xs, n))
  })

  it('is seeded with the SMA of the first period values, then follows k = 2/(n+1)', () => {
    const s = newEma(3)
    expect(updateEma(s, 2)).toBeUndefined()
    expect(updateEma(s, 4)).toBeUndefined()
    expect(updateEma(s, 6)).toBe(4)
    expect(updateEma(s, 8)).toBe(6) // 4 + (8 − 4)·0.5
    expect(updateEma(s, 2)).toBe(4) // 6 + (2 − 6)·0.5
  })
})

describe('state is plain JSON (the runtime checkpoints it)', () => {
  it.each([
    ['sma', () => newSma(7) as SmaState | EmaState],
    ['ema', () => newEma(7) as SmaState | EmaState],
  ])('%s: a JSON round-trip mid-stream gives identical subsequent outputs', (_, make) => {
    const xs = prices(3000, 21)
    const update = (s: SmaState | EmaState, x: number) => (s.kind === 'sma' ? updateSma(s, x) : updateEma(s, x))
    for (const cut of [0, 3, 6, 7, 8, 100, 1234, 2999]) {
      const straight = make()
      const before = make()
      for (const x of xs.slice(0, cut)) {
        update(straight, x)
        update(before, x)
      }
      const restored = JSON.parse(JSON.stringify(before)) as SmaState | EmaState
      expect(restored).toEqual(before)
      const a = xs.slice(cut).map((x) => update(straight, x))
      const b = xs.slice(cut).map((x) => update(restored, x))
      expect(b, `cut at ${cut}`).toEqual(a) // bit-identical, not just close
    }
  })

  it('contains nothing JSON cannot carry', () => {
    for (const s of [newSma(3), newEma(3)]) {
      for (const x of [1, 2, 3, 4]) s.kind === 'sma' ? updateSma(s, x) : updateEma(s, x)
      expect(JSON.parse(JSON.stringify(s))).toStrictEqual(s)
    }
  })
})
