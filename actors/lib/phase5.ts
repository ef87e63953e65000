// Phase-5 metrics (SPEC §5.5, seed 000 = DNYoussef/trader-ai): NarrativeGap, the per-account Brier
// tracker, the DPI sizing enhancement, the Phase-5 sizing product and the phase5_metrics row.
// Pure functions over plain JSON data (the runtime checkpoints actor state as JSON). Functions named
// record* update the state they are given in place and return it, like the rest of actors/lib.
// DPI itself is computed by the indicators library; only its use in sizing lives here.
//
// Sources (trader-ai @5cf4c8a): src/trading/narrative_gap.py (NG, multiplier),
// src/performance/simple_brier.py (Brier window, score, accuracy),
// src/monitoring/phase5_monitor.py (NG strength labels, Brier alert levels, degrading rule),
// scripts/deployment/launch_enhanced_paper_trading.py (brier_adjustment floor, forecast from NG,
// dpi_enhancement, sizing product and 25% cap, phase5_metrics row).

// ---------------------------------------------------------------------------------------------
// NarrativeGap

/** narrative_gap.py `NarrativeGap(max_ng=1.0, min_price_threshold=1.0)`. */
const NG_MAX = 1
const NG_MIN_PRICE = 1

/**
 * NG = |consensus − distribution| ÷ price, capped at 1; 0 when price ≤ 1 or any input is not a
 * finite number. (trader-ai returns 0 for NaN but lets an infinite forecast through to the cap;
 * here every non-finite input gives 0, since a feed sending Infinity is broken, not bullish.)
 * The confidence scaling of calculate_ng is not ported: the paper loop never passes a confidence.
 */
export function narrativeGap(price: number, consensusForecast: number, distributionEstimate: number): number {
  if (!Number.isFinite(price) || !Number.isFinite(consensusForecast) || !Number.isFinite(distributionEstimate)) return 0
  if (price <= NG_MIN_PRICE) return 0
  return Math.min(Math.abs(consensusForecast - distributionEstimate) / price, NG_MAX)
}

/** get_position_multiplier: clamp(1 + NG, 1, 2); 1 for a non-finite NG (trader-ai's "safe default"). */
export function ngMultiplier(ng: number): number {
  if (!Number.isFinite(ng)) return 1
  return Math.min(2, Math.max(1, 1 + ng))
}

type NgStrength = 'weak' | 'moderate' | 'strong'

/** Phase5Monitor.record_ng_signal: weak < 0.02 ≤ moderate < 0.05 ≤ strong. */
const NG_MODERATE = 0.02
const NG_STRONG = 0.05

export function ngStrength(ng: number): NgStrength {
  if (!(ng >= NG_MODERATE)) return 'weak' // NaN is weak too
  return ng < NG_STRONG ? 'moderate' : 'strong'
}

/**
 * The forecast recorded for the Brier tracker: the probability the trade wins, which trader-ai
 * derives from NG as min(0.9, |NG|·10) (launch_enhanced_paper_trading.py, `prediction_confidence`).
 */
export function forecastFromNg(ng: number): number {
  if (!Number.isFinite(ng)) return 0
  return Math.min(0.9, Math.abs(ng) * 10)
}

// ---------------------------------------------------------------------------------------------
// Brier tracker (one per account)

const BRIER_WINDOW = 100
/** Phase5Monitor(alert_threshold_brier=0.4): > 0.4 critical, > 0.4·0.7 warning. */
const BRIER_CRITICAL = 0.4
/**
 * Written as the literal 0.28 (SPEC §5.5). trader-ai compares against 0.4 * 0.7, which in binary
 * floating point is 0.27999999999999997, so a Brier of exactly 0.28 is a warning there and not here.
 */
const BRIER_WARNING = 0.28
/** Phase5Monitor._check_brier_alerts: the last 5 scores strictly increasing = degrading. */
const BRIER_DEGRADING_RUN = 5
/** Brier score with no data (simple_brier.get_brier_score). */
const BRIER_NEUTRAL = 0.5
/** Floor of brier_adjustment (launch script: max(0.1, 1 − brier), "Minimum 10% position size"). */
const BRIER_ADJUSTMENT_FLOOR = 0.1

