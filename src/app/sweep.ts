// Parameter sweeps: `paperd backtest --grid fast=5:20:5 --grid slow=20:60:10` runs the backtest once
// per combination, on worker threads, and ranks the combinations by a metric. A parameter is an
// indicator's period by the indicator's name (`fast`), or a path into every strategy that has it
// (`exit.stop_loss.pct`, `sizing.fixed_qty`). `--walk-forward K` splits the bars into K + 1 windows:
// each fold picks the best combination on one window and reports it on the next, unseen one.
import { availableParallelism } from 'node:os'
import type { ConfigFile } from '../core/config-file.js'
import { parseConfig } from '../config/env.js'
import type { BacktestInput, BacktestSeries } from './backtest.js'
import { appModule, startWorker } from './threads.js'
import type { accountReport, RankMetric } from './backtest-report.js'

export type Report = ReturnType<typeof accountReport>
type Params = Record<string, number>

interface Grid {
  name: string
  values: number[]
}

/** `fast=5:20:5` (from:to:step, to included) or `fast=5,8,13`. */
export function parseGrid(spec: string): Grid {
  const m = /^([A-Za-z_][\w.]*)=(.+)$/.exec(spec)
  if (!m) throw new Error(`--grid ${spec}: expected NAME=FROM:TO:STEP or NAME=V1,V2,… (e.g. fast=5:20:5)`)
  const [, name, range] = m
  let values: number[]
  const r = /^(-?[\d.]+):(-?[\d.]+):([\d.]+)$/.exec(range!)
  if (r) {
    const [from, to, step] = [Number(r[1]), Number(r[2]), Number(r[3])]
    if (!(step > 0) || to < from) throw new Error(`--grid ${spec}: the step must be positive and TO at least FROM`)
    values = []
    // Steps counted, not added up, so 0.1 steps land on 0.3 and not 0.30000000000000004.
    const decimals = Math.max(...[r[1], r[3]].map((x) => x!.split('.')[1]?.length ?? 0))
    for (let i = 0; from + i * step <= to + 1e-9; i++) values.push(Number((from + i * step).toFixed(decimals)))
  } else values = range!.split(',').map((v) => Number(v.trim()))
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`--grid ${spec}: every value must be a number`)
  if (values.length > 1000) throw new Error(`--grid ${spec}: ${values.length} values; at most 1000`)
  return { name: name!, values }
}

/** Every combination of the grids' values, the first grid varying slowest. */
export function combinations(grids: Grid[]): Params[] {
  let out: Params[] = [{}]
  for (const g of grids) out = out.flatMap((p) => g.values.map((v) => ({ ...p, [g.name]: v })))
  return out
}

type Json = Record<string, unknown>

/**
 * The config with the parameters set in every strategy that has them: a bare name is the period of
 * the indicator of that name, a dotted path is set where its parent exists. A parameter that
 * matches nothing is an error (a typo would otherwise sweep nothing).
 */
export function withParams(raw: Json, params: Params): ConfigFile {
  const doc = structuredClone(raw) as { strategies?: Json[] }
  for (const [name, value] of Object.entries(params)) {
    let matched = false
    for (const s of doc.strategies ?? []) {
      const path = name.includes('.') ? name.split('.') : ['indicators', name, 'period']
      let node: Json | undefined = s
      for (const key of path.slice(0, -1)) node = node && typeof node[key] === 'object' && node[key] !== null ? (node[key] as Json) : undefined
      if (!node || (!name.includes('.') && !(path.at(-1)! in node))) continue
      node[path.at(-1)!] = value
      matched = true
    }
    if (!matched) throw new Error(`--grid ${name}: no strategy has ${name.includes('.') ? `a ${name}` : `an indicator named "${name}" with a period`}`)
  }
  return parseConfig(
    doc,
    `config with ${Object.entries(params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  )
}

export interface SweepResult {
  params: Params
  /** One report per account of the config. */
  reports: Report[]
}

const WORKER_URL = appModule('sweep-worker')

/** The data a sweep worker holds for its whole life: the bars once, then a config per job. */
export interface SweepWorkerInit {
  inputs: BacktestSeries[]
  timeframe: string
}

/** Runs the backtest of every config on `threads` workers; results in the order of `configs`. */
export async function runConfigs(
  configs: ConfigFile[],
  init: SweepWorkerInit,
  opts: { threads?: number; onProgress?: (done: number) => void } = {},
): Promise<Report[][]> {
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), configs.length))
  const results: Report[][] = new Array(configs.length)
  let next = 0
  let done = 0
  const workers = Array.from({ length: threads }, () => startWorker(WORKER_URL, init))
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const give = () => {
              if (next >= configs.length) return resolve()
              const job = next++
              w.postMessage({ job, config: configs[job] })
            }
            w.on('message', (m: { job: number; reports?: Report[]; error?: string }) => {
              if (m.error) return reject(new Error(m.error))
              results[m.job] = m.reports!
              opts.onProgress?.(++done)
              give()
            })
            w.on('error', reject)
            give()
          }),
      ),
    )
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
  return results
}

/** A report's value of a metric, for ranking: missing (too few trades) ranks last. */
function metricOf(r: Report, metric: RankMetric): number {
  const v = r[metric]
  if (v === null || !Number.isFinite(v)) return Number.NEGATIVE_INFINITY
  return metric === 'max_drawdown' ? -v : v
}

/** Results best first by the metric of one account; ties keep the grid's order. */
export function ranked(results: SweepResult[], metric: RankMetric, account: number): SweepResult[] {
  return results
    .map((r, i) => ({ r, i }))
    .sort((a, b) => metricOf(b.r.reports[account]!, metric) - metricOf(a.r.reports[account]!, metric) || a.i - b.i)
    .map((x) => x.r)
}

/** The inputs cut to the bars whose time falls in [from, to). */
export function window(inputs: BacktestInput[], from: string, to: string | null): BacktestInput[] {
  return inputs.map((i) => ({ ...i, bars: i.bars.filter((b) => b.ts >= from && (to === null || b.ts < to)) }))
}

/** K + 1 windows of the bar times, as equal in bars as the times allow: their start times. */
export function windowStarts(inputs: BacktestInput[], k: number): string[] {
  const times = [...new Set(inputs.flatMap((i) => i.bars.map((b) => b.ts)))].sort()
  if (times.length < 2 * (k + 1)) throw new Error(`--walk-forward ${k}: ${times.length} bar times are too few for ${k + 1} windows`)
  return Array.from({ length: k + 1 }, (_, w) => times[Math.floor((w * times.length) / (k + 1))]!)
}
