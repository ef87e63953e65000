// A worker thread of `paperd start --threads N`: a whole daemon for one group of actors, answering
// the main thread's questions (metrics, readiness) and its order to stop.
import { parentPort, workerData } from 'node:worker_threads'
import { ConfigError } from '../config/env.js'
import { startDaemon } from './daemon.js'
import { createLogger } from '../telemetry/log.js'
import type { WorkerInit } from './threads.js'

const init = workerData as WorkerInit
const port = parentPort!
const log = createLogger(init.env.logLevel, { format: init.env.logFormat }).child({ thread: init.actors.join(',') })

try {
  const daemon = await startDaemon({
    env: init.env,
    actors: init.actors,
    config: init.config,
    log,
    waitForNats: init.waitForNats,
    processMetrics: false,
    consumerMetrics: init.consumerMetrics,
  })
  port.postMessage({ kind: 'started' })
  void daemon.live.then(() => port.postMessage({ kind: 'live' }))
  port.on('message', async ({ id, kind }: { id: number; kind: 'metrics' | 'ready' | 'stop' }) => {
    try {
      if (kind === 'metrics') port.postMessage({ id, ok: true, data: await daemon.metrics.registry.getMetricsAsJSON() })
      else if (kind === 'ready') {
        const failures = Object.entries(await daemon.readiness()).map(([check, problem]) => `${init.actors.join(',')}: ${check}: ${problem}`)
        port.postMessage({ id, ok: true, data: failures.join('; ') || null })
      } else {
        await daemon.stop()
        port.postMessage({ id, ok: true, data: null })
        port.close()
      }
    } catch (err) {
      port.postMessage({ id, ok: false, error: (err as Error).message })
    }
  })
} catch (err) {
  port.postMessage({ kind: 'failed', error: (err as Error).message, config: err instanceof ConfigError })
  port.close()
}
