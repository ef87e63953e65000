// Deterministic synthetic daily bars (a seeded random walk), for tests and benchmarks that need
// realistic-looking data without shipping market data.
import type { CsvBar } from '../core/csv.js'

export type SyntheticBar = CsvBar

/** mulberry32: a tiny seeded PRNG, so the same seed gives the same series everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100

interface SyntheticOptions {
  seed?: number
  start?: string
  price?: number
  /** Bar spacing; daily bars (the default) skip weekends. */
  stepMs?: number
}

/** The series bar after bar, without end: the same bars as syntheticBars, as many as are taken. */
export function* syntheticBarStream(opts: SyntheticOptions = {}): Generator<SyntheticBar, never> {
  const rand = prng(opts.seed ?? 42)
  const stepMs = opts.stepMs ?? 86_400_000
  let t = Date.parse(opts.start ?? '2015-01-02T00:00:00Z')
  let close = opts.price ?? 50
  for (let i = 0; ; i++) {
    const open = round2(Math.max(1, close * (1 + (rand() - 0.5) * 0.02)))
    close = round2(Math.max(1, open * (1 + (rand() - 0.5) * 0.04 + Math.sin(i / 40) * 0.004)))
    const high = round2(Math.max(open, close) * (1 + rand() * 0.01))
    const low = round2(Math.min(open, close) * (1 - rand() * 0.01))
    yield { ts: new Date(t).toISOString(), open, high, low, close, volume: Math.round(1e6 * (0.5 + rand())) }
    t += stepMs
    if (stepMs === 86_400_000) while ([0, 6].includes(new Date(t).getUTCDay())) t += stepMs
  }
}

export function syntheticBars(n: number, opts: SyntheticOptions = {}): SyntheticBar[] {
  const out: SyntheticBar[] = []
  if (n <= 0) return out
  for (const bar of syntheticBarStream(opts)) {
    out.push(bar)
    if (out.length >= n) break
  }
  return out
}
