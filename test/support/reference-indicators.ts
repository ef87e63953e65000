// Independent reference implementations of every indicator, shared by the library's unit tests and
// the end-to-end test that checks snapshot_indicators.
import type { IndicatorSpec, OhlcvBar } from '../../actors/lib/indicators/index.js'

// ---------------------------------------------------------------------------------------------
// Independent references: whole-array loops written from the definitions (TA-Lib's for the classic
// indicators, trader-ai's dpi_calculator.py as SPEC §5.5 states it for DPI), sharing no code with the
// streaming library. Each returns, per bar, the values keyed by output suffix, or undefined.
// ---------------------------------------------------------------------------------------------
export type Out = Record<string, number> | undefined

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const mean = (xs: number[]) => sum(xs) / xs.length
const allEqual = (xs: number[]) => xs.every((x) => x === xs[0])
const sampleStd = (xs: number[]) => {
  const m = mean(xs)
  return Math.sqrt(sum(xs.map((x) => (x - m) ** 2)) / (xs.length - 1))
}

/** SMA: the mean of the last n values, from scratch each bar. */
function refSma(xs: number[], n: number): (number | undefined)[] {
  return xs.map((_, i) => (i + 1 < n ? undefined : mean(xs.slice(i + 1 - n, i + 1))))
}

/** EMA over xs[from..]: the mean of its first n values at from+n−1, then prev + (x − prev)·2/(n+1). */
function refEma(xs: number[], n: number, from = 0): (number | undefined)[] {
  const out: (number | undefined)[] = xs.map(() => undefined)
  const seedAt = from + n - 1
  if (seedAt >= xs.length) return out
  let prev = mean(xs.slice(from, seedAt + 1))
  out[seedAt] = prev
  for (let i = seedAt + 1; i < xs.length; i++) {
    prev = prev + (xs[i]! - prev) * (2 / (n + 1))
    out[i] = prev
  }
  return out
}

/**
 * Wilder's RSI as 100·avgGain/(avgGain + avgLoss), 0 when both are 0 (TA-Lib). Not the textbook
 * 100 − 100/(1 + RS): that form cancels when the RSI is near 0 and is then wrong far beyond 1e-9.
 */
function refRsi(xs: number[], n: number): (number | undefined)[] {
  const out: (number | undefined)[] = xs.map(() => undefined)
  const gains: number[] = []
  const losses: number[] = []
  for (let i = 1; i < xs.length; i++) {
    const d = xs[i]! - xs[i - 1]!
    gains.push(Math.max(d, 0))
    losses.push(Math.max(-d, 0))
  }
  if (gains.length < n) return out
  let g = mean(gains.slice(0, n))
  let l = mean(losses.slice(0, n))
  const rsi = () => (g + l === 0 ? 0 : (100 * g) / (g + l))
  out[n] = rsi()
  for (let i = n; i < gains.length; i++) {
    g = (g * (n - 1) + gains[i]!) / n
    l = (l * (n - 1) + losses[i]!) / n
    out[i + 1] = rsi()
  }
  return out
}

/** MACD: fast EMA over xs from index slow−fast, slow EMA over xs, signal EMA over the line from slow−1. */
function refMacd(xs: number[], fast: number, slow: number, signal: number): Out[] {
  if (slow < fast) [fast, slow] = [slow, fast]
  const f = refEma(xs, fast, slow - fast)
  const s = refEma(xs, slow)
  const line = xs.map((_, i) => (i >= slow - 1 ? f[i]! - s[i]! : NaN))
  const sig = refEma(line, signal, slow - 1)
  return xs.map((_, i) => (sig[i] === undefined ? undefined : { line: line[i]!, signal: sig[i]!, hist: line[i]! - sig[i]! }))
}

/** ATR: TR from bar 1 on; the mean of TR[1..n] at bar n, then (prev·(n−1) + TR)/n. */
function refAtr(bars: OhlcvBar[], n: number): (number | undefined)[] {
  const tr = bars.map((b, i) => (i === 0 ? NaN : Math.max(b.high - b.low, Math.abs(b.high - bars[i - 1]!.close), Math.abs(b.low - bars[i - 1]!.close))))
  const out: (number | undefined)[] = bars.map(() => undefined)
  if (bars.length <= n) return out
  let atr = mean(tr.slice(1, n + 1))
  out[n] = atr
  for (let i = n + 1; i < bars.length; i++) {
    atr = (atr * (n - 1) + tr[i]!) / n
    out[i] = atr
  }
  return out
}

/** Bollinger: two-pass mean and population σ of the last n values. */
function refBbands(xs: number[], n: number, k: number): Out[] {
  return xs.map((_, i) => {
    if (i + 1 < n) return undefined
    const w = xs.slice(i + 1 - n, i + 1)
    const m = mean(w)
    const sd = Math.sqrt(mean(w.map((x) => (x - m) ** 2)))
    return { upper: m + k * sd, middle: m, lower: m - k * sd }
  })
}

