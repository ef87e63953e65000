// How long to wait before the n-th retry of something that failed for a reason outside the message
// (NATS restarting, a database down): exponential from `base`, capped, with full jitter so that
// many scopes failing together do not retry in lockstep.
export function backoff(attempt: number, base = 100, cap = 5_000, random: () => number = Math.random): number {
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/** Waits `ms`, or less if `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
