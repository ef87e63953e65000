// The Phase-5 Distributional Pressure Index (SPEC §5.5; trader-ai, DNYoussef/trader-ai@5cf4c8a
// src/strategies/dpi_calculator.py, class DistributionalPressureIndex, "full DPI"), streaming.
//
// trader-ai computes it once over a DataFrame of recent daily bars (`lookback_days + 10` calendar
// days from yfinance, about `lookback` trading days). Here the frame is exactly the last N = `period`
// bars, and each component is the Python one applied to that frame:
//
// - order flow: buyP = (C−L)/(H−L), sellP = (H−C)/(H−L), w = V/ΣV over the N bars,
//   flow = tanh(10·Σ w·(buyP − sellP)).
//   A bar with H ≤ L contributes 0 (no range, no pressure: as if buyP = sellP = ½). The Python divides
//   by (H − L + 1e-8), which gives the same 0 for H = L and otherwise differs by under 1e-8/(H−L)
//   relative; SPEC §5.5 writes the plain ratio, used here. ΣV = 0 (no volume in the window) gives
//   flow = 0, as the Python does (its NaN weights sum to 0).
// - volume-weighted skew: returns r = C/C_prev − 1 (pandas pct_change) for the N−1 bars of the frame
//   that have a previous close in it, each weighted by its own bar's volume (w = V/ΣV); with
//   m = Σw·r, m2 = Σw·(r−m)², m3 = Σw·(r−m)³: skew = tanh(m3/m2^1.5). The Python divides by
//   (m2^1.5 + 1e-8) instead; that 1e-8 is not negligible for daily returns (m2^1.5 ≈ 1e-6 at 1% daily
//   volatility, so it shrinks the skew by about 1%), but SPEC §5.5 says tanh(skew), so the plain
//   weighted skewness is used, and m2 = 0 (all weighted returns equal, a single weighted return, or no
//   volume at all) gives skew = 0, the value the Python's guard produces there.
// - momentum = tanh(20·(SMA5 − SMA_N)/SMA_N) of closes at the last bar (the Python's long average is
//   its `lookback_periods`, 20, i.e. the default period here). 0 when the N closes are all equal.
// - volatility clustering: vol = the 5-return rolling SAMPLE standard deviation (pandas
//   rolling(5).std(), ddof 1) of the frame's returns, which gives N−5 values inside the frame;
//   clustering = tanh(std(vol)/mean(vol)) with std also the sample one (pandas .std()), and 0 when the
//   mean is not > 0. As in the Python, it is 0 when the frame has fewer than 10 returns (N < 11).
// - DPI = tanh(0.35·flow + 0.25·skew + 0.20·momentum + 0.20·clustering) ∈ [−1, 1].
// - regime, from DPI and the skew COMPONENT (the tanh'd value, as `get_distributional_regime` reads
//   `components.volume_weighted_skew`), as a number because indicator values are numbers:
//   0 low_pressure_balanced (|DPI| < 0.2), 1 high_pressure_bullish (DPI > 0.5 and skew > 0.3),
//   2 high_pressure_bearish (DPI < −0.5 and skew < −0.3), 3 regime_transition (otherwise).
// First value at bar N−1 (the first full frame).
//
// Per bar: running sums over the frame, of values shifted by a recent mean so the moments do not
// cancel, recomputed from the stored frame every N bars to bound rounding drift (amortised O(1)),
// and re-centred at once (O(N)) in the rare bar where the mean has moved far from the shift compared
// with the spread. Exact integer counts and equal-value runs decide the degenerate cases (no volume,
// zero variance), where running sums would leave residue.
import { newSma, updateSma, type SmaState } from '../moving-average.js'
import { newRing, newRun, ringAt, ringPush, runPush, uniformSince, type Ring, type Run } from './rolling.js'

export const DPI_REGIMES = ['low_pressure_balanced', 'high_pressure_bullish', 'high_pressure_bearish', 'regime_transition'] as const
export type DpiRegime = (typeof DPI_REGIMES)[number]

/** The regime's name for the number `dpi.regime` carries (undefined for anything else). */
export const dpiRegimeName = (code: number): DpiRegime | undefined => DPI_REGIMES[code]

/** `get_distributional_regime`, on the DPI and the (tanh'd) skew component. */
export function dpiRegime(dpi: number, skew: number): 0 | 1 | 2 | 3 {
  if (Math.abs(dpi) < 0.2) return 0
  if (dpi > 0.5 && skew > 0.3) return 1
  if (dpi < -0.5 && skew < -0.3) return 2
  return 3
}