function refExtreme(xs: number[], n: number, pick: (...v: number[]) => number): (number | undefined)[] {
  return xs.map((_, i) => (i + 1 < n ? undefined : pick(...xs.slice(i + 1 - n, i + 1))))
}

/**
 * DPI over the frame of the last n bars, component by component as dpi_calculator.py computes them
 * (SPEC §5.5's plain ratios, no 1e-8 guards), with the degenerate cases the library documents:
 * H ≤ L → no pressure; zero weighted variance → skew 0; equal closes → momentum 0; equal or
 * non-positive mean volatilities → clustering 0; fewer than 10 returns → clustering 0.
 */
export function refDpiComponents(frame: OhlcvBar[]) {
  const totalV = sum(frame.map((b) => b.volume))
  let flow = 0
  if (totalV > 0) {
    let p = 0
    for (const b of frame) {
      const hl = b.high - b.low
      const buy = hl > 0 ? (b.close - b.low) / hl : 0.5
      const sell = hl > 0 ? (b.high - b.close) / hl : 0.5
      p += (buy - sell) * (b.volume / totalV)
    }
    flow = Math.tanh(10 * p)
  }
  const rets: number[] = []
  const vols: number[] = []
  for (let i = 1; i < frame.length; i++) {
    rets.push(frame[i]!.close / frame[i - 1]!.close - 1)
    vols.push(frame[i]!.volume)
  }
  let skew = 0
  const tv = sum(vols)
  if (rets.length >= 3 && tv > 0 && !allEqual(rets.filter((_, i) => vols[i]! > 0))) {
    const w = vols.map((v) => v / tv)
    const m = sum(rets.map((r, i) => r * w[i]!))
    const m2 = sum(rets.map((r, i) => (r - m) ** 2 * w[i]!))
    const m3 = sum(rets.map((r, i) => (r - m) ** 3 * w[i]!))
    if (m2 > 0) skew = m3 / m2 ** 1.5
  }
  skew = Math.tanh(skew)
  const closes = frame.map((b) => b.close)
  const sN = mean(closes)
  const momentum = allEqual(closes) ? 0 : Math.tanh((20 * (mean(closes.slice(-5)) - sN)) / sN)
  let clustering = 0
  if (rets.length >= 10) {
    const rolling: number[] = []
    for (let j = 4; j < rets.length; j++) rolling.push(sampleStd(rets.slice(j - 4, j + 1)))
    const mu = mean(rolling)
    if (mu > 0 && !allEqual(rolling)) clustering = Math.tanh(sampleStd(rolling) / mu)
  }
  return { flow, skew, momentum, clustering }
}

export function refDpi(bars: OhlcvBar[], n: number): Out[] {
  return bars.map((_, t) => {
    if (t < n - 1) return undefined
    const c = refDpiComponents(bars.slice(t - n + 1, t + 1))
    const value = Math.tanh(0.35 * c.flow + 0.25 * c.skew + 0.2 * c.momentum + 0.2 * c.clustering)
    const regime = Math.abs(value) < 0.2 ? 0 : value > 0.5 && c.skew > 0.3 ? 1 : value < -0.5 && c.skew < -0.3 ? 2 : 3
    return { value, regime }
  })
}

const wrap = (xs: (number | undefined)[]): Out[] => xs.map((x) => (x === undefined ? undefined : { '': x }))

export function reference(spec: IndicatorSpec, bars: OhlcvBar[]): Out[] {
  const field = (f: keyof OhlcvBar) => bars.map((b) => b[f])
  switch (spec.type) {
    case 'sma':
      return wrap(refSma(field(spec.source ?? 'close'), spec.period))
    case 'ema':
      return wrap(refEma(field(spec.source ?? 'close'), spec.period))
    case 'rsi':
      return wrap(refRsi(field(spec.source ?? 'close'), spec.period ?? 14))
    case 'macd':
      return refMacd(field(spec.source ?? 'close'), spec.fast ?? 12, spec.slow ?? 26, spec.signal ?? 9)
    case 'atr':
      return wrap(refAtr(bars, spec.period ?? 14))
    case 'bbands':
      return refBbands(field(spec.source ?? 'close'), spec.period ?? 20, spec.stddev ?? 2)
    case 'highest':
      return wrap(refExtreme(field(spec.source ?? 'high'), spec.period, Math.max))
    case 'lowest':
      return wrap(refExtreme(field(spec.source ?? 'low'), spec.period, Math.min))
    case 'dpi':
      return refDpi(bars, spec.period ?? 20)
  }
}
