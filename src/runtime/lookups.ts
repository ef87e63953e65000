// Reads what a handler's `lookup` names (ActorDef.lookup): bars of one symbol stored in MD after a
// stream position. The first bars are fetched one message get at a time (STREAM.MSG.GET
// next_by_subj, nats-server 2.9+), the rest of a longer stretch with an ordered consumer: most
// lookups need a few bars, and a get is cheaper than creating a consumer — and, on a cluster with a
// node down, cannot be placed on the dead node (see stream-range.ts). Any error propagates: the caller retries the
// read (the stream is append-only, so a retry finds the same bars), it is never the message's fault.
import type { BarLookup, Found, FoundBar } from '../core/actor.js'
import type { Bar } from '../core/contracts.js'
import { subjectOf } from '../core/subjects.js'
import type { Io } from './io.js'
import { nextOnFilter, streamRange } from './stream-range.js'

/** Up to this many messages of a lookup are read one get at a time; the rest by a consumer. */
const DIRECT_GETS = 16

export async function readLookups(
  io: Pick<Io, 'nc' | 'js' | 'jsm' | 'codec' | 'partitions' | 'tape' | 'metrics'>,
  lookups: readonly BarLookup[],
): Promise<Found> {
  const found: { lookup: BarLookup; bars: FoundBar[] }[] = []
  for (const l of lookups) {
    if (l.through <= l.after) {
      found.push({ lookup: l, bars: [] })
      continue
    }
    // Bars this process has just handled are on its tape; the rest are read from the stream.
    const held = io.tape?.read(l)
    io.metrics.lookups.inc({ source: held ? 'memory' : 'stream' })
    found.push({ lookup: l, bars: held ?? (await readBars(io, l)) })
  }
  return found
}

async function readBars(io: Pick<Io, 'nc' | 'js' | 'jsm' | 'codec' | 'partitions'>, l: BarLookup): Promise<FoundBar[]> {
  const subject = subjectOf('md.bar', { symbol: l.symbol }, io.partitions)
  const out: FoundBar[] = []
  const limit = l.limit ?? Infinity
  const take = (seq: number, subj: string, data: Uint8Array): boolean => {
    const bar = io.codec.decode(subj, data, { seq, msgId: undefined }).data as Bar
    if (l.timeframe === undefined || bar.timeframe === l.timeframe) out.push({ seq, bar })
    return out.length < limit
  }
  let seq = l.after + 1
  for (let gets = 0; gets < DIRECT_GETS && seq <= l.through; gets++) {
    const sm = await nextOnFilter(io.jsm, 'MD', subject, seq)
    if (!sm || sm.seq > l.through || !take(sm.seq, sm.subject, sm.data)) return out
    seq = sm.seq + 1
  }
  if (seq <= l.through) for await (const m of streamRange(io, 'MD', subject, seq, l.through)) if (!take(m.seq, m.subject, m.data)) break
  return out
}