export interface BrierState {
  window: number
  /** position id → forecast recorded when it opened, waiting for the outcome. */
  pending: Record<string, number>
  /** The rolling window, oldest first; forecasts[i] goes with outcomes[i]. */
  forecasts: number[]
  outcomes: (0 | 1)[]
  /** The Brier score after each of the last BRIER_DEGRADING_RUN outcomes, oldest first. */
  scores: number[]
}

export const newBrier = (window = BRIER_WINDOW): BrierState => {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`Brier window must be a positive integer, got ${window}`)
  return { window, pending: {}, forecasts: [], outcomes: [], scores: [] }
}

/**
 * Records the forecast of a position when it opens. The first forecast of a position wins (adding to
 * an open position or a redelivered open does not replace it). A forecast outside [0, 1] is a bug in
 * the caller (forecastFromNg never produces one) and throws, as simple_brier.record_prediction does.
 */
export function recordForecast(state: BrierState, positionId: string, forecast: number): BrierState {
  if (!(forecast >= 0 && forecast <= 1)) throw new RangeError(`forecast must be in [0, 1], got ${forecast}`)
  if (!Object.hasOwn(state.pending, positionId)) state.pending[positionId] = forecast
  return state
}

/**
 * Records the outcome of a closed position (won = realized P&L > 0): its pending forecast moves into
 * the rolling window (the oldest entry drops out past `window`), and the new score is remembered for
 * the degrading check. A position without a pending forecast (opened before the tracker existed, or
 * an outcome delivered twice) is ignored.
 */
export function recordOutcome(state: BrierState, positionId: string, won: boolean): BrierState {
  if (!Object.hasOwn(state.pending, positionId)) return state
  const forecast = state.pending[positionId]!
  delete state.pending[positionId]
  state.forecasts.push(forecast)
  state.outcomes.push(won ? 1 : 0)
  while (state.forecasts.length > state.window) {
    state.forecasts.shift()
    state.outcomes.shift()
  }
  state.scores.push(brierScore(state))
  while (state.scores.length > BRIER_DEGRADING_RUN) state.scores.shift()
  return state
}

/** mean((forecast − outcome)²) over the window; 0.5 with no data. */
export function brierScore(state: BrierState): number {
  const n = state.forecasts.length
  if (n === 0) return BRIER_NEUTRAL
  let sum = 0
  for (let i = 0; i < n; i++) {
    const d = state.forecasts[i]! - state.outcomes[i]!
    sum += d * d
  }
  return sum / n
}

export const predictionCount = (state: BrierState): number => state.forecasts.length

/** max(0.1, 1 − Brier): 0.5 with no data. */
export function brierAdjustment(state: BrierState): number {
  return Math.max(BRIER_ADJUSTMENT_FLOOR, 1 - brierScore(state))
}

/**
 * simple_brier.get_accuracy: the share of the window where (forecast ≥ 0.5) matches the outcome; 0.5
 * when empty. (The launch script's phase5_metrics row used "share of the last 5 trades with pnl > 0"
 * instead; the brief asks for this one.)
 */
export function recentAccuracy(state: BrierState): number {
  const n = state.forecasts.length
  if (n === 0) return 0.5
  let hits = 0
  for (let i = 0; i < n; i++) if ((state.forecasts[i]! >= 0.5 ? 1 : 0) === state.outcomes[i]) hits++
  return hits / n
}

type BrierLevel = 'normal' | 'warning' | 'critical'

/** Phase5Monitor.record_brier_update: > 0.4 critical, else > 0.28 warning, else normal. */
export function brierLevel(score: number): BrierLevel {
  if (score > BRIER_CRITICAL) return 'critical'
  if (score > BRIER_WARNING) return 'warning'
  return 'normal'
}

/** The last BRIER_DEGRADING_RUN scores (one per outcome) are strictly increasing. */
export function brierDegrading(state: BrierState): boolean {
  const s = state.scores
  if (s.length < BRIER_DEGRADING_RUN) return false
  const run = s.slice(-BRIER_DEGRADING_RUN)
  for (let i = 1; i < run.length; i++) if (!(run[i - 1]! < run[i]!)) return false
  return true
}

type BrierAlert = 'brier_critical' | 'brier_warning' | 'brier_degrading'

/**
 * The alerts that hold now (Phase5Monitor alert type names). Critical and warning exclude each other.
 * With no outcome recorded yet there are none: the neutral 0.5 is a sizing prior, not evidence of bad
 * calibration (trader-ai would raise brier_critical on its first cycle because it compares the 0.5).
 */
