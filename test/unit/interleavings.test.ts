import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runBacktest } from '../../src/app/backtest.js'
import { parseConfig } from '../../src/config/env.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { configOf, LANGUAGE_CASES } from '../support/language-cases.js'
import { runUpstream, simulate } from '../support/interleavings.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const config = parseConfig(configOf(LANGUAGE_CASES, 'ORCL'))
const inputs = [{ symbol: 'ORCL', timeframe: '1d', bars }]
const up = runUpstream(config, inputs)
const key = (f: { id: string; ts: string; side: string; qty: number; price: number; commission: number }) => ({
  id: f.id,
  ts: f.ts,
  side: f.side,
  qty: f.qty,
  price: f.price,
  commission: f.commission,
})

describe('gate and executor under every interleaving', async () => {
  const reference = await runBacktest(config, inputs)
  for (const c of LANGUAGE_CASES) {
    const expected = reference.fills
      .filter((f) => f.account === c.account)
      .map(key)
      .sort((a, b) => a.id.localeCompare(b.id))
    it(`${c.account}: random schedules and kills give the backtest's fills`, () => {
      for (let seed = 1; seed <= 40; seed++) {
        const run = simulate(config, up, c.account, { seed, killRate: seed % 2 ? 0.05 : 0 })
        expect(
          run.fills.map(key).sort((a, b) => a.id.localeCompare(b.id)),
          `seed ${seed}`,
        ).toEqual(expected)
      }
    })
  }
})
