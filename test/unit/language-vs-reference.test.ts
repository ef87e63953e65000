// The whole strategy language (SPEC §5.2) through the same handlers the daemon runs (paperd
// backtest, in-process), against the independent reference broker: every fill (time, side,
// quantity, price, commission) and the final cash must be equal, on real-shaped daily data and on
// long synthetic series with gaps.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { syntheticBars } from '../../src/app/synthetic-bars.js'
import { runBacktest } from '../../src/app/backtest.js'
import { parseConfig } from '../../src/config/env.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { configOf, LANGUAGE_CASES } from '../support/language-cases.js'
import { referenceBroker, type RefBar } from '../support/reference-strategy-broker.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const orcl = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars as RefBar[]
const series: [string, RefBar[]][] = [
  ['ORCL daily', orcl],
  ['synthetic seed 7', syntheticBars(1500, { seed: 7 }) as RefBar[]],
  ['synthetic seed 42', syntheticBars(1500, { seed: 42, price: 20 }) as RefBar[]],
]

describe.each(series)('the language on %s: backtest = reference broker', (_, bars) => {
  it.each(LANGUAGE_CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const ref = referenceBroker(bars, c.ref)
    const run = await runBacktest(parseConfig(configOf([c], 'SYM')), [{ symbol: 'SYM', timeframe: '1d', bars }])
    const fills = run.fills.map((f) => ({
      ts: f.ts,
      side: f.side,
      qty: f.qty,
      price: f.price,
      commission: f.commission,
      reason: f.intent === 'entry' ? 'entry' : f.exit_reason,
    }))
    expect(ref.fills.length).toBeGreaterThan(4)
    expect(fills).toEqual(ref.fills)
    const last = run.portfolios[run.portfolios.length - 1]!
    expect(last.cash).toBe(ref.cash)
  })
})
