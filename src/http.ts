// The per-process HTTP endpoint: /metrics (Prometheus), /healthz (the process is alive) and
// /readyz (connected, topology present, state rebuilt; database reachable when this process
// writes to it). node:http is all it takes.
import { createServer, type Server } from 'node:http'
import type { Registry } from 'prom-client'

export type ReadinessCheck = () => Promise<string | null>

export interface HttpServer {
  server: Server
  port: number
  close(): Promise<void>
}

export async function serveHttp(port: number, registry: Registry, checks: Record<string, ReadinessCheck>): Promise<HttpServer> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    try {
      if (path === '/metrics') {
        const body = await registry.metrics()
        res.writeHead(200, { 'content-type': registry.contentType }).end(body)
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
      } else if (path === '/readyz') {
        const failures: Record<string, string> = {}
        for (const [name, check] of Object.entries(checks)) {
          const problem = await check().catch((err: Error) => err.message)
          if (problem) failures[name] = problem
        }
        const ready = Object.keys(failures).length === 0
        res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(ready ? { status: 'ready' } : { status: 'not ready', failures }))
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
