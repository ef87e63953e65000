// A scope that fails is rebuilt after a delay: backing off to 30 s for a failure of its own, but to
// 5 s at most while the server could not answer (a cluster electing leaders after a node died), so
// it is back soon after the server is.
import { JetStreamApiError } from '@nats-io/jetstream'
import { describe, expect, it } from 'vitest'
import { restartDelay } from '../../src/runtime/run-actor.js'

const unavailable = new JetStreamApiError({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' })
const most = () => 1 // the longest delay the jitter gives

describe('restartDelay', () => {
  it('backs off from 1 s and doubles', () => {
    expect([1, 2, 3, 4].map((n) => restartDelay(new Error('boom'), n, most))).toEqual([1000, 2000, 4000, 8000])
  })

  it('caps a failure of its own at 30 s, and the server being unavailable at 5 s', () => {
    expect(restartDelay(new Error('boom'), 20, most)).toBe(30_000)
    expect(restartDelay(unavailable, 20, most)).toBe(5_000)
    expect(restartDelay(new Error('timeout'), 20, most)).toBe(5_000)
  })

  it('waits at least half of it (jitter)', () => {
    expect(restartDelay(unavailable, 20, () => 0)).toBe(2_500)
    expect(restartDelay(new Error('boom'), 20, () => 0)).toBe(15_000)
  })
})
