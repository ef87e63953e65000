// The paper-executor's read-only port into the bar stream: the first bar of a symbol stored after
// a given stream sequence (the signal bar's). A plain stream lookup (STREAM.MSG.GET next_by_subj,
// available since nats-server 2.9), so an order fills on the same bar whatever the timing.
import type { JetStreamManager, MsgRequest } from '@nats-io/jetstream'
import type { MarketData } from '../actors/paper-executor.js'
import type { Codec } from './codec.js'
import { subjectOf, type Bar } from './contracts.js'

export function streamMarketData(jsm: JetStreamManager, codec: Codec, partitions: number): MarketData {
  return {
    async nextBar(symbol, timeframe, afterSeq) {
      const subject = subjectOf('md.bar', { symbol }, partitions)
      for (let seq = afterSeq + 1; ; ) {
        // next_by_subj is part of the server's MSG.GET API; nats.js only types it for direct gets.
        const query = { seq, next_by_subj: subject } as unknown as MsgRequest
        const sm = await jsm.streams.getMessage('MD', query)
        if (!sm) return null
        const bar = codec.decode(sm.subject, sm.data, { seq: sm.seq, msgId: undefined }).data as Bar
        if (bar.timeframe === timeframe) return { bar, seq: sm.seq }
        seq = sm.seq + 1
      }
    },
  }
}
