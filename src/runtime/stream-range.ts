// Reading a stretch of a stream by sequence: the runtime's two reads of history (rebuilding a scope
// by replay, and the bars a handler looks up) share it.
import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream'
import type { Io } from './io.js'

/** Messages on `filter` with stream sequence in [from, to], read by an ordered consumer. */
export async function* streamRange(io: Pick<Io, 'js'>, stream: string, filter: string | undefined, from: number, to: number): AsyncGenerator<JsMsg> {
  if (to < from) return
  const consumer = await io.js.consumers.get(stream, { ...(filter ? { filter_subjects: filter } : {}), deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from })
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 })
    let n = 0
    for await (const m of batch) {
      n++
      if (m.seq > to) return
      yield m
      if (m.seq === to || m.info.pending === 0) return
    }
    if (n === 0) return
  }
}
