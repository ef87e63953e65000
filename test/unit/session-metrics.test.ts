// paperd_strategy_session_open: the wall clock against each strategy's session windows, so the
// "no bars in session" alert stays quiet at night and at weekends.
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/env.js'
import { registerSessionMetrics } from '../../src/app/state-metrics.js'

const config = parseConfig({
  accounts: [{ id: 'main', starting_cash: 1000 }],
  strategies: [
    {
      id: 'us-hours',
      account: 'main',
      symbols: ['SPY'],
      timeframe: '1m',
      indicators: { fast: { type: 'sma', period: 2 } },
      entry: { long: { gt: ['close', 'fast'] } },
      exit: { long: { lt: ['close', 'fast'] } },
      session_windows: [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], start: '09:30', end: '16:00', tz: 'America/New_York' }],
      sizing: { fixed_qty: 1 },
    },
    {
      id: 'always',
      account: 'main',
      symbols: ['SPY'],
      timeframe: '1m',
      indicators: { fast: { type: 'sma', period: 2 } },
      entry: { long: { gt: ['close', 'fast'] } },
      exit: { long: { lt: ['close', 'fast'] } },
      sizing: { fixed_qty: 1 },
    },
  ],
})

async function scrape(now: string): Promise<string> {
  const registry = new Registry()
  registerSessionMetrics(registry, config.strategies, () => new Date(now))
  return registry.metrics()
}

describe('paperd_strategy_session_open', () => {
  it('is 1 inside a window (New York time, DST included) and 0 outside; strategies without windows have no series', async () => {
    expect(await scrape('2024-07-09T14:00:00Z')).toMatch(/^paperd_strategy_session_open\{strategy="us-hours"\} 1$/m) // Tue 10:00 EDT
    expect(await scrape('2024-07-09T13:00:00Z')).toMatch(/^paperd_strategy_session_open\{strategy="us-hours"\} 0$/m) // 09:00 EDT
    expect(await scrape('2024-01-09T14:00:00Z')).toMatch(/^paperd_strategy_session_open\{strategy="us-hours"\} 0$/m) // 09:00 EST
    expect(await scrape('2024-01-09T15:00:00Z')).toMatch(/^paperd_strategy_session_open\{strategy="us-hours"\} 1$/m) // 10:00 EST
    expect(await scrape('2024-07-13T15:00:00Z')).toMatch(/^paperd_strategy_session_open\{strategy="us-hours"\} 0$/m) // Saturday
    expect(await scrape('2024-07-09T14:00:00Z')).not.toContain('strategy="always"')
  })
})
