// Connecting to NATS: reconnect forever (a NATS redeploy must never strand an actor), wait for a
// server that starts after us, log every connection status change. A server that answers but
// refuses us (credentials, TLS) is no reason to wait: that is a one-line error at once.
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node'
import type { NatsOptions } from '../../config/env.js'
import type { Logger } from '../../telemetry/log.js'

const RETRY_MS = 1000

/**
 * `waitForServer`: the daemon keeps trying until NATS is up (it may start after us); one-shot
 * commands give up after the connect timeout with a clear error instead. Either way a refusal
 * (wrong credentials, a certificate that does not verify) fails at once.
 */
export async function connectNats(opts: NatsOptions, name: string, log: Logger, waitForServer: boolean, connectTimeoutMs = 10_000): Promise<NatsConnection> {
  const { credsFile, ...rest } = opts
  const options: NodeConnectionOptions = {
    ...rest,
    // Read at every (re)connect: credentials rotated in place are picked up without a restart.
    ...(credsFile !== undefined ? { authenticator: credsAuthenticator(() => readFileSync(credsFile)) } : {}),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: RETRY_MS,
    // Waiting for the first connection is done below, not by nats.js: its waitOnFirstConnect retries
    // refusals (a bad certificate, wrong credentials) forever, silently.
    waitOnFirstConnect: false,
    timeout: connectTimeoutMs,
    // By default every request (so every JetStream publish) builds two Error objects up front just
    // to keep async stack traces: a fifth of the daemon's CPU under load. Errors still carry messages.
    noAsyncTraces: true,
  }
  let nc: NatsConnection
  let attempt = 1
  for (; ; attempt++) {
    try {
      nc = await connect(options)
      break
    } catch (err) {
      const refused = refusal(err, opts) ?? (isTimeout(err) ? await diagnose(options, opts) : null)
      if (refused) throw new Error(refused)
      if (!waitForServer) throw err
      if (attempt === 1) log.warn({ servers: opts.servers, err: oneLine((err as Error).message) }, 'NATS is not reachable yet; retrying every second')
      await sleep(RETRY_MS)
    }
  }
  if (attempt > 1) log.info({ servers: opts.servers }, 'nats connected')
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'ping' || s.type === 'update') continue
      const level = s.type === 'disconnect' || s.type === 'error' || s.type === 'staleConnection' ? 'warn' : 'info'
      log[level]({ nats: s.type }, `nats ${s.type}`)
    }
  })()
  return nc
}

function isTimeout(err: unknown): boolean {
  return (err as Error)?.name === 'TimeoutError'
}

/**
 * Why a connection timed out, when the server refused us after the TLS handshake (with TLS 1.3 a
 * server that rejects the client certificate says so only then): nats.js, set to reconnect, retries
 * that until the connect timeout and reports a timeout. One attempt without reconnects shows the
 * server's answer. Null when it is not a refusal (or the attempt now succeeds).
 */
async function diagnose(options: NodeConnectionOptions, opts: NatsOptions): Promise<string | null> {
  // The server may reset the connection before its TLS alert is read: a few tries.
  for (let i = 0; i < 3; i++) {
    try {
      await (await connect({ ...options, name: `${options.name} (diagnosis)`, reconnect: false })).close()
      return null
    } catch (err) {
      const refused = refusal(err, opts)
      if (refused) return refused
    }
  }
  return null
}

/** How this process authenticates, for an error message: never a secret. */
function credentials(opts: NatsOptions): string {
  if (opts.credsFile !== undefined) return `the creds file ${opts.credsFile} (NATS_CREDS)`
  if (opts.user !== undefined) return `user ${opts.user} and its password from NATS_URL`
  if (opts.token !== undefined) return 'the token from NATS_URL'
  return 'no credentials (set NATS_CREDS or put them in NATS_URL)'
}

/** A clear one-line reason when the server answered but will not have us; null when it may just not be up yet. */
export function refusal(err: unknown, opts: NatsOptions): string | null {
  const e = err as Error & { code?: unknown; cause?: { code?: unknown } }
  const message = oneLine(String(e?.message ?? err))
  if (e?.name === 'AuthorizationError' || e?.name === 'UserAuthenticationExpiredError' || /authorization violation|authentication expired/i.test(message)) {
    return `NATS refused the connection (${message}) with ${credentials(opts)}`
  }
  if (/does not support 'tls'|tls is not available/i.test(message)) {
    return 'the NATS server does not offer TLS, which this client requires (tls:// in NATS_URL or NATS_TLS_*)'
  }
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : ''
  const alert = /alert ([a-z ]+?)(?::|$)/i.exec(message)?.[1]
  if (alert && code.startsWith('ERR_SSL_')) {
    return `TLS with NATS failed: the server refused this client (TLS alert "${alert}"); it wants a client certificate it trusts (NATS_TLS_CERT, NATS_TLS_KEY)`
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_|^ERR_TLS_(?!HANDSHAKE_TIMEOUT)|^ERR_SSL_/.test(code)) {
    return `TLS with NATS failed: ${message} (${code}); NATS_TLS_CA must name the CA that signed the server's certificate`
  }
  return null
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim()
}