const SHORT = 5
const WEIGHTS = { flow: 0.35, skew: 0.25, momentum: 0.2, clustering: 0.2 }

export interface DpiState {
  kind: 'dpi'
  period: number
  seen: number
  prevClose: number
  sinceResum: number
  // order flow over the last N bars
  volume: Ring
  net: Ring
  sumV: number
  sumVNet: number
  /** How many bars in the frame have V·(buyP − sellP) ≠ 0. */
  flowTerms: number
  // weighted skew over the last N−1 returns
  ret: Ring
  retVolume: Ring
  retShift: number
  /** Σv, Σv·d, Σv·d², Σv·d³ with d = r − retShift. */
  w0: number
  w1: number
  w2: number
  w3: number
  /** How many returns in the frame have volume > 0, and a run over those returns. */
  weighted: number
  retRun: Run
  // momentum
  short: SmaState
  long: SmaState
  closeRun: Run
  // volatility clustering
  recent: Ring
  vols: Ring
  volShift: number
  /** Σ(v − volShift) and Σ(v − volShift)² over the frame's rolling volatilities. */
  v1: number
  v2: number
  volRun: Run
}

export function newDpi(period: number): DpiState {
  return {
    kind: 'dpi',
    period,
    seen: 0,
    prevClose: 0,
    sinceResum: 0,
    volume: newRing(period),
    net: newRing(period),
    sumV: 0,
    sumVNet: 0,
    flowTerms: 0,
    ret: newRing(period - 1),
    retVolume: newRing(period - 1),
    retShift: 0,
    w0: 0,
    w1: 0,
    w2: 0,
    w3: 0,
    weighted: 0,
    retRun: newRun(),
    short: newSma(SHORT),
    long: newSma(period),
    closeRun: newRun(),
    recent: newRing(SHORT),
    vols: newRing(Math.max(1, period - SHORT)),
    volShift: 0,
    v1: 0,
    v2: 0,
    volRun: newRun(),
  }
}

type DpiValues = {
  value: number
  regime: number
}

interface DpiBar {
  high: number
  low: number
  close: number
  volume: number
}

export function updateDpi(s: DpiState, bar: DpiBar): DpiValues | undefined {
  const c = dpiComponents(s, bar)
  if (!c) return undefined
  const value = Math.tanh(c.flow * WEIGHTS.flow + c.skew * WEIGHTS.skew + c.momentum * WEIGHTS.momentum + c.clustering * WEIGHTS.clustering)
  return { value, regime: dpiRegime(value, c.skew) }
}

interface DpiComponents {
  flow: number
  skew: number
  momentum: number
  clustering: number
}

/** Advances the state by one bar; the four tanh'd components once the frame is full. */
export function dpiComponents(s: DpiState, bar: DpiBar): DpiComponents | undefined {
  const { high: h, low: l, close: c, volume: v } = bar
  const n = s.period
  const t = s.seen++

  const range = h - l
  const net = range > 0 ? (c - l) / range - (h - c) / range : 0
  const oldV = ringPush(s.volume, v)
  const oldNet = ringPush(s.net, net)
  if (oldV !== undefined && oldNet !== undefined) {
    s.sumV -= oldV
    s.sumVNet -= oldV * oldNet
    if (oldV * oldNet !== 0) s.flowTerms--
  }
  s.sumV += v
  s.sumVNet += v * net
  if (v * net !== 0) s.flowTerms++

  const short = updateSma(s.short, c)
  const long = updateSma(s.long, c)
  runPush(s.closeRun, t, c)

  if (t > 0) {
    const r = s.prevClose !== 0 ? c / s.prevClose - 1 : 0 // (a 0 close is not a valid bar; no return)
    const oldR = ringPush(s.ret, r)
    const oldRV = ringPush(s.retVolume, v)
    if (oldR !== undefined && oldRV !== undefined) {
      addMoments(s, oldR, -oldRV)
      if (oldRV > 0) s.weighted--
    }
    addMoments(s, r, v)
    if (v > 0) {
      s.weighted++
      runPush(s.retRun, t, r)
    }
    ringPush(s.recent, r)
    if (t >= SHORT && n > SHORT) {
      const vol = sampleStd(s.recent)
      const oldVol = ringPush(s.vols, vol)
      if (oldVol !== undefined) {
        const e = oldVol - s.volShift
        s.v1 -= e
        s.v2 -= e * e
      }
      const d = vol - s.volShift
      s.v1 += d
      s.v2 += d * d
      runPush(s.volRun, t, vol)
    }
  }
  s.prevClose = c
  if (++s.sinceResum >= n) resum(s)
  if (t < n - 1) return undefined

  const flow = s.flowTerms === 0 ? 0 : Math.tanh((s.sumVNet / s.sumV) * 10)
  return { flow, skew: skewComponent(s, t), momentum: momentumComponent(s, t, short!, long!), clustering: clusteringComponent(s, t) }
}

