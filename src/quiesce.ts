// "Has every actor processed everything?" — true when every paperd durable consumer has nothing
// pending and nothing unacknowledged, twice in a row with no stream growing in between. Actors ack
// only after their outputs are stored (and the persister only after its commit), so at that point
// every effect of the input is in JetStream and in Postgres.
import type { JetStreamManager } from '@nats-io/jetstream'
import { STREAMS, type StreamName } from './contracts.js'
import { isPaperdDurable } from './runtime/topology.js'

export interface Backlog {
  total: number
  /** durable → pending + unacknowledged, only those not at zero. */
  lagging: Record<string, number>
  streams: Record<string, number>
}

export async function backlog(jsm: JetStreamManager): Promise<Backlog> {
  const out: Backlog = { total: 0, lagging: {}, streams: {} }
  for (const stream of Object.keys(STREAMS) as StreamName[]) {
    const info = await jsm.streams.info(stream)
    out.streams[stream] = info.state.last_seq
    for await (const c of jsm.consumers.list(stream)) {
      if (!isPaperdDurable(c)) continue
      const n = c.num_pending + c.num_ack_pending
      if (n > 0) out.lagging[c.name] = n
      out.total += n
    }
  }
  return out
}

export class QuiesceTimeout extends Error {
  override name = 'QuiesceTimeout'
}

export async function waitForQuiescence(jsm: JetStreamManager, opts: { timeoutMs: number; pollMs?: number; onProgress?: (b: Backlog) => void }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs
  const poll = opts.pollMs ?? 100
  let previous: Backlog | null = null
  for (;;) {
    const now = await backlog(jsm)
    opts.onProgress?.(now)
    if (now.total === 0 && previous?.total === 0 && sameStreams(previous, now)) return
    previous = now
    if (Date.now() > deadline) {
      const lagging = Object.entries(now.lagging).map(([d, n]) => `${d} ${n}`).join(', ')
      throw new QuiesceTimeout(`still processing after ${Math.round(opts.timeoutMs / 1000)} s: ${lagging || 'streams still growing'} (are those actors running?)`)
    }
    await new Promise((r) => setTimeout(r, poll))
  }
}

const sameStreams = (a: Backlog, b: Backlog) => Object.keys(b.streams).every((s) => a.streams[s] === b.streams[s])
