// A durable is never without a pull waiting at the server: the next pull goes out while the one
// before still waits. When each pull was sent only after the one before ended, every durable went
// unserved for a moment each time a pull expired (every two seconds), and longer when nats-server
// 2.9.10 dropped the expiry's 408 — the stalls behind the bar → fill tail at 1,000 bars/s.
// nats-server hands the waiting pulls their messages in turn, so this also checks that the
// interleaved deliveries reach the mailbox in the order the server made them, each exactly once.
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pump, checkOrder, type Item, type PullTiming } from '../../src/runtime/intake.js'
import { Mailbox } from '../../src/runtime/mailbox.js'
import type { LiveInput } from '../../src/runtime/rebuild.js'
import { ensureStreams } from '../../src/runtime/topology.js'
import { natsPerFile } from '../support/nats-per-file.js'
import { testIo } from '../support/runtime-io.js'

const nats = natsPerFile()
let spy: NatsConnection
beforeAll(async () => {
  spy = await connect({ servers: nats.server.url })
})
afterAll(async () => {
  await spy?.close()
})

// nats.js takes no pull shorter than a second.
const TIMING: PullTiming = { expiresMs: 1000, renewMs: 500, heartbeatMs: 250, graceMs: 100 }

describe('pulling a durable', () => {
  it('sends each pull before the one before expires, and delivers every message once, in order', async () => {
    const jsm = await jetstreamManager(nats.nc)
    const js = jetstream(nats.nc)
    await ensureStreams(jsm)
    await jsm.consumers.add('MD', { durable_name: 'd', ack_policy: AckPolicy.All, max_ack_pending: 2000 })

    // Every pull request on the wire, when it was sent.
    const pulls: { at: number; expiresMs: number }[] = []
    spy.subscribe('$JS.API.CONSUMER.MSG.NEXT.MD.d', {
      callback: (_err, m) => {
        pulls.push({ at: performance.now(), expiresMs: (m.json<{ expires: number }>().expires ?? 0) / 1e6 })
      },
    })
    await spy.flush()

    const io = await testIo(nats.nc)
    const input: LiveInput = { spec: { stream: 'MD', accepts: [] }, durable: 'd', config: { durable_name: 'd' } }
    const mailbox = new Mailbox<Item>()
    const stop = new AbortController()
    const pumping = pump(input, mailbox, io, stop.signal, io.log, TIMING)

    // A steady trickle over several pull lifetimes, taken and acknowledged as a scope does.
    const N = 200
    const seen: number[] = []
    const positions = new Map<string, number>()
    const deliveries = new Map<string, number>()
    const taking = (async () => {
      while (seen.length < N) {
        const batch = (await mailbox.take(500))!
        checkOrder(batch, positions, deliveries, 0, io) // throws Resync on a gap or a step back
        for (const { m } of batch) seen.push(m.seq)
        positions.set('d', batch.at(-1)!.m.seq)
        batch.at(-1)!.m.ack()
      }
    })()
    for (let i = 0; i < N; i++) {
      await js.publish(`md.bar.${i % 7}.SYM${i % 5}`, String(i))
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    // A pump that gave up would leave the taker waiting: either ends the wait.
    await Promise.race([taking, pumping.then(() => Promise.reject(new Error('the pump stopped on its own')))])
    stop.abort()
    const t0 = performance.now()
    await pumping
    const stoppedMs = performance.now() - t0

    expect(seen).toEqual(Array.from({ length: N }, (_, i) => i + 1))
    // Over ~4 s of pulls living a second each: never a moment without one waiting.
    expect(pulls.length).toBeGreaterThanOrEqual(4)
    for (let i = 1; i < pulls.length; i++) expect(pulls[i]!.at).toBeLessThan(pulls[i - 1]!.at + pulls[i - 1]!.expiresMs)
    // A stop lets the pulls in progress run out, no longer.
    expect(stoppedMs).toBeLessThan(TIMING.expiresMs + TIMING.graceMs + 1500)
    await nats.nc.flush()
    const info = await jsm.consumers.info('MD', 'd')
    expect(info.num_ack_pending).toBe(0)
    expect(info.delivered.stream_seq).toBe(N)
    io.publisher.close()
  }, 30_000)
})
