// The in-process backtest's own shortcuts must not show in its results: published messages are not
// re-validated unless asked (the handlers are trusted code), one input already in time order is fed
// without the merge's copy and sort, and a run for a report keeps only what a report reads of the
// portfolios. Each is checked against the slow way here.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { syntheticBars } from '../../src/app/synthetic-bars.js'
import { PROGRESS_EVERY, runBacktest } from '../../src/app/backtest.js'
import { accountReport, portfolioPoints } from '../../src/app/backtest-report.js'
import { parseConfig } from '../../src/config/env.js'
import { parseBarColumns, parseBarsCsv } from '../../src/core/csv.js'
import { configOf, LANGUAGE_CASES } from '../support/language-cases.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const orcl = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const config = parseConfig(configOf(LANGUAGE_CASES, 'SYM'))

describe('runBacktest', () => {
  it('with validate on, every message the handlers publish passes its contract, and the run is the same', async () => {
    const inputs = [{ symbol: 'SYM', timeframe: '1d', bars: orcl }]
    const trusted = await runBacktest(config, inputs)
    const validated = await runBacktest(config, inputs, { validate: true })
    expect(trusted.fills.length).toBeGreaterThan(100)
    expect(JSON.stringify(validated)).toBe(JSON.stringify(trusted))
  })

  it('lookups read bars made again from their inputs: with validate on, each md.bar is checked equal to its remake as it is published, contexts riding on it included', async () => {
    const inputs = [
      { symbol: 'SYM', timeframe: '1d', bars: orcl.slice(0, 400) },
      { symbol: 'ALT', timeframe: '1d', bars: syntheticBars(400, { seed: 9, start: orcl[0]!.ts }) },
    ]
    // A context every 25 bars of each symbol: the bars after it carry it.
    const contexts = inputs.flatMap(({ symbol, bars }) =>
      bars.filter((_, i) => i % 25 === 3).map((b, i) => ({ symbol, ts: b.ts, consensus_forecast: 1 + i / 10, distribution_estimate: 2 + i / 20 })),
    )
    const trusted = await runBacktest(config, inputs, { contexts })
    const validated = await runBacktest(config, inputs, { contexts, validate: true })
    expect(trusted.fills.length).toBeGreaterThan(10)
    expect(JSON.stringify(validated)).toBe(JSON.stringify(trusted))
  })

  it('bars given as columns (as paperd backtest reads a CSV) run exactly as the same bars as objects, alone or merged with others', async () => {
    const text = readFileSync(CSV, 'utf8')
    const columns = parseBarColumns(text, CSV).bars
    expect(columns.length).toBe(orcl.length)
    const asObjects = await runBacktest(config, [{ symbol: 'SYM', timeframe: '1d', bars: orcl }])
    const asColumns = await runBacktest(config, [{ symbol: 'SYM', timeframe: '1d', bars: columns }])
    expect(asObjects.fills.length).toBeGreaterThan(100)
    expect(JSON.stringify(asColumns)).toBe(JSON.stringify(asObjects))
    // A row the daemon would refuse (its high under its low): left out of the times as of the run.
    const lines = text.trimEnd().split('\n')
    const cells = lines[40]!.split(',')
    lines[40] = [cells[0], cells[1], '1', '2', ...cells.slice(4)].join(',')
    const bad = lines.join('\n')
    const badRun = await runBacktest(config, [{ symbol: 'SYM', timeframe: '1d', bars: parseBarColumns(bad, CSV).bars }])
    expect(badRun.refused).toHaveLength(1)
    expect(badRun.times).toHaveLength(orcl.length - 1)
    expect(JSON.stringify(badRun)).toBe(JSON.stringify(await runBacktest(config, [{ symbol: 'SYM', timeframe: '1d', bars: parseBarsCsv(bad, CSV).bars }])))
    const other = { symbol: 'ALT', timeframe: '1d', bars: syntheticBars(300, { seed: 4, start: orcl[0]!.ts }) }
    const merged = await runBacktest(config, [{ symbol: 'SYM', timeframe: '1d', bars: orcl }, other])
    expect(JSON.stringify(await runBacktest(config, [{ symbol: 'SYM', timeframe: '1d', bars: columns }, other]))).toBe(JSON.stringify(merged))
  })

  it('a long run reports its progress as it goes, and runs the same', async () => {
    const bars = syntheticBars(PROGRESS_EVERY + 10, { seed: 8, stepMs: 60_000 })
    const inputs = [{ symbol: 'SYM', timeframe: '1m', bars }]
    const told: [number, number][] = []
    const reported = await runBacktest(config, inputs, { points: true, onProgress: (fed, total) => told.push([fed, total]) })
    expect(told).toEqual([[PROGRESS_EVERY, bars.length]])
    expect(JSON.stringify(reported)).toBe(JSON.stringify(await runBacktest(config, inputs, { points: true })))
  })

  it('a run for a report (points) keeps of each portfolio what a report reads, and reports the same', async () => {
    const inputs = [{ symbol: 'SYM', timeframe: '1d', bars: orcl }]
    const whole = await runBacktest(config, inputs)
    const points = await runBacktest(config, inputs, { points: true })
    expect(whole.portfolios.length).toBeGreaterThan(1000)
    expect(points.portfolios).toEqual(portfolioPoints(whole.portfolios))
    expect(points.portfolios.ts).toHaveLength(whole.portfolios.length)
    const { portfolios: _a, ...rest } = whole
    const { portfolios: _b, ...restPoints } = points
    expect(JSON.stringify(restPoints)).toBe(JSON.stringify(rest))
    for (const account of config.accounts) expect(accountReport(points, account, '1d')).toEqual(accountReport(whole, account, '1d'))
  })

  it('an input out of time order runs as if it were sorted, bars of equal time in input order', async () => {
    const bars = syntheticBars(600, { seed: 5 })
    // Every tenth bar again with another close: the second of a pair contradicts the first and is refused.
    const sorted = bars.flatMap((b, i) => (i % 10 === 0 ? [b, { ...b, close: b.open }] : [b]))
    // Newest first; the sort is stable, so each pair of equal times keeps its order.
    const reversed = [...sorted].sort((a, b) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0))
    const inOrder = await runBacktest(config, [{ symbol: 'SYM', timeframe: '1d', bars: sorted }])
    const outOfOrder = await runBacktest(config, [{ symbol: 'SYM', timeframe: '1d', bars: reversed }])
    expect(inOrder.fills.length).toBeGreaterThan(10)
    expect(JSON.stringify(outOfOrder)).toBe(JSON.stringify(inOrder))
  })

  it('a bar contradicting one already accepted at its time is refused with both values, as the daemon dead-letters it; a true duplicate is not', async () => {
    const bars = syntheticBars(50, { seed: 3 })
    const b = bars[20]!
    const input = [...bars.slice(0, 21), { ...b }, { ...b, close: b.high }, ...bars.slice(21)]
    const run = await runBacktest(config, [{ symbol: 'SYM', timeframe: '1d', bars: input }])
    expect(run.refused).toEqual([
      {
        symbol: 'SYM',
        ts: b.ts,
        reason:
          `md.in.bar: the SYM 1d bar of ${b.ts} contradicts the one already accepted: open ${b.open} high ${b.high} low ${b.low} close ${b.close} volume ${b.volume} accepted, ` +
          `open ${b.open} high ${b.high} low ${b.low} close ${b.high} volume ${b.volume} received (corrections are not applied: indicators and trades already used the accepted bar)`,
      },
    ])
    const clean = await runBacktest(config, [{ symbol: 'SYM', timeframe: '1d', bars }])
    expect(run.fills.length).toBeGreaterThan(0)
    expect(JSON.stringify([run.fills, run.portfolios, run.positions])).toBe(JSON.stringify([clean.fills, clean.portfolios, clean.positions]))
  })
})
