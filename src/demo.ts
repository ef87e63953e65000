// The bundled demo of a first run: with no config, `paperd start` trades the canonical SMA cross on
// three synthetic symbols fed on a schedule (a seeded random walk, one daily bar per symbol per
// tick), so something visible trades within a minute. The feed continues after a restart from the
// last bar MD_IN holds, so a restart neither repeats nor skips days.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import { syntheticBars } from '../bench/synthetic-bars.js'
import type { Logger } from './log.js'
import { injectedBar } from './replay.js'

export const DEMO_SYMBOLS = ['DEMO-A', 'DEMO-B', 'DEMO-C'] as const
/** Bars generated per symbol: the demo runs for this many ticks, then stops feeding. */
const DEMO_BARS = 5000

export const DEMO_CONFIG = {
  accounts: [{ id: 'demo', starting_cash: 100_000, costs: { commission_pct: 0.001 } }],
  strategies: [{
    id: 'demo-sma-cross', account: 'demo', symbols: [...DEMO_SYMBOLS], timeframe: '1d',
    indicators: { fast: { type: 'sma', period: 3 }, slow: { type: 'sma', period: 8 } },
    entry: { long: { crossesAbove: ['fast', 'slow'] } },
    exit: { long: { crossesBelow: ['fast', 'slow'] } },
    sizing: { fixed_qty: 100 },
  }],
}

/** Publishes one bar per demo symbol every `intervalMs`; returns a stop function. */
export async function startDemoFeed(js: JetStreamClient, jsm: JetStreamManager, log: Logger, intervalMs: number): Promise<() => void> {
  const series = DEMO_SYMBOLS.map((symbol, i) => ({ symbol, bars: syntheticBars(DEMO_BARS, { seed: 1000 + i, price: 40 + 30 * i, start: '2020-01-02T00:00:00Z' }), next: 0 }))
  for (const s of series) {
    const last = await jsm.streams.getMessage('MD_IN', { last_by_subj: `md.in.bar.${s.symbol}` }).catch(() => null)
    if (!last) continue
    const ts = new Date(JSON.parse(new TextDecoder().decode(last.data)).ts).toISOString()
    s.next = s.bars.findIndex((b) => b.ts > ts)
    if (s.next < 0) s.next = s.bars.length
  }
  log.info({ symbols: DEMO_SYMBOLS, everyMs: intervalMs }, 'demo: no config given, trading the canonical SMA cross on a synthetic feed')
  const timer = setInterval(() => {
    for (const s of series) {
      const bar = s.bars[s.next]
      if (!bar) continue
      s.next++
      js.publish(`md.in.bar.${s.symbol}`, injectedBar(bar, '1d'), { msgID: `demo:${s.symbol}:${bar.ts}` }).catch((err: Error) => log.warn({ err: err.message }, 'demo feed publish'))
    }
  }, intervalMs)
  return () => clearInterval(timer)
}
