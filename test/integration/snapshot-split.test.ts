// Upgrading a deployment whose market-snapshots ran as one scope (`all`, releases before the split)
// to one scope per symbol partition: each new scope takes over its share of the old scope's state
// and starts reading where the old durable had got to. Nothing the old scope handled is handled
// again (the new durables start after its ack floor), nothing it remembered is forgotten (a bar it
// accepted, sent again with other values, is still refused), the bars it had not handled yet are,
// and the old durable is deleted once every new scope has its own.
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream'
import { beforeAll, describe, expect, it } from 'vitest'
import { marketSnapshots, WHOLE } from '../../actors/market-snapshots.js'
import { startDaemon } from '../../src/app/daemon.js'
import { loadEnv } from '../../src/config/env.js'
import { partitionOf } from '../../src/core/partition.js'
import { leasedRunner } from '../../src/runtime/run-actor.js'
import { ensureConsumers, ensureStreams } from '../../src/runtime/topology.js'
import { createLogger } from '../../src/telemetry/log.js'
import { natsPerFile } from '../support/nats-per-file.js'
import { testIo, testLease } from '../support/runtime-io.js'

const SYMBOLS = ['ORCL', 'MSFT', 'SPY', 'XLU', 'TLT', 'GLD', 'QQQ', 'IWM']
const day = (i: number) => `2024-01-${String(i).padStart(2, '0')}T00:00:00.000Z`
const bar = (i: number, close = 10) => JSON.stringify({ ts: day(i), open: 10, high: 12, low: 9, close, volume: 100 })

const nats = natsPerFile()
let jsm: JetStreamManager
beforeAll(async () => {
  jsm = await jetstreamManager(nats.nc)
})

const mdBars = async () => (await jsm.streams.info('MD', { subjects_filter: 'md.bar.>' })).state.messages

async function until(ok: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  for (const deadline = Date.now() + ms; !(await ok()); await new Promise((r) => setTimeout(r, 100)))
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
}

describe('market-snapshots split into partitions', () => {
  it('takes over the one scope of earlier releases: its state, its position, and then its durable', async () => {
    const js = jetstream(nats.nc)
    await ensureStreams(jsm)
    // The earlier release: one scope over the whole of MD_IN.
    const def = marketSnapshots()
    const before = { ...def, scopes: [WHOLE], predecessor: undefined }
    await ensureConsumers(jsm, [before])
    const io = await testIo(nats.nc)
    // It runs twice: over bars 1-3, then 4-5. Its checkpoint is then put back to the first run's, as
    // if the process had died before saving it again: bars 4-5 are acknowledged but only a replay of
    // MD_IN puts them in its state.
    const runOld = async (from: number, to: number) => {
      const stop = new AbortController()
      const old = leasedRunner(before, io)(WHOLE, testLease(stop, 'shutdown'))
      for (const s of SYMBOLS) for (let i = from; i <= to; i++) await js.publish(`md.in.bar.${s}`, bar(i))
      await until(async () => (await mdBars()) === SYMBOLS.length * to, 'the earlier release to handle the bars')
      stop.abort()
      await old.done
    }
    await runOld(1, 3)
    const early = (await io.checkpoints.load('market-snapshots.all'))!
    expect(early.positions).toEqual({ 'market-snapshots': SYMBOLS.length * 3 })
    await runOld(4, 5)
    await io.checkpoints.save('market-snapshots.all', early)
    const floor = (await jsm.consumers.info('MD_IN', 'market-snapshots')).ack_floor.stream_seq
    expect(floor).toBe(SYMBOLS.length * 5)
    // While no release runs: the last accepted bar of each symbol sent again with another close (a
    // correction: refused, if what the old scope accepted is remembered; taken as new if not), then
    // two new bars of each.
    for (const s of SYMBOLS) await js.publish(`md.in.bar.${s}`, bar(5, 11))
    for (const s of SYMBOLS) for (let i = 6; i <= 7; i++) await js.publish(`md.in.bar.${s}`, bar(i))

    // The new release.
    const daemon = await startDaemon({
      env: loadEnv({ NATS_URL: nats.server.url, METRICS_PORT: '0', PAPERD_LEASE_TTL_MS: '2000' }),
      actors: ['market-snapshots'],
      config: undefined,
      log: createLogger('silent'),
      processMetrics: false,
    })
    try {
      await daemon.live
      // The router's durable started after the old floor, the partitions' read MD_PART from its
      // start; the old durable is gone.
      expect((await jsm.consumers.info('MD_IN', 'market-snapshots-route')).config.opt_start_seq).toBe(floor + 1)
      for (const scope of def.scopes.filter((s) => s.key !== 'route')) {
        const info = await jsm.consumers.info('MD_PART', `market-snapshots-${scope.key}`)
        expect(info.config.opt_start_seq, scope.key).toBeUndefined()
      }
      await expect(jsm.consumers.info('MD_IN', 'market-snapshots')).rejects.toThrow(/not found/i)
      // The new bars, each once; the corrections dead-lettered (the adopted state, caught up on
      // bars 4-5 from MD_IN, knew those bars).
      await until(async () => (await mdBars()) === SYMBOLS.length * 7, 'the new bars')
      await until(async () => (await jsm.streams.info('DLQ')).state.messages === SYMBOLS.length, 'the corrections to be refused')
      const partitions = new Set(SYMBOLS.map((s) => partitionOf(s)))
      expect(partitions.size).toBeGreaterThan(3)
      // Nothing more comes out: each scope handled its own symbols' bars, and only those.
      await new Promise((r) => setTimeout(r, 500))
      expect(await mdBars()).toBe(SYMBOLS.length * 7)
    } finally {
      await daemon.stop()
    }
  }, 90_000)
})
