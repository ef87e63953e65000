// `node dist/bench/ab.js --a DIR --b DIR [--pairs N] [--bars N]`: two builds of `paperd backtest`
// (DIR: a build's dist, holding src/cli.js), run side by side on the same CSV, N pairs, each pair
// started at the same moment. On a machine whose speed swings by 2x within minutes (a shared vCPU),
// runs one after the other compare the machine's moods more than the builds; a pair shares its
// moment, so the median of the pairs' ratios (B over A) says which build is faster, and its quartiles
// how sure that is. Both builds must print the same report (every fill), or the comparison stops.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { barsCsv, canonicalFor, minuteBars } from './support.js'

const { values: args } = parseArgs({
  options: { a: { type: 'string' }, b: { type: 'string' }, pairs: { type: 'string', default: '20' }, bars: { type: 'string', default: '200000' } },
})
if (!args.a || !args.b) {
  console.error('usage: node dist/bench/ab.js --a DIR --b DIR [--pairs N] [--bars N]   (DIR: a build, e.g. a copy of dist)')
  process.exit(2)
}

/** The median of `xs` and its quartiles (nearest rank). */
function quartiles(xs: readonly number[]): { q1: number; median: number; q3: number } {
  const s = [...xs].sort((x, y) => x - y)
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!
  return { q1: at(0.25), median: at(0.5), q3: at(0.75) }
}

/** One `paperd backtest` of build `dir`: its wall time in seconds, and its report without the time it took. */
function backtest(dir: string, csv: string, config: string, out: string): Promise<{ seconds: number; report: string }> {
  const t0 = performance.now()
  const child = spawn(
    process.execPath,
    [join(resolve(dir), 'src', 'cli.js'), 'backtest', '--config', config, '--data', `${csv}:ORCL:1m`, '--timeframe', '1m', '--out', out],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d))
  return new Promise((done, fail) =>
    child.once('close', (code) => {
      const seconds = (performance.now() - t0) / 1000
      if (code !== 0) return fail(new Error(`${dir}: paperd backtest exited ${code}: ${stderr}`))
      const { seconds: _, ...report } = JSON.parse(readFileSync(out, 'utf8')) as { seconds: number }
      done({ seconds, report: JSON.stringify(report) })
    }),
  )
}

const dir = mkdtempSync(join(tmpdir(), 'paperd-ab-'))
try {
  const csv = join(dir, 'bars.csv')
  writeFileSync(csv, barsCsv(minuteBars(Number(args.bars), 7)))
  const config = join(dir, 'config.json')
  writeFileSync(config, JSON.stringify(canonicalFor(['ORCL'])))
  const ratios: number[] = []
  const a: number[] = []
  const b: number[] = []
  for (let i = 0; i < Number(args.pairs); i++) {
    const [ra, rb] = await Promise.all([backtest(args.a, csv, config, join(dir, 'a.json')), backtest(args.b, csv, config, join(dir, 'b.json'))])
    if (ra.report !== rb.report) throw new Error('the two builds printed different reports: not the same trades, nothing to compare')
    a.push(ra.seconds)
    b.push(rb.seconds)
    ratios.push(rb.seconds / ra.seconds)
    process.stderr.write(`\rpair ${i + 1}/${args.pairs}: A ${ra.seconds.toFixed(2)} s, B ${rb.seconds.toFixed(2)} s`)
  }
  const r = quartiles(ratios)
  const f = (x: number) => x.toFixed(3)
  console.log(
    `\nA ${args.a}: median ${f(quartiles(a).median)} s\nB ${args.b}: median ${f(quartiles(b).median)} s\nB / A, median of ${ratios.length} pairs: ${f(r.median)} (quartiles ${f(r.q1)}–${f(r.q3)})`,
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
