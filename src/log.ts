// pino JSON logs; one child logger per actor and scope is made by the runtime. Anything that can
// carry a secret (connection strings, tokens, passwords) is redacted wherever it appears.
import { pino, type Logger } from 'pino'

export const REDACT_PATHS = [
  'databaseUrl', 'natsUrl', 'password', 'pass', 'token', 'secret',
  '*.databaseUrl', '*.natsUrl', '*.password', '*.pass', '*.token', '*.secret', 'config.nats',
]

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const opts = { level, base: { svc: 'paperd' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
  return destination ? pino(opts, destination as never) : pino(opts)
}

/** Removes user:password@ from a URL so it can be shown. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.username || u.password) {
      u.username = u.username ? '***' : ''
      u.password = u.password ? '***' : ''
    }
    return u.toString()
  } catch {
    return '[unparseable url]'
  }
}

export type { Logger }
