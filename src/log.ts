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

/**
 * A URL fit to show: the password masked (user:***@host). A user with no password may be a token
 * (nats://token@host), so it is masked too.
 */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    else if (u.username) u.username = '***'
    return u.toString()
  } catch {
    return '[unparseable url]'
  }
}

export type { Logger }
