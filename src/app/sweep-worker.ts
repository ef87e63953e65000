// A worker thread of a parameter sweep (sweep.ts): it holds the bars, and runs one backtest per
// config it is sent, answering with each account's report.
import { parentPort, workerData } from 'node:worker_threads'
import type { ConfigFile } from '../core/config-file.js'
import { runBacktest } from './backtest.js'
import { accountReport } from './backtest-report.js'
import type { SweepWorkerInit } from './sweep.js'

const init = workerData as SweepWorkerInit
const port = parentPort!

port.on('message', async ({ job, config }: { job: number; config: ConfigFile }) => {
  try {
    const run = await runBacktest(config, init.inputs, { points: true })
    port.postMessage({ job, reports: config.accounts.map((a) => accountReport(run, a, init.timeframe)) })
  } catch (err) {
    port.postMessage({ job, error: (err as Error).message })
  }
})
