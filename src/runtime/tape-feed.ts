// The tape (bar-tape.ts) of a process that looks bars up but runs no scope reading every md.bar: the
// risk gate of a process whose executor scopes run elsewhere (a replica, a `--threads` group, an
// actor deployed on its own). Without it each of the gate's lookups — the bars of every held symbol,
// for every idea and fill — went to the stream one message get at a time: with the executor in
// another worker thread, 1,000 bars/s over 100 symbols kept nats-server busy with gets and put the
// fills 40 s behind. So while a scope of this process looks bars up and none records on the tape,
// an ordered consumer of every md.bar (from the newest on) does; it stops when that is no longer so.
// Lookups give the same bars either way (the stream is append-only): this only decides how fast.
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream'
import type { Bar } from '../core/contracts.js'
import { filterOf } from '../core/subjects.js'
import { backoff, sleep } from './backoff.js'
import type { BarTape } from './bar-tape.js'
import { InvalidMessage } from './codec.js'
import type { Io } from './io.js'

const ALL_BARS = filterOf('md.bar')

export async function feedTape(io: Pick<Io, 'js' | 'codec' | 'log'> & { tape: BarTape }, signal: AbortSignal): Promise<void> {
  const { tape } = io
  for (let failures = 0; !signal.aborted; ) {
    if (!tape.wanted()) {
      await untilChange(tape, signal)
      continue
    }
    let messages: ConsumerMessages | undefined
    const stop = () => messages?.stop()
    const unwatch = tape.watch(() => !tape.wanted() && stop())
    signal.addEventListener('abort', stop, { once: true })
    try {
      const consumer = await io.js.consumers.get('MD', { filter_subjects: ALL_BARS, deliver_policy: DeliverPolicy.New })
      messages = await consumer.consume({ max_messages: 1000 })
      // Stopped while it was being made.
      if (signal.aborted || !tape.wanted()) stop()
      // The ordered consumer delivers every md.bar after its start, in order: each follows the one before.
      let prev = 0
      for await (const m of messages) {
        if (!tape.wanted()) break
        try {
          const bar = io.codec.decode(m.subject, m.data, { seq: m.seq, msgId: undefined }).data as Bar
          // The first claims nothing about what came before it.
          tape.record(prev || m.seq, m.seq, bar)
        } catch (err) {
          if (!(err instanceof InvalidMessage)) throw err
          tape.forget(m.seq)
        }
        prev = m.seq
        failures = 0
      }
      // Still wanted, yet the consumer ended on its own: made again, but not in a tight loop.
      if (!signal.aborted && tape.wanted()) throw new Error('the md.bar consumer ended')
    } catch (err) {
      if (signal.aborted) break
      failures++
      io.log.warn({ err: (err as Error).message, failures }, 'following md.bar for lookups failed; retrying (lookups read the stream meanwhile)')
      await sleep(backoff(failures, 500, 10_000), signal)
    } finally {
      unwatch()
      signal.removeEventListener('abort', stop)
      stop()
    }
  }
}

/** Resolves when a scope that records on the tape or reads it starts or stops, or on abort. */
function untilChange(tape: BarTape, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      unwatch()
      signal.removeEventListener('abort', done)
      resolve()
    }
    const unwatch = tape.watch(done)
    signal.addEventListener('abort', done, { once: true })
  })
}