export function brierAlerts(state: BrierState): BrierAlert[] {
  if (state.forecasts.length === 0) return []
  const alerts: BrierAlert[] = []
  const level = brierLevel(brierScore(state))
  if (level === 'critical') alerts.push('brier_critical')
  else if (level === 'warning') alerts.push('brier_warning')
  if (brierDegrading(state)) alerts.push('brier_degrading')
  return alerts
}

type HealthStatus = 'healthy' | 'warning' | 'critical'

/**
 * health_status from the alerts, following Phase5Monitor._create_alert's severity ("high" when the
 * type contains "critical", else "medium"): brier_critical → critical; otherwise brier_warning or
 * brier_degrading → warning (degrading alone never escalates to critical); no alert → healthy.
 */
export function healthStatus(state: BrierState): HealthStatus {
  const alerts = brierAlerts(state)
  if (alerts.includes('brier_critical')) return 'critical'
  return alerts.length > 0 ? 'warning' : 'healthy'
}

// ---------------------------------------------------------------------------------------------
// DPI enhancement and sizing

export type Side = 'long' | 'short'

/**
 * 1 + 0.5·DPI aligned with the trade (−DPI for a short), so 0.5…1.5. DPI is clamped to [−1, 1] (it is
 * a tanh, so this only guards bad input); a DPI that is not available (warming up) or not finite
 * gives 1, no enhancement. trader-ai's launch script applied 1 + 0.5·flow_score regardless of side;
 * SPEC §5.5 asks for the aligned version.
 */
export function dpiEnhancement(dpi: number | null | undefined, side: Side): number {
  if (dpi === null || dpi === undefined || !Number.isFinite(dpi)) return 1
  const d = Math.min(1, Math.max(-1, dpi))
  return 1 + 0.5 * (side === 'long' ? d : -d)
}

/** The four numbers every Phase-5 trade row records. */
export interface Phase5Factors {
  ng_score: number
  ng_multiplier: number
  brier_adjustment: number
  dpi_enhancement: number
}

/** Convenience: the four factors of one idea from its NG, its account's tracker and the bar's DPI. */
export function phase5Factors(ng: number, brier: BrierState, dpi: number | null | undefined, side: Side): Phase5Factors {
  const ng_score = Number.isFinite(ng) ? ng : 0
  return {
    ng_score,
    ng_multiplier: ngMultiplier(ng_score),
    brier_adjustment: brierAdjustment(brier),
    dpi_enhancement: dpiEnhancement(dpi, side),
  }
}

/** launch_enhanced_paper_trading.py `max_position_size = 0.25`: a position's notional ≤ 25% of equity. */
const MAX_POSITION_PCT = 0.25

/**
 * How a quantity is rounded: `floor` = whole shares, rounded down (the default: an order never buys
 * more than the product allows, and the cap is never breached); `none` = keep the fraction.
 */
type QtyRounding = 'floor' | 'none'

interface Phase5SizeInput {
  /** The strategy's own size in units (fixed_qty, pct_equity or risk_pct, before Phase-5). */
  base: number
  ngMultiplier: number
  brierAdjustment: number
  dpiEnhancement: number
  equity: number
  price: number
  /** Default 0.25. */
  maxEquityPct?: number
  /** Default 'floor'. */
  rounding?: QtyRounding
}

interface Phase5Size {
  qty: number
  /** base × ng × brier × dpi, before the cap and rounding. */
  raw_qty: number
  /** maxEquityPct·equity ÷ price, before rounding. */
  cap_qty: number
  capped: boolean
  base: number
  ng_multiplier: number
  brier_adjustment: number
  dpi_enhancement: number
}

/**
 * Whole-number floor that forgives binary noise: 100 × 1.1 × … can land at 109.99999999999999 when
 * it is 110 on paper, so values within 1e-9 (relative) below an integer count as that integer.
 */
export function floorQty(q: number): number {
  return Math.floor(q + Math.abs(q) * 1e-9)
}

/**
 * size = base × ng_multiplier × brier_adjustment × dpi_enhancement, capped so that size·price ≤
 * maxEquityPct·equity (trader-ai: min(capital·0.10·ng·brier·dpi, capital·0.25), here with the base in
 * units instead of 10% of capital), then rounded. Bad inputs (non-finite, price ≤ 0, equity ≤ 0,
 * base ≤ 0, a negative factor) give qty 0 rather than a negative or NaN order.
 */
