// Every indicator type declared by a strategy, computed by the running daemon on a replayed daily
// CSV and stored by the persister in snapshot_indicators, equals an independent whole-array
// reference to 1e-9 relative after warm-up, and is absent before it.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IndicatorSpec } from '../../actors/lib/indicators/index.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { reference } from '../support/reference-indicators.js'
import { startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars

const DECLARED: Record<string, IndicatorSpec> = {
  fast: { type: 'sma', period: 10 },
  e12: { type: 'ema', period: 12 },
  rsi: { type: 'rsi', period: 14 },
  macd: { type: 'macd', fast: 12, slow: 26, signal: 9 },
  atr: { type: 'atr', period: 14 },
  bb: { type: 'bbands', period: 20, stddev: 2 },
  hi: { type: 'highest', period: 20 },
  lo: { type: 'lowest', period: 20 },
  dpi: { type: 'dpi', period: 20 },
}

const config = {
  accounts: [{ id: 'main', starting_cash: 10000 }],
  strategies: [
    {
      id: 'all-indicators',
      account: 'main',
      symbols: ['ORCL'],
      timeframe: '1d',
      indicators: DECLARED,
      entry: { long: { all: [{ gt: ['rsi', 101] }, { gt: ['macd.hist', 'bb.upper'] }, { lt: ['dpi.value', 'hi'] }] } },
      sizing: { fixed_qty: 1 },
    },
  ],
}

describe('indicator values in snapshot_indicators', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack(config)
    await stack.start()
  })
  afterAll(async () => stack?.close())

  it('match an independent implementation to 1e-9 relative after warm-up, for every declared indicator', async () => {
    const run = await stack.cli(['replay', CSV, '--symbol', 'ORCL', '--wait', '--timeout', '90'])
    expect(run.code).toBe(0)
    const rows = await stack.sql<{ ts: Date; values: Record<string, number> }[]>`select ts, "values" from snapshot_indicators where symbol = 'ORCL' order by ts`
    expect(rows).toHaveLength(bars.length)
    let compared = 0
    for (const [name, spec] of Object.entries(DECLARED)) {
      const want = reference(spec, bars)
      rows.forEach((row, i) => {
        const expected = want[i]
        for (const [suffix, value] of Object.entries(expected ?? {})) {
          const key = suffix === '' ? name : `${name}.${suffix}`
          const got = row.values[key]
          expect(got, `${key} at ${row.ts.toISOString()}`).toBeDefined()
          expect(Math.abs(got! - value) <= 1e-9 * Math.max(1, Math.abs(value)), `${key} at ${row.ts.toISOString()}: ${got} vs ${value}`).toBe(true)
          compared++
        }
        if (!expected)
          expect(
            Object.keys(row.values).filter((k) => k === name || k.startsWith(`${name}.`)),
            `${name} before warm-up`,
          ).toEqual([])
      })
    }
    expect(compared).toBeGreaterThan(bars.length * 10)
  })
})
