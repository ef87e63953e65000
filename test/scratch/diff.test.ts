import { readFileSync } from 'node:fs'
import { it } from 'vitest'
import { runBacktest } from '../../src/backtest.js'
import { parseConfig } from '../../src/config.js'
import { parseBarsCsv } from '../../src/csv.js'
import { configOf, LANGUAGE_CASES } from '../support/language-cases.js'
import { referenceBroker, type RefBar } from '../support/reference-strategy-broker.js'
const CSV = 'test/fixtures/ORCL-daily.csv'
import { syntheticBars } from '../../bench/synthetic-bars.js'
const bars = (process.env.SEED ? syntheticBars(1500, { seed: Number(process.env.SEED), price: 20 }) : parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars) as RefBar[]
it('diff', async () => {
  for (const c of LANGUAGE_CASES.filter((c) => c.account === process.env.CASE)) {
    const ref = referenceBroker(bars, c.ref)
    const run = await runBacktest(parseConfig(configOf([c], 'SYM')), [{ symbol: 'SYM', timeframe: '1d', bars }])
    const fills = run.fills.map((f) => ({ ts: f.ts, side: f.side, qty: f.qty, price: f.price, commission: f.commission, reason: f.intent === 'entry' ? 'entry' : f.exit_reason }))
    for (let i = 0; i < Math.max(fills.length, ref.fills.length); i++) {
      if (JSON.stringify(fills[i]) !== JSON.stringify(ref.fills[i])) {
        console.log(c.account, i, '\nours', JSON.stringify(fills.slice(Math.max(0, i - 2), i + 3), null, 0), '\nref ', JSON.stringify(ref.fills.slice(Math.max(0, i - 2), i + 3), null, 0))
        
        break
      }
    }
  }
})
