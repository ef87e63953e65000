// The bundled demo of a first run: with no config, `paperd start` trades the canonical SMA cross on
// three synthetic symbols fed on a schedule (a seeded random walk of 1-minute bars, one bar per
// symbol per tick), so something visible trades within a minute, and goes on for as long as paperd
// runs (a minute of market time per tick: centuries of bars). The feed continues after a restart
// from the last bar MD_IN holds, so a restart neither repeats nor skips a bar.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import { syntheticBarStream, type SyntheticBar } from './synthetic-bars.js'
import type { Logger } from '../telemetry/log.js'
import { injectedBar } from './replay.js'
import { inputSubject } from '../core/subjects.js'

const DEMO_SYMBOLS = ['DEMO-A', 'DEMO-B', 'DEMO-C'] as const
const DEMO_TIMEFRAME = '1m'
const DEMO_START = '2020-01-02T00:00:00Z'

export const DEMO_CONFIG = {
  accounts: [{ id: 'demo', starting_cash: 100_000, costs: { commission_pct: 0.001 } }],
  strategies: [
    {
      id: 'demo-sma-cross',
      account: 'demo',
      symbols: [...DEMO_SYMBOLS],
      timeframe: DEMO_TIMEFRAME,
      indicators: { fast: { type: 'sma', period: 3 }, slow: { type: 'sma', period: 8 } },
      entry: { long: { crossesAbove: ['fast', 'slow'] } },
      exit: { long: { crossesBelow: ['fast', 'slow'] } },
      sizing: { fixed_qty: 100 },
    },
  ],
}

/** Publishes one bar per demo symbol every `intervalMs`; returns a stop function. */
export async function startDemoFeed(js: JetStreamClient, jsm: JetStreamManager, log: Logger, intervalMs: number): Promise<() => void> {
  const series: { symbol: string; bars: Generator<SyntheticBar, never>; next: SyntheticBar }[] = []
  for (const [i, symbol] of DEMO_SYMBOLS.entries()) {
    const bars = syntheticBarStream({ seed: 1000 + i, price: 40 + 30 * i, start: DEMO_START, stepMs: 60_000 })
    let next = bars.next().value
    const last = await jsm.streams.getMessage('MD_IN', { last_by_subj: inputSubject('md.in.bar', symbol) }).catch(() => null)
    if (last) {
      // Walk the seeded series past the last bar sent (a few million steps take about a second).
      const sent = new Date(JSON.parse(new TextDecoder().decode(last.data)).ts).toISOString()
      while (next.ts <= sent) next = bars.next().value
    }
    series.push({ symbol, bars, next })
  }
  log.info(
    { symbols: DEMO_SYMBOLS, timeframe: DEMO_TIMEFRAME, everyMs: intervalMs, from: series[0]!.next.ts },
    'demo: no config given, trading the canonical SMA cross on a synthetic feed',
  )
  const timer = setInterval(() => {
    for (const s of series) {
      const bar = s.next
      s.next = s.bars.next().value
      js.publish(inputSubject('md.in.bar', s.symbol), injectedBar(bar, DEMO_TIMEFRAME), { msgID: `demo:${s.symbol}:${bar.ts}` }).catch((err: Error) =>
        log.warn({ err: err.message }, 'demo feed publish'),
      )
    }
  }, intervalMs)
  return () => clearInterval(timer)
}
