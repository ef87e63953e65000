// The per-process HTTP endpoint: /metrics (Prometheus), /healthz (the process is alive) and
// /readyz (connected, topology present, state rebuilt; database reachable when this process
// writes to it). node:http is all it takes.
import { createServer, type Server } from 'node:http'

type ReadinessCheck = () => Promise<string | null>

/** A prom-client Registry, or anything that renders metrics the same way. */
interface MetricsSource {
  metrics(): Promise<string>
  contentType: string
}

export interface HttpServer {
  server: Server
  port: number
  close(): Promise<void>
}

export async function serveHttp(port: number, registry: MetricsSource, checks: Record<string, ReadinessCheck>): Promise<HttpServer> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    try {
      if (path === '/metrics') {
        const body = await registry.metrics()
        res.writeHead(200, { 'content-type': registry.contentType }).end(body)
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
      } else if (path === '/readyz') {
        const failures = await readiness(checks)
        const ready = Object.keys(failures).length === 0
        res
          .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify(ready ? { status: 'ready' } : { status: 'not ready', failures }))
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz, /readyz\n')
      }
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err))
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, () => resolve())
  })
  const address = server.address()
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** Runs every check; the ones that fail, with what they said. */
export async function readiness(checks: Record<string, ReadinessCheck>): Promise<Record<string, string>> {
  const failures: Record<string, string> = {}
  for (const [name, check] of Object.entries(checks)) {
    const problem = await check().catch((err: Error) => err.message)
    if (problem) failures[name] = problem
  }
  return failures
}