function addMoments(s: DpiState, r: number, weight: number): void {
  const d = r - s.retShift
  const wd = weight * d
  s.w0 += weight
  s.w1 += wd
  s.w2 += wd * d
  s.w3 += wd * d * d
}

function skewComponent(s: DpiState, t: number): number {
  // Returns in the frame: bars t−N+2 .. t.
  if (s.weighted === 0 || uniformSince(s.retRun, t - s.period + 2)) return 0
  // Moments about the shift lose digits when the weighted mean has moved far from it compared with
  // the spread (m² near e2): re-centre on the current weighted mean first.
  if (offCentre(s.w1 / s.w0, s.w2 / s.w0)) recentreReturns(s)
  const m = s.w1 / s.w0
  const e2 = s.w2 / s.w0
  const e3 = s.w3 / s.w0
  const m2 = e2 - m * m
  if (!(m2 > 0)) return 0
  const m3 = e3 - 3 * m * e2 + 2 * m * m * m
  return Math.tanh(m3 / Math.pow(m2, 1.5))
}

/**
 * True when the mean of the shifted values (m) carries more than half their mean square (e2): the
 * variance e2 − m² then loses more than one bit to cancellation, so the sums are rebuilt around the
 * current mean (O(period), rare on market data: the mean moves slowly against the spread).
 */
const offCentre = (m: number, e2: number) => m * m > 0.5 * e2

function momentumComponent(s: DpiState, t: number, short: number, long: number): number {
  if (uniformSince(s.closeRun, t - s.period + 1) || long === 0) return 0
  return Math.tanh(((short - long) / long) * 20)
}

function clusteringComponent(s: DpiState, t: number): number {
  const count = s.period - SHORT // rolling volatilities in the frame: bars t−N+6 .. t
  if (s.period - 1 < 10 || uniformSince(s.volRun, t - count + 1)) return 0
  if (offCentre(s.v1 / count, s.v2 / count)) recentreVols(s)
  const mean = s.volShift + s.v1 / count
  if (!(mean > 0)) return 0
  const variance = (s.v2 - (s.v1 * s.v1) / count) / (count - 1)
  const std = variance > 0 ? Math.sqrt(variance) : 0
  return Math.tanh(std / mean)
}

/** Sample (n−1) standard deviation of a full ring, two-pass. */
function sampleStd(r: Ring): number {
  const k = r.items.length
  let sum = 0
  for (const x of r.items) sum += x
  const mean = sum / k
  let ss = 0
  for (const x of r.items) ss += (x - mean) * (x - mean)
  return Math.sqrt(ss / (k - 1))
}

/** Recomputes every running sum from the stored frame (bounds drift; re-centres the shifts). */
function resum(s: DpiState): void {
  s.sinceResum = 0
  s.sumV = 0
  s.sumVNet = 0
  for (let i = 0; i < s.volume.items.length; i++) {
    const v = ringAt(s.volume, i)
    s.sumV += v
    s.sumVNet += v * ringAt(s.net, i)
  }
  if (s.ret.items.length > 0) recentreReturns(s)
  if (s.vols.items.length > 0) recentreVols(s)
}

/** Shift = the frame's volume-weighted mean return (the plain mean when it has no volume). */
function recentreReturns(s: DpiState): void {
  const k = s.ret.items.length
  let sv = 0
  let svr = 0
  let sr = 0
  for (let i = 0; i < k; i++) {
    const r = ringAt(s.ret, i)
    const v = ringAt(s.retVolume, i)
    sv += v
    svr += v * r
    sr += r
  }
  s.retShift = sv > 0 ? svr / sv : sr / k
  s.w0 = s.w1 = s.w2 = s.w3 = 0
  for (let i = 0; i < k; i++) addMoments(s, ringAt(s.ret, i), ringAt(s.retVolume, i))
}

function recentreVols(s: DpiState): void {
  let sum = 0
  for (const x of s.vols.items) sum += x
  s.volShift = sum / s.vols.items.length
  s.v1 = s.v2 = 0
  for (const x of s.vols.items) {
    const d = x - s.volShift
    s.v1 += d
    s.v2 += d * d
  }
}
