// Timeframe tokens (1m, 15m, 4h, 1d, 1w) as durations.
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }

export function timeframeMs(tf: string): number {
  const m = /^([1-9][0-9]*)(s|m|h|d|w)$/.exec(tf)
  if (!m) throw new Error(`bad timeframe ${tf}`)
  return Number(m[1]) * UNIT_MS[m[2]!]!
}
