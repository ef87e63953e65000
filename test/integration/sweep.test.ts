// Parameter sweeps: 16 combinations on worker threads give exactly the numbers of 16 single
// backtests; the CLI ranks them, walks forward fold by fold, and refuses a parameter no strategy has.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runBacktest } from '../../src/app/backtest.js'
import { accountReport } from '../../src/app/backtest-report.js'
import { combinations, parseGrid, runConfigs, windowStarts, withParams } from '../../src/app/sweep.js'
import { parseBarColumns, parseBarsCsv } from '../../src/core/csv.js'
import { promisify } from 'node:util'
import { execFile } from 'node:child_process'

const CSV = 'test/fixtures/ORCL-daily.csv'
const inputs = [{ symbol: 'ORCL', timeframe: '1d', bars: parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars }]
const raw = JSON.parse(readFileSync('examples/canonical.json', 'utf8')) as Record<string, unknown>

async function cli(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', ['dist/src/cli.js', ...args], { timeout: 120_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

describe('parameter sweeps', () => {
  it('16 combinations on worker threads return exactly what 16 single backtests return', async () => {
    const combos = combinations([parseGrid('fast=5:20:5'), parseGrid('slow=20:50:10')])
    expect(combos).toHaveLength(16)
    const configs = combos.map((p) => withParams(raw, p))
    const swept = await runConfigs(configs, { inputs, timeframe: '1d' }, { threads: 2 })
    for (const [i, config] of configs.entries()) {
      const single = accountReport(await runBacktest(config, inputs), config.accounts[0]!, '1d')
      expect(swept[i]![0], JSON.stringify(combos[i])).toEqual(single)
    }
    // The combinations differ (the sweep is not the same run sixteen times).
    expect(new Set(swept.map((r) => r[0]!.final_equity)).size).toBeGreaterThan(4)
    // The bars handed to the workers as columns (what `paperd backtest --grid` does): the same reports.
    const columns = [{ ...inputs[0]!, bars: parseBarColumns(readFileSync(CSV, 'utf8'), CSV).bars }]
    expect(await runConfigs(configs, { inputs: columns, timeframe: '1d' }, { threads: 2 })).toEqual(swept)
  }, 120_000)

  it('reads ranges and lists, and refuses what cannot be swept', () => {
    expect(parseGrid('fast=5:20:5').values).toEqual([5, 10, 15, 20])
    expect(parseGrid('exit.stop_loss.pct=0.1:0.3:0.1').values).toEqual([0.1, 0.2, 0.3])
    expect(parseGrid('slow=30,50,200').values).toEqual([30, 50, 200])
    expect(() => parseGrid('fast')).toThrow(/expected NAME=FROM:TO:STEP/)
    expect(() => parseGrid('fast=20:5:5')).toThrow(/TO at least FROM/)
    expect(() => withParams(raw, { nope: 3 })).toThrow('--grid nope: no strategy has an indicator named "nope" with a period')
    expect(() => withParams(raw, { fast: -1 })).toThrow(/strategies\[0\]\.indicators\.fast\.period/)
    expect(withParams(raw, { 'sizing.fixed_qty': 7 }).strategies[0]!.sizing.fixed_qty).toBe(7)
    expect(windowStarts(inputs, 3)).toHaveLength(4)
  })

  it('paperd backtest --grid ranks the combinations; --walk-forward reports each fold on unseen bars', async () => {
    const base = ['backtest', '--config', 'examples/canonical.json', '--data', `${CSV}:ORCL`]
    const run = await cli([...base, '--grid', 'fast=5:20:5', '--grid', 'slow=20:50:10', '--rank', 'total_return'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^16 combinations of fast, slow over 750 bars, account main, ranked by total_return/m)
    const rows = run.stdout.split('\n').filter((l) => /^ *\d+ +\d+ +\d+ /.test(l))
    expect(rows).toHaveLength(16)
    const returns = rows.map((l) => Number(l.trim().split(/\s+/)[3]!.replace('%', '')))
    expect(returns).toEqual([...returns].sort((a, b) => b - a))
    const wf = await cli([...base, '--grid', 'fast=5:15:5', '--grid', 'slow=20:40:10', '--walk-forward', '3'])
    expect(wf.code, wf.stderr).toBe(0)
    expect(wf.stdout).toMatch(/^walk-forward: 3 folds/m)
    expect(wf.stdout.split('\n').filter((l) => /^ *[123] +\d{4}-\d{2}-\d{2}…/.test(l))).toHaveLength(3)
    const bad = await cli([...base, '--grid', 'nope=1:3:1'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--grid nope: no strategy has an indicator named "nope" with a period')
  }, 180_000)
})
