// A scope told to stop while it is still rebuilding (its lease handed over because an instance
// joined, or the process shutting down, at the moment it took the scope) must stop once it is
// rebuilt, not run on: the stop came before it listened for one. Left running, it would keep the
// lease renewed forever — the scope never reaching the instance placement gave it to — and a
// SIGTERM would wait for it without end.
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { describe, expect, it } from 'vitest'
import { marketSnapshots } from '../../actors/market-snapshots.js'
import { openCheckpoints } from '../../src/runtime/checkpoints.js'
import { leasedRunner } from '../../src/runtime/run-actor.js'
import { ensureConsumers, ensureStreams } from '../../src/runtime/topology.js'
import { natsPerFile } from '../support/nats-per-file.js'
import { testIo, testLease } from '../support/runtime-io.js'
import { partitionOf } from '../../src/core/partition.js'

const nats = natsPerFile()

describe('a scope stopped while it rebuilds', () => {
  it('stops as soon as it is rebuilt, handling nothing', async () => {
    const js = jetstream(nats.nc)
    const jsm = await jetstreamManager(nats.nc)
    await ensureStreams(jsm)
    const def = marketSnapshots()
    await ensureConsumers(jsm, [def])
    for (let i = 1; i <= 20; i++)
      await js.publish('md.in.bar.ORCL', JSON.stringify({ ts: `2024-01-${String(i).padStart(2, '0')}`, open: 10, high: 11, low: 9, close: 10, volume: 1 }))

    const stop = new AbortController()
    const checkpoints = await openCheckpoints(js)
    // The hand-over arrives while the scope loads its checkpoint.
    const io = await testIo(nats.nc, {
      checkpoints: {
        load: async (key) => {
          stop.abort()
          return checkpoints.load(key)
        },
        save: (key, cp, fence, before) => checkpoints.save(key, cp, fence, before),
      },
    })
    const lease = testLease(stop, 'handover')
    // The scope of ORCL's partition: the one that would handle the bars.
    const running = leasedRunner(def, io)({ key: `p${partitionOf('ORCL')}` }, lease)
    const stopped = await Promise.race([running.done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))])
    expect(stopped).toBe(true)
    // Nothing was handled: no bar came out on MD.
    expect((await jsm.streams.info('MD')).state.messages).toBe(0)
  }, 30_000)
})
