// Failover time (issue 13): two `paperd start --actors market-snapshots` processes share its scopes
// while a feed publishes a bar of one symbol every few milliseconds. The owner of that symbol's
// partition is SIGKILLed (found by
// the pid its member key announces) and a replacement started, again and again; each failover is the
// time from the kill to the first bar published after it coming out on MD — processed by the new
// owner, after the dead one's lease expired, the standby took it and rebuilt the scope. Reported as
// median and worst, and as a multiple of the lease TTL: most of a failover is waiting for the lease
// to run out, so the TTL is the baseline the rest is measured against.
import type { ChildProcess } from 'node:child_process'
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { connect } from '@nats-io/transport-node'
import { partitionOf } from '../src/core/partition.js'
import { LEASE_BUCKET } from '../src/runtime/leases.js'
import { type Cleanup, type NatsServer, percentile, round, spawnPaperd } from './support.js'

export interface FailoverResult {
  kills: number
  ttlMs: number
  /** Kill → first bar published after the kill seen on MD, per kill (ms). */
  samplesMs: number[]
  medianMs: number
  worstMs: number
  /** median / TTL: the share of a failover spent outside waiting for the lease to expire is what exceeds 1. */
  medianPerTtl: number
}

/** The lease of the scope that handles the feed's symbol. */
const SYMBOL = 'FAIL'
const SCOPE_KEY = `scope.market-snapshots.p${partitionOf(SYMBOL)}`
const PUBLISH_EVERY_MS = 10
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function measureFailover(cleanup: Cleanup, server: NatsServer, dbUrl: string, kills: number, ttlMs: number): Promise<FailoverResult> {
  const procs = new Map<number, ChildProcess>()
  const startOne = () => {
    const child = spawnPaperd(['start', '--actors', 'market-snapshots'], {
      natsUrl: server.url,
      dbUrl,
      env: { LOG_LEVEL: 'warn', PAPERD_LEASE_TTL_MS: String(ttlMs) },
    })
    procs.set(child.pid!, child)
    child.once('exit', () => procs.delete(child.pid!))
    return child
  }
  cleanup.add('kill failover processes', async () => {
    for (const c of procs.values()) c.kill('SIGKILL')
  })
  const nc = await connect({ servers: server.url, name: 'bench failover' })
  cleanup.add('close failover client', () => nc.close())
  const js = jetstream(nc)

  startOne()
  startOne()
  // The streams and the lease bucket exist once a process is up.
  const kv = await (async () => {
    for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
      try {
        const k = await new Kvm(js).open(LEASE_BUCKET)
        if ((await k.get(SCOPE_KEY))?.operation === 'PUT') return k
      } catch {
        // not there yet
      }
      if (Date.now() > deadline) throw new Error('no process took the market-snapshots lease within 30 s')
    }
  })()
  const jsm = await jetstreamManager(nc)

  // The feed: bar i at minute i; when each was stored, and when its md.bar came out on MD.
  const base = Date.parse('2024-01-02T00:00:00Z')
  const publishedAt: number[] = []
  const seenAt: number[] = []
  let feeding = true
  const feed = (async () => {
    for (let i = 0; feeding; i++) {
      const ts = new Date(base + i * 60_000).toISOString()
      await js.publish(`md.in.bar.${SYMBOL}`, JSON.stringify({ ts, open: 10, high: 11, low: 9, close: 10, volume: 100 }), { msgID: `fail:${i}` })
      publishedAt[i] = Date.now()
      await sleep(PUBLISH_EVERY_MS)
    }
  })()
  const start = (await jsm.streams.info('MD')).state.last_seq + 1
  const watcher = await js.consumers.get('MD', { filter_subjects: 'md.bar.>', opt_start_seq: start, deliver_policy: DeliverPolicy.StartSequence })
  const messages = await watcher.consume()
  const watching = (async () => {
    for await (const m of messages) {
      const ts = (m.json() as { ts: string }).ts
      const i = Math.round((Date.parse(ts) - base) / 60_000)
      seenAt[i] ??= Date.now()
    }
  })()

  const samplesMs: number[] = []
  try {
    for (let k = 0; k < kills; k++) {
      // Both processes up and the scope live before each kill.
      await waitFor(() => procs.size === 2, 30_000, 'two processes')
      await sleep(ttlMs)
      const owner = (await kv.get(SCOPE_KEY))?.json<{ instance: string }>().instance
      const member = owner ? (await kv.get(`member.market-snapshots.${owner}`))?.json<{ pid?: string }>() : undefined
      const victim = member?.pid ? procs.get(Number(member.pid)) : undefined
      if (!victim) throw new Error(`the owner of the scope (${owner ?? 'none'}) is not one of this bench's processes`)
      victim.kill('SIGKILL')
      const killedAt = Date.now()
      startOne()
      // The first bar stored after the kill, and when its md.bar appeared.
      await waitFor(() => publishedAt.length > 0 && publishedAt[publishedAt.length - 1]! > killedAt, 10_000, 'a bar after the kill')
      const first = publishedAt.findIndex((t) => t > killedAt)
      await waitFor(() => seenAt[first] !== undefined, ttlMs * 6 + 30_000, 'the new owner to process a bar')
      samplesMs.push(seenAt[first]! - killedAt)
      process.stderr.write(`${k + 1} `)
    }
  } finally {
    feeding = false
    await feed
    messages.stop()
    await watching
  }
  const sorted = [...samplesMs].sort((a, b) => a - b)
  const medianMs = percentile(sorted, 50)
  return { kills, ttlMs, samplesMs, medianMs, worstMs: sorted[sorted.length - 1]!, medianPerTtl: round(medianMs / ttlMs, 2) }
}

async function waitFor(ok: () => boolean, ms: number, what: string): Promise<void> {
  for (const deadline = Date.now() + ms; !ok(); await sleep(20)) if (Date.now() > deadline) throw new Error(`failover: timed out waiting for ${what}`)
}
