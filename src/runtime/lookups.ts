// Reads what a handler's `lookup` names (ActorDef.lookup): bars of one symbol stored in MD after a
// stream position. The first bars are fetched one message get at a time (STREAM.MSG.GET
// next_by_subj, nats-server 2.9+), the rest of a longer stretch with an ordered consumer: most
// lookups need a few bars, and a get is cheaper than creating a consumer — and, on a cluster with a
// node down, cannot be placed on the dead node (see stream-range.ts). Any error propagates: the caller retries the
// read (the stream is append-only, so a retry finds the same bars), it is never the message's fault.
import type { BarLookup, Found, FoundBar } from '../core/actor.js'
import type { MsgRequest } from '@nats-io/jetstream'
import type { Bar } from '../core/contracts.js'
import { subjectOf } from '../core/subjects.js'
import type { Io } from './io.js'
import { streamRange } from './stream-range.js'

/** Up to this many messages of a lookup are read one get at a time; the rest by a consumer. */
const DIRECT_GETS = 16

export async function readLookups(io: Pick<Io, 'nc' | 'js' | 'jsm' | 'codec' | 'partitions'>, lookups: readonly BarLookup[]): Promise<Found> {
  const found: { lookup: BarLookup; bars: FoundBar[] }[] = []
  for (const l of lookups) found.push({ lookup: l, bars: l.through > l.after ? await readBars(io, l) : [] })
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
    // next_by_subj is part of the server's MSG.GET API; nats.js only types it for direct gets.
    const sm = await io.jsm.streams.getMessage('MD', { seq, next_by_subj: subject } as unknown as MsgRequest)
    if (!sm || sm.seq > l.through || !take(sm.seq, sm.subject, sm.data)) return out
    seq = sm.seq + 1
  }
  if (seq <= l.through) for await (const m of streamRange(io, 'MD', subject, seq, l.through)) if (!take(m.seq, m.subject, m.data)) break
  return out
}

/** The same reads over bars held in memory (the backtest, tests): symbol → bars in stream order. */
export function lookupInMemory(bars: (symbol: string) => readonly FoundBar[] | undefined, lookups: readonly BarLookup[]): Found {
  return lookups.map((l) => {
    const list = bars(l.symbol)
    const out: FoundBar[] = []
    if (!list || l.through <= l.after) return { lookup: l, bars: out }
    const limit = l.limit ?? Infinity
    // First bar after `after` by binary search: the lists are in stream order.
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (list[mid]!.seq <= l.after) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < list.length && out.length < limit; i++) {
      const f = list[i]!
      if (f.seq > l.through) break
      if (l.timeframe === undefined || f.bar.timeframe === l.timeframe) out.push(f)
    }
    return { lookup: l, bars: out }
  })
}
