// pino logs; one child logger per actor and scope is made by the runtime. Anything that can carry a
// secret (connection strings, tokens, passwords) is redacted wherever it appears, before formatting.
// JSON lines by default; `pretty` (a person at a terminal) is one readable line per entry.
import { pino, type DestinationStream, type Logger } from 'pino'
import { prettyFactory } from 'pino-pretty'
import type { LogFormat } from '../config/env.js'

const REDACT_PATHS = [
  'databaseUrl',
  'natsUrl',
  'password',
  'pass',
  'token',
  'secret',
  '*.databaseUrl',
  '*.natsUrl',
  '*.password',
  '*.pass',
  '*.token',
  '*.secret',
  'config.nats',
  'providers',
  '*.providers',
  'headers',
  '*.headers',
]

export interface LogOptions {
  /** json (default) or pretty. */
  format?: LogFormat
  /** A stream to write to (tests, the bench); otherwise file descriptor `fd`. */
  stream?: NodeJS.WritableStream
  /** 1 (stdout, the default) or 2 (stderr, for commands whose stdout is their output). */
  fd?: 1 | 2
}

export function createLogger(level: string, options: LogOptions = {}): Logger {
  const opts = { level, base: { svc: 'paperd' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
  if (options.format === 'pretty') return pino(opts, prettyDestination(options))
  if (options.stream) return pino(opts, options.stream as never)
  return options.fd === 2 ? pino(opts, pino.destination({ dest: 2, sync: true })) : pino(opts)
}

/**
 * `[12:00:01.234] INFO: message {"actor":"persister",…}`: pino-pretty's formatter, run in place and
 * written synchronously (no transport thread), so the last lines before an exit are never lost.
 * Colours when the terminal takes them (NO_COLOR and FORCE_COLOR are honoured, by colorette).
 */
function prettyDestination(options: LogOptions): DestinationStream {
  const sink = options.stream ?? pino.destination({ dest: options.fd ?? 1, sync: true })
  const pretty = prettyFactory({
    singleLine: true,
    // `err` as one more field on the line rather than an indented block of its own.
    errorLikeObjectKeys: [],
    ignore: 'pid,hostname,svc',
    translateTime: 'SYS:HH:MM:ss.l',
    // A stream of our own (a test, a file) is no terminal; fd 1 or 2 get colours when it is one.
    ...(options.stream ? { colorize: false } : {}),
  })
  return { write: (line: string) => void sink.write(pretty(line)) }
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
