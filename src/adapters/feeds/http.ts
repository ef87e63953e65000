// One way to ask a market-data provider for JSON: Node's fetch, a timeout per attempt, and retries
// for what passes (429 and 5xx, a connection refused or reset), with jittered exponential backoff
// that honours Retry-After. Anything else (bad credentials, an unknown symbol) fails at once. Errors
// and log lines carry the URL with its credentials masked; headers are never logged.
import { backoff, sleep } from '../../runtime/backoff.js'

export class ProviderError extends Error {
  override name = 'ProviderError'
  constructor(
    message: string,
    /** HTTP status, or 0 for no answer at all. */
    readonly status: number,
    /** Whether asking again later may succeed (a 429, a 5xx, no answer). */
    readonly transient: boolean,
  ) {
    super(message)
  }
}

export interface HttpOptions {
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Attempts before giving up (the first included). */
  attempts?: number
  timeoutMs?: number
  /** Called before each wait: why, and for how long (a log line, a metric). */
  onRetry?: (why: string, waitMs: number) => void
}

const SECRET_PARAMS = /([?&](?:api_key|token|apikey|key)=)[^&]*/gi
/** The URL as it may be shown: credentials in the query string masked. */
export const shownUrl = (url: string): string => url.replace(SECRET_PARAMS, '$1***')

/** Retry-After as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (!value) return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}

const MAX_WAIT_MS = 5 * 60_000

export async function getJson(url: string, opts: HttpOptions = {}): Promise<unknown> {
  const attempts = opts.attempts ?? 6
  for (let attempt = 1; ; attempt++) {
    let failure: ProviderError
    let wait: number | null = null
    try {
      const res = await fetch(url, {
        headers: { accept: 'application/json', ...opts.headers },
        signal: opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs ?? 30_000)]) : AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      })
      if (res.ok) {
        try {
          return await res.json()
        } catch {
          throw new ProviderError(`${shownUrl(url)}: the answer is not JSON`, res.status, false)
        }
      }
      const body = (await res.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ')
      const transient = res.status === 429 || res.status >= 500
      failure = new ProviderError(`${shownUrl(url)}: HTTP ${res.status}${body ? ` ${body}` : ''}`, res.status, transient)
      wait = retryAfterMs(res.headers.get('retry-after'))
    } catch (err) {
      if (err instanceof ProviderError) throw err
      if (opts.signal?.aborted) throw new ProviderError(`${shownUrl(url)}: stopped`, 0, true)
      failure = new ProviderError(
        `${shownUrl(url)}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
        0,
        true,
      )
    }
    if (!failure.transient || attempt >= attempts) throw failure
    // Retry-After is a floor: a little jitter on top, so replicas told the same do not come back together.
    const ms = Math.min(MAX_WAIT_MS, wait === null ? backoff(attempt, 1000, 60_000) : wait + Math.round(Math.random() * Math.min(1000, wait / 10 + 100)))
    opts.onRetry?.(failure.message, ms)
    await sleep(ms, opts.signal)
    if (opts.signal?.aborted) throw new ProviderError(`${shownUrl(url)}: stopped`, 0, true)
  }
}
