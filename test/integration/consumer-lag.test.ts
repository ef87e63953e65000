// Lag is the backlog of paperd's own durables, nothing else. A process killed while rebuilding leaves
// ephemeral consumers behind with a random name and the whole stream pending, for as long as their
// inactive threshold (minutes); someone may also add a consumer of their own. `paperd status`, the
// consumer gauges and quiescence must not count either: no false lag alert, no random label values.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream'
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { marketSnapshots } from '../../actors/market-snapshots.js'
import { backlog, expectedWork } from '../../src/control/quiesce.js'
import { ensureConsumers, ensureStreams, isPaperdDurable } from '../../src/runtime/topology.js'
import { registerStateMetrics } from '../../src/app/state-metrics.js'
import { formatStatus, statusReport } from '../../src/control/status.js'
import { startNatsServer, type NatsServer } from '../support/nats-server.js'

const BARS = 40

describe('consumer lag counts only paperd durables', () => {
  let server: NatsServer
  let nc: NatsConnection
  let jsm: JetStreamManager
  let ephemeral: string

  beforeAll(async () => {
    server = await startNatsServer()
    nc = await connect({ servers: server.url })
    jsm = await jetstreamManager(nc)
    await ensureStreams(jsm)
    // One scope is enough here: its durable's backlog is the lag.
    const def = marketSnapshots()
    await ensureConsumers(jsm, [{ ...def, scopes: def.scopes.slice(0, 1) }])
    const js = jetstream(nc)
    for (let i = 0; i < BARS; i++) {
      await js.publish(
        'md.in.bar.ORCL',
        JSON.stringify({ ts: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(), open: 1, high: 1, low: 1, close: 1, volume: 1 }),
      )
    }
    // What a killed process's rebuild leaves: an ephemeral consumer over the whole stream, no durable
    // name, a server-chosen name, gone only after its inactive threshold.
    const left = await jsm.consumers.add('MD_IN', { ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, inactive_threshold: nanos(300_000) })
    ephemeral = left.name
    // And someone else's durable on a paperd stream.
    await jsm.consumers.add('MD_IN', { durable_name: 'audit-export', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All })
  })
  afterAll(async () => {
    await nc?.close()
    await server?.stop()
  })

  it('the leftovers do hold a backlog (the case the filter is for)', async () => {
    expect(ephemeral).not.toBe('')
    const infos = await Promise.all([ephemeral, 'audit-export', 'market-snapshots-route'].map((name) => jsm.consumers.info('MD_IN', name)))
    expect(infos.map((c) => c.num_pending)).toEqual([BARS, BARS, BARS])
    expect(infos.map(isPaperdDurable)).toEqual([false, false, true])
  })

  it('paperd status lists only paperd durables, and says how many other consumers it left out', async () => {
    const report = await statusReport(nc, jsm, expectedWork([], false), { waitMs: 50 })
    expect(report.consumers).toEqual([{ stream: 'MD_IN', name: 'market-snapshots-route', pending: BARS, ack_pending: 0, redelivered: 0 }])
    expect(report.other_consumers).toBe(2)
    const text = formatStatus(report)
    expect(text).not.toContain(ephemeral)
    expect(text).not.toContain('audit-export')
    expect(text).toContain("(and 2 consumer(s) not paperd's — ephemeral, or someone else's — whose backlog is not lag)")
  })

  it('the consumer gauges carry only paperd durables as labels', async () => {
    const registry = new Registry()
    registerStateMetrics(registry, new Map(), jsm)
    for (const gauge of ['paperd_consumer_pending_messages', 'paperd_consumer_ack_pending_messages', 'paperd_consumer_redelivered_messages']) {
      const samples = (await registry.getSingleMetricAsString(gauge)).split('\n').filter((l) => l.startsWith(`${gauge}{`))
      expect(samples, gauge).toEqual([`${gauge}{stream="MD_IN",consumer="market-snapshots-route"} ${gauge === 'paperd_consumer_pending_messages' ? BARS : 0}`])
    }
  })

  it('quiescence waits for paperd durables only', async () => {
    expect(await backlog(jsm)).toMatchObject({ total: BARS, lagging: { 'market-snapshots-route': BARS } })
  })
})
