// Who runs each scope: leases in a JetStream KV bucket, so any number of instances may run any actor
// and each scope is run by exactly one of them at a time. Works on nats-server 2.9 (no per-key TTL,
// no consumer pinning); the protocol, in ARCHITECTURE.md:
//
// - The bucket's TTL is the lease time. Every instance puts `member.<actor>.<instance>` every TTL/3
//   for each actor it runs; a member whose key expired is gone (killed, frozen, cut off).
// - From the live members, every instance computes the same placement (placement.ts, rendezvous
//   hashing) and takes the leases of the scopes placed on it: `kv.create('scope.<actor>.<key>')`
//   succeeds only if nobody holds it. It renews each lease every TTL/3 with `kv.update(key, …,
//   revision)`, which fails if anyone else wrote it since: then it lost it.
// - The revision a lease was acquired at is its fencing token: it grows with every takeover. A
//   checkpoint carries it, and one written under an older token never replaces a newer one.
// - A lease counts as held only until TTL − margin after the last renewal was *sent* (measured on
//   this process's monotonic clock). Past that, Lease.check — awaited before anything is
//   acknowledged, published or checkpointed — renews first: the compare-and-set succeeds only if
//   nobody wrote the key since, i.e. nobody else can have acted on the scope, and the scope carries
//   on; otherwise (a process that stalled past its lease and was replaced) it gives the scope up.
// - A scope placed elsewhere (an instance joined) is handed over: its runner finishes the batch in
//   hand and checkpoints, then the lease is deleted; the new owner polls and takes it. A graceful stop
//   hands over everything the same way; a dead instance's leases expire after the TTL.
import { Kvm, type KV, type KvEntry } from '@nats-io/kv'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { Logger } from '../telemetry/log.js'
import type { Metrics } from '../telemetry/metrics.js'
import { sleep } from './backoff.js'
import { type Member, type Placeable, scopesFor } from './placement.js'

export const LEASE_BUCKET = 'paperd_leases'

/** Raised when a scope must not act any more: its lease lapsed or another instance holds it. */
export class LeaseLost extends Error {
  override name = 'LeaseLost'
}

/** Why a held scope is being stopped. */
export type StopReason = 'lost' | 'handover' | 'shutdown'

/** A scope this instance holds. */
export interface Lease {
  /** The fencing token: the revision the lease was acquired at (larger for every later owner). */
  readonly token: number
  /** Aborted when the scope must stop; `reason` says how. */
  readonly signal: AbortSignal
  reason(): StopReason | null
  /** Rejects with LeaseLost unless the lease is certainly still held (renewing it first if it lapsed). Await before any effect. */
  check(): Promise<void>
  /** Whether the lease is held now, without renewing it: what an acknowledgement sent later checks (publisher.ts). */
  held(): boolean
}

/** What runs a scope while its lease is held: resolves `live` once it is consuming, `done` once stopped. */
export type ScopeRunner = (scope: Placeable, lease: Lease) => { live: Promise<void>; done: Promise<void> }

interface LeasedActor {
  name: string
  scopes: readonly Placeable[]
  /** The partitions this instance may run of it (`--partitions`); null: any. */
  partitions: readonly number[] | null
  run: ScopeRunner
}

interface LeaseOptions {
  /** Lists the bucket's keys (bucketKeys). */
  jsm: JetStreamManager
  instance: string
  ttlMs: number
  log: Logger
  metrics?: Metrics
  /** What a member announces besides its instance id (host, pid): shown by `paperd status`. */
  about?: Record<string, string>
}

interface HeldScope {
  actor: string
  scope: string
  token: number
  /** When this instance acquired it (ms since epoch). */
  since: number
  live: boolean
}

interface Leases {
  /** Resolves once every scope placed on this instance in the first placement is held and live. */
  ready: Promise<void>
  held(): HeldScope[]
  /** Hands every scope over (runners checkpoint first), leaves the membership, and stops. */
  stop(): Promise<void>
}

interface Held {
  actor: LeasedActor
  scope: Placeable
  key: string
  token: number
  revision: number
  /** performance.now() until which the lease certainly holds. */
  validUntil: number
  since: number
  controller: AbortController
  reason: StopReason | null
  live: boolean
  done: Promise<void>
  /** The renewal in flight, shared by whoever needs it. */
  renewing: Promise<void> | null
}

interface LeaseValue {
  instance: string
  since: number
}

const encoder = new TextEncoder()
const json = (v: unknown) => encoder.encode(JSON.stringify(v))
const present = (e: KvEntry | null): e is KvEntry => e !== null && e.operation === 'PUT'

const scopeKey = (actor: string, scope: string) => `scope.${actor}.${scope}`
const memberKey = (actor: string, instance: string) => `member.${actor}.${instance}`