export function phase5Size(input: Phase5SizeInput): Phase5Size {
  const { base, ngMultiplier: ng, brierAdjustment: br, dpiEnhancement: dpi, equity, price } = input
  const pct = input.maxEquityPct ?? MAX_POSITION_PCT
  const rounding = input.rounding ?? 'floor'
  const factors = { base, ng_multiplier: ng, brier_adjustment: br, dpi_enhancement: dpi }
  const finite = [base, ng, br, dpi, equity, price, pct].every(Number.isFinite)
  if (!finite || price <= 0 || equity <= 0 || base <= 0 || ng < 0 || br < 0 || dpi < 0 || pct < 0) {
    return { qty: 0, raw_qty: 0, cap_qty: 0, capped: false, ...factors }
  }
  const raw_qty = base * ng * br * dpi
  const cap_qty = (pct * equity) / price
  const capped = raw_qty > cap_qty
  const q = capped ? cap_qty : raw_qty
  let qty = rounding === 'floor' ? floorQty(q) : q
  // The tolerance must never let the cap through: notional stays ≤ pct·equity.
  if (qty * price > pct * equity) qty = rounding === 'floor' ? Math.floor(cap_qty) : cap_qty
  return { qty, raw_qty, cap_qty, capped, ...factors }
}

// ---------------------------------------------------------------------------------------------
// phase5_metrics rows

/** Running aggregates per account for the phase5_metrics row (plain numbers, lifetime totals). */
export interface Phase5Stats {
  ideas: number
  /** Ideas with NG > 0.02 (SPEC §5.5; trader-ai counted executed trades under this name). */
  ng_signal_count: number
  trades: number
  ng_sum: number
  /** Trades with NG ≥ 0.05, i.e. the 'strong' NG label (trader-ai used |NG| > 0.03). */
  high_ng_trades: number
  dpi_enhancement_sum: number
}

const NG_SIGNAL_THRESHOLD = 0.02
const HIGH_NG_THRESHOLD = NG_STRONG

export const newPhase5Stats = (): Phase5Stats => ({
  ideas: 0,
  ng_signal_count: 0,
  trades: 0,
  ng_sum: 0,
  high_ng_trades: 0,
  dpi_enhancement_sum: 0,
})

/** Once per trade idea (entry) the strategy proposes, with its NG. */
export function recordIdea(stats: Phase5Stats, ng: number): Phase5Stats {
  stats.ideas++
  if (ng > NG_SIGNAL_THRESHOLD) stats.ng_signal_count++
  return stats
}

/** Once per Phase-5 entry that trades (the trade row that records the factors). */
export function recordTrade(stats: Phase5Stats, ng: number, dpiEnhancement: number): Phase5Stats {
  stats.trades++
  stats.ng_sum += Number.isFinite(ng) ? ng : 0
  if (ng >= HIGH_NG_THRESHOLD) stats.high_ng_trades++
  stats.dpi_enhancement_sum += Number.isFinite(dpiEnhancement) ? dpiEnhancement : 1
  return stats
}

interface Phase5MetricsRow {
  brier_score: number
  prediction_count: number
  recent_accuracy: number
  ng_signal_count: number
  avg_ng_score: number
  high_ng_trades: number
  dpi_regime: string | null
  avg_dpi_enhancement: number
  health_status: HealthStatus
}

/**
 * The phase5_metrics row of one account. avg_ng_score is the mean NG of trades (0 with none) and
 * avg_dpi_enhancement the mean enhancement of trades (1 with none), as in trader-ai's
 * _save_metrics_to_db; dpi_regime is the regime the indicators computed (null when not known yet).
 */
export function phase5Metrics(input: { brier: BrierState; stats: Phase5Stats; dpiRegime: string | null }): Phase5MetricsRow {
  const { brier, stats } = input
  return {
    brier_score: brierScore(brier),
    prediction_count: predictionCount(brier),
    recent_accuracy: recentAccuracy(brier),
    ng_signal_count: stats.ng_signal_count,
    avg_ng_score: stats.trades > 0 ? stats.ng_sum / stats.trades : 0,
    high_ng_trades: stats.high_ng_trades,
    dpi_regime: input.dpiRegime,
    avg_dpi_enhancement: stats.trades > 0 ? stats.dpi_enhancement_sum / stats.trades : 1,
    health_status: healthStatus(brier),
  }
}
