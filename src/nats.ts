// Connecting to NATS: reconnect forever (a NATS redeploy must never strand an actor), wait for a
// server that starts after us, log every connection status change.
import { connect, type NatsConnection } from '@nats-io/transport-node'
import type { NatsOptions } from './config.js'
import type { Logger } from './log.js'

/**
 * `waitForServer`: the daemon keeps trying until NATS is up (it may start after us); one-shot
 * commands give up after the connect timeout with a clear error instead.
 */
export async function connectNats(opts: NatsOptions, name: string, log: Logger, waitForServer: boolean, connectTimeoutMs = 10_000): Promise<NatsConnection> {
  const nc = await connect({
    ...opts,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    waitOnFirstConnect: waitForServer,
    timeout: connectTimeoutMs,
    // By default every request (so every JetStream publish) builds two Error objects up front just
    // to keep async stack traces: a fifth of the daemon's CPU under load. Errors still carry messages.
    noAsyncTraces: true,
  })
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'ping' || s.type === 'update') continue
      const level = s.type === 'disconnect' || s.type === 'error' || s.type === 'staleConnection' ? 'warn' : 'info'
      log[level]({ nats: s.type }, `nats ${s.type}`)
    }
  })()
  return nc
}
