// Reading a stretch of a stream by sequence: the runtime's two reads of history (rebuilding a scope
// by replay, and the bars a handler looks up) share it. It must read the whole stretch: a replay
// that stopped early would leave a state behind its consumers' positions, and a lookup that found
// fewer bars than the stream holds would change a decision.
import {
  DeliverPolicy,
  jetstream,
  type Consumer,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type MsgRequest,
  type StoredMsg,
} from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Io } from './io.js'

/** How long one pull waits; a pull that comes back empty is simply made again (a loaded server). */
const FETCH_EXPIRES_MS = 2000

/**
 * Creating the ordered consumer that reads a stretch: how long one try waits, and how many tries.
 * On a JetStream cluster with a node down, nats-server 2.9 keeps placing a share of new R1
 * consumers on the dead node for minutes (it does not count a killed peer as offline), and such a
 * creation is never answered. Trying again soon places it elsewhere; waiting the client's usual 10 s
 * each time stalled every scope that read history while a node was down.
 */
const CREATE_TIMEOUT_MS = 2500
const CREATE_TRIES = 12

const shortClients = new WeakMap<NatsConnection, JetStreamClient>()

/**
 * Messages on `filter` with stream sequence in [from, to], read by an ordered consumer. The reading
 * ends on what the stream holds, never on the server's count of what is left: nats-server 2.9.10
 * miscounts a consumer's pending messages for some filters with a wildcard before the last token
 * (`trade.*.<account>`; fixed in 2.9.15) — it said 0 with a fill still to come, and a rebuild that
 * stopped there left the risk gate waiting for that fill for ever. So a count of 0, or a pull that
 * ends short of `to`, only prompts the question, asked of the stream itself by one message get.
 */
export async function* streamRange(
  io: Pick<Io, 'nc' | 'js' | 'jsm'>,
  stream: string,
  filter: string | undefined,
  from: number,
  to: number,
): AsyncGenerator<JsMsg> {
  if (to < from) return
  // Whether the stretch holds anything at all, and where it starts. An empty pull proves nothing
  // (the server may just be slow), so the reading below stops only on what the stream says.
  const first = (await nextOnFilter(io.jsm, stream, filter, from))?.seq
  if (first === undefined || first > to) return
  const consumer = await orderedConsumer(io, stream, filter, first)
  let last = first - 1
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: FETCH_EXPIRES_MS })
    for await (const m of batch) {
      if (m.seq > to) return
      yield m
      last = m.seq
      if (m.seq === to) return
      if (m.info.pending === 0 && !(await holdsMore(io, stream, filter, last, to))) return
    }
    if (!(await holdsMore(io, stream, filter, last, to))) return
  }
}

/** The first message on `filter` at or after `seq`, or null (STREAM.MSG.GET next_by_subj, nats-server 2.9+). */
export function nextOnFilter(jsm: JetStreamManager, stream: string, filter: string | undefined, seq: number): Promise<StoredMsg | null> {
  // next_by_subj is part of the server's MSG.GET API; nats.js only types it for direct gets.
  return jsm.streams.getMessage(stream, { seq, next_by_subj: filter ?? '>' } as unknown as MsgRequest)
}

/** Whether a message on `filter` lies in (after, to]. */
async function holdsMore(io: Pick<Io, 'jsm'>, stream: string, filter: string | undefined, after: number, to: number): Promise<boolean> {
  const next = await nextOnFilter(io.jsm, stream, filter, after + 1)
  return next !== null && next.seq <= to
}

async function orderedConsumer(io: Pick<Io, 'nc' | 'js'>, stream: string, filter: string | undefined, start: number): Promise<Consumer> {
  let js = shortClients.get(io.nc)
  if (!js) shortClients.set(io.nc, (js = jetstream(io.nc, { timeout: CREATE_TIMEOUT_MS })))
  for (let attempt = 1; ; attempt++) {
    try {
      return await js.consumers.get(stream, {
        ...(filter ? { filter_subjects: filter } : {}),
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: start,
      })
    } catch (err) {
      if (!/timeout/i.test((err as Error).message) || attempt >= CREATE_TRIES) throw err
    }
  }
}