/** Opens (or creates) the lease bucket. Its TTL is the lease time of every instance using it. */
export async function openLeaseBucket(js: JetStreamClient, ttlMs: number, replicas: number): Promise<KV> {
  return new Kvm(js).create(LEASE_BUCKET, { ttl: ttlMs, history: 1, replicas, description: 'paperd scope leases and members' })
}

/**
 * Keys of a KV bucket on a filter, from its stream's per-subject counts: no consumer is created
 * (kv.keys creates one each time, and on a 2.9 cluster with a node down a share of new consumers
 * land on the dead node and are never answered). Deleted keys are listed too (their markers):
 * read each entry and skip the deleted.
 */
export async function bucketKeys(jsm: JetStreamManager, bucket: string, filter: string): Promise<string[]> {
  const prefix = `$KV.${bucket}.`
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: prefix + filter })
  return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length))
}

export async function startLeases(kv: KV, actors: LeasedActor[], o: LeaseOptions): Promise<Leases> {
  const log = o.log.child({ component: 'leases', instance: o.instance })
  const renewEvery = Math.max(200, Math.floor(o.ttlMs / 3))
  // The server removes an expired entry a little after its TTL; a renewal's clock starts when it is
  // sent. Acting stops a fifth of the TTL before the server could let anyone else in.
  const margin = Math.max(100, Math.floor(o.ttlMs / 5))
  const held = new Map<string, Held>()
  const stopping = new AbortController()
  let markReady!: () => void
  const ready = new Promise<void>((r) => (markReady = r))
  let firstRound = true

  const memberOf = (a: LeasedActor): Member & Record<string, unknown> => ({
    instance: o.instance,
    partitions: a.partitions,
    scopes: a.scopes.map((s) => s.key),
    ...o.about,
  })

  const valid = (h: Held) => h.reason !== 'lost' && performance.now() <= h.validUntil
  const leaseOf = (h: Held): Lease => ({
    token: h.token,
    signal: h.controller.signal,
    reason: () => h.reason,
    held: () => valid(h),
    async check() {
      if (valid(h)) return
      if (h.reason !== 'lost') await renew(h)
      if (!valid(h)) {
        stop(h, 'lost')
        throw new LeaseLost(`lease of ${h.key} lapsed`)
      }
    },
  })

  function stop(h: Held, reason: StopReason): void {
    if (h.reason === 'lost' || h.reason === reason) return
    if (h.reason === null || reason === 'lost') h.reason = reason
    h.controller.abort()
    if (reason === 'lost') {
      o.metrics?.leaseEvents.inc({ actor: h.actor.name, event: 'lost' })
      log.warn({ actor: h.actor.name, scope: h.scope.key, fence: h.token }, 'lease lost: the scope stops without acting further')
    }
  }

  async function members(actor: string): Promise<Member[]> {
    const out: Member[] = []
    const keys: string[] = []
    keys.push(...(await bucketKeys(o.jsm, LEASE_BUCKET, `member.${actor}.*`)))
    for (const k of keys) {
      const e = await kv.get(k)
      if (present(e)) out.push(e.json<Member>())
    }
    return out
  }

  /** scope key → when (server clock, ms) this instance last saw another instance's lease on it renewed. */
  const othersRenewed = new Map<string, number>()

  /**
   * For paperd_scope_takeover_seconds: how long before this acquisition (server clock) the previous
   * owner was lost — its lease deleted (a hand-over), or its last renewal seen (it then expired).
   */
  async function takeoverClock(key: string, before: KvEntry | null): Promise<{ kind: 'expired' | 'handover'; lostToAcquired: number } | null> {
    const renewed = othersRenewed.get(key)!
    othersRenewed.delete(key)
    const mine = await kv.get(key).catch(() => null)
    if (!mine) return null
    const handover = before !== null && before.operation !== 'PUT'
    const lost = handover ? before.created.getTime() : renewed
    return { kind: handover ? 'handover' : 'expired', lostToAcquired: Math.max(0, mine.created.getTime() - lost) / 1000 }
  }

  /** Renews a lease (one renewal at a time per lease; callers share it). A conflict means another instance wrote it: lost. */
  function renew(h: Held): Promise<void> {
    if (h.reason === 'lost') return Promise.resolve()
    h.renewing ??= (async () => {
      const sent = performance.now()
      try {
        h.revision = await kv.update(h.key, json({ instance: o.instance, since: h.since } satisfies LeaseValue), h.revision)
        h.validUntil = sent + o.ttlMs - margin
      } catch (err) {
        if (isConflict(err)) stop(h, 'lost')
        else if (performance.now() > h.validUntil) stop(h, 'lost')
        else log.debug({ key: h.key, err: (err as Error).message }, 'renewal failed; retrying')
      } finally {
        h.renewing = null
      }
    })()
    return h.renewing
  }

  async function acquire(actor: LeasedActor, scope: Placeable): Promise<boolean> {
    const key = scopeKey(actor.name, scope.key)
    const sent = performance.now()
    const since = Date.now()
    const value = json({ instance: o.instance, since } satisfies LeaseValue)
    let revision: number
    const current = await kv.get(key)
    if (present(current)) {
      // Our own lease from before a reconnect or a lost renewal: take it again under a new token.
      if (current.json<LeaseValue>().instance !== o.instance) {
        othersRenewed.set(key, current.created.getTime())
        return false
      }
      revision = await kv.update(key, value, current.revision).catch(() => 0)
    } else revision = await kv.create(key, value).catch(() => 0)
    if (!revision) return false
    const takeover = othersRenewed.has(key) ? takeoverClock(key, current) : null
    const h: Held = {
      actor,
      scope,
      key,
      token: revision,
      revision,
      validUntil: sent + o.ttlMs - margin,
      since,
      controller: new AbortController(),
      reason: null,
      live: false,
      done: Promise.resolve(),
      renewing: null,
    }
    held.set(key, h)
    o.metrics?.leaseEvents.inc({ actor: actor.name, event: 'acquired' })
    o.metrics?.scopesOwned.inc({ actor: actor.name })
    log.info({ actor: actor.name, scope: scope.key, fence: revision }, 'lease acquired')
    const running = actor.run(scope, leaseOf(h))
    void running.live.then(async () => {
      h.live = true
      const t = await takeover
      if (t) o.metrics?.takeover.observe({ actor: actor.name, kind: t.kind }, t.lostToAcquired + (performance.now() - sent) / 1000)
    })
    h.done = running.done.catch((err) => log.error({ err, key }, 'scope runner failed')).then(() => release(h))
    return true
  }

  /** After the runner stopped: hand the lease over (unless it was lost) and forget it. */
  async function release(h: Held): Promise<void> {
    held.delete(h.key)
    o.metrics?.scopesOwned.dec({ actor: h.actor.name })
    if (h.reason === 'lost') return
    await kv.delete(h.key, { previousSeq: h.revision }).catch(() => undefined)
    o.metrics?.leaseEvents.inc({ actor: h.actor.name, event: 'handed_over' })
    log.info({ actor: h.actor.name, scope: h.scope.key, reason: h.reason }, 'lease handed over')
  }

  async function round(): Promise<void> {
    // Announce ourselves first: a member must exist before it is placed anything.
    for (const a of actors) await kv.put(memberKey(a.name, o.instance), json(memberOf(a)))
    let allPlaced = true
    for (const a of actors) {
      const live = await members(a.name)
      if (!live.some((m) => m.instance === o.instance)) live.push(memberOf(a))
      const mine = new Set(scopesFor(a.name, a.scopes, live, o.instance).map((s) => s.key))
      for (const h of held.values()) if (h.actor === a && !mine.has(h.scope.key)) stop(h, 'handover')
      for (const s of a.scopes) {
        // A renewal seen on a scope placed elsewhere since says nothing of a later takeover.
        if (!mine.has(s.key)) othersRenewed.delete(scopeKey(a.name, s.key))
        if (!mine.has(s.key) || held.has(scopeKey(a.name, s.key))) continue
        if (!(await acquire(a, s))) allPlaced = false
      }
    }
    if (firstRound && allPlaced) {
      firstRound = false
      const heldNow = [...held.values()]
      void Promise.all(heldNow.map((h) => waitLive(h))).then(() => markReady())
    }
  }

  const waitLive = async (h: Held) => {
    while (!h.live && !h.reason) await sleep(50)
  }

  const loop = (async () => {
    // Let instances starting together see each other before anyone takes everything. (A NATS that
    // does not answer now is no reason to stop: the first round announces us again.)
    try {
      for (const a of actors) await kv.put(memberKey(a.name, o.instance), json(memberOf(a)))
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'announcing this instance failed; the next round will')
    }
    await sleep(renewEvery, stopping.signal)
    while (!stopping.signal.aborted) {
      try {
        await round()
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'lease round failed; retrying')
      }
      await sleep(renewEvery, stopping.signal)
    }
  })()
  // Renewals run on their own clock, never behind a slow placement round.
  const renewals = setInterval(() => {
    for (const h of held.values()) void renew(h)
  }, renewEvery)

  return {
    ready,
    held: () => [...held.values()].map((h) => ({ actor: h.actor.name, scope: h.scope.key, token: h.token, since: h.since, live: h.live && h.reason === null })),
    async stop() {
      stopping.abort()
      await loop
      const all = [...held.values()]
      // Renewals go on while the runners checkpoint, so nobody takes a scope before it is handed over.
      try {
        for (const h of all) stop(h, 'shutdown')
        await Promise.all(all.map((h) => h.done))
      } finally {
        clearInterval(renewals)
      }
      for (const a of actors) await kv.delete(memberKey(a.name, o.instance)).catch(() => undefined)
    },
  }
}

/** A create or update refused because the key's revision moved: someone else holds it. */
function isConflict(err: unknown): boolean {
  return /wrong last sequence|key exists/i.test((err as Error)?.message ?? '')
}
