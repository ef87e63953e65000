// Reading a stretch of a stream by sequence: the runtime's two reads of history (rebuilding a scope
// by replay, and the bars a handler looks up) share it. It must read the whole stretch: a replay
// that stopped early would leave a state behind its consumers' positions, and a lookup that found
// fewer bars than the stream holds would change a decision.
import { DeliverPolicy, type JsMsg, type MsgRequest } from '@nats-io/jetstream'
import type { Io } from './io.js'

/** How long one pull waits; a pull that comes back empty is simply made again (a loaded server). */
const FETCH_EXPIRES_MS = 2000

/** Messages on `filter` with stream sequence in [from, to], read by an ordered consumer. */
export async function* streamRange(io: Pick<Io, 'js' | 'jsm'>, stream: string, filter: string | undefined, from: number, to: number): AsyncGenerator<JsMsg> {
  if (to < from) return
  // Whether the stretch holds anything at all, and where it starts. An empty pull proves nothing
  // (the server may just be slow), so the reading below stops only on what the messages say.
  const first = await io.jsm.streams.getMessage(stream, { seq: from, next_by_subj: filter ?? '>' } as unknown as MsgRequest)
  if (!first || first.seq > to) return
  const consumer = await io.js.consumers.get(stream, {
    ...(filter ? { filter_subjects: filter } : {}),
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: first.seq,
  })
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: FETCH_EXPIRES_MS })
    for await (const m of batch) {
      if (m.seq > to) return
      yield m
      // The last of the stretch, or the last message on the filter for now: nothing more to read.
      if (m.seq === to || m.info.pending === 0) return
    }
  }
}
