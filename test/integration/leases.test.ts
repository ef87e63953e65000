// The lease protocol (src/runtime/leases.ts) on a real nats-server, with its members as separate
// processes: every scope gets exactly one owner and each member some; a graceful stop hands its
// scopes over at once; a SIGKILLed member's scopes move within about a TTL; and a member frozen
// (SIGSTOP) past its leases, once resumed, never acts on a scope after another member took it.
import { jetstream } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openCheckpoints } from '../../src/runtime/checkpoints.js'
import { LeaseLost } from '../../src/runtime/leases.js'
import { startNatsServer, type NatsServer } from '../support/nats-server.js'
import { children, startChild, type Child } from '../support/process.js'

const TTL_MS = 2000
const SCOPES = 12

interface Event {
  ev: 'started' | 'acquired' | 'act' | 'lost' | 'stopped' | 'exit'
  instance: string
  scope?: string
  token?: number
  reason?: string
  t: number
}

let nats: NatsServer
beforeAll(async () => {
  nats = await startNatsServer()
}, 30_000)
afterAll(async () => {
  await nats?.stop()
})
afterEach(async () => {
  await Promise.all(children('lease-member').map((c) => c.stop('SIGKILL')))
})

const members = new Map<string, Child>()
function member(instance: string): Child {
  const c = startChild(process.execPath, ['--import', 'tsx', 'test/support/lease-member.ts', nats.url, instance, String(TTL_MS), String(SCOPES)], {
    name: 'lease-member',
    env: { ...process.env, LOG_LEVEL: 'error' },
  })
  members.set(instance, c)
  return c
}

/** Every event so far of every member, in wall-time order. */
function events(): Event[] {
  return [...members.values()]
    .flatMap((c) => c.stdout().split('\n'))
    .filter((l) => l.startsWith('{"ev"'))
    .map((l) => JSON.parse(l) as Event)
    .sort((a, b) => a.t - b.t)
}

/** scope → the instances holding it now (acquired, not stopped or lost since, and still running), from the events. */
function holders(): Map<string, string[]> {
  const held = new Map<string, Set<string>>()
  for (const e of events()) {
    if (!e.scope || !members.get(e.instance)!.running()) continue
    const set = held.get(e.scope) ?? new Set()
    if (e.ev === 'acquired') set.add(e.instance)
    if (e.ev === 'lost' || e.ev === 'stopped') set.delete(e.instance)
    held.set(e.scope, set)
  }
  return new Map([...held].map(([s, set]) => [s, [...set]]))
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  for (const deadline = Date.now() + ms; !ok(); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}\n${JSON.stringify(Object.fromEntries(holders()))}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const eachOnceAmong = (alive: string[]) => () => {
  const h = holders()
  return h.size === SCOPES && [...h.values()].every((owners) => owners.length === 1 && alive.includes(owners[0]!))
}

describe('scope leases between processes', () => {
  it('place every scope on exactly one live member, move them on a graceful stop and a SIGKILL, and fence a frozen member', async () => {
    for (const name of ['a', 'b', 'c']) member(name)
    await until('every scope has one owner among a, b, c, and each owns some', () => {
      if (!eachOnceAmong(['a', 'b', 'c'])()) return false
      const owners = new Set([...holders().values()].map((o) => o[0]))
      return owners.size === 3
    })

    // A graceful stop hands over at once: well within a TTL, the others hold everything.
    const stopAt = Date.now()
    await members.get('b')!.stop('SIGTERM', 10_000)
    await until('b’s scopes moved to a and c', eachOnceAmong(['a', 'c']))
    expect(Date.now() - stopAt).toBeLessThan(TTL_MS * 2)

    // A SIGKILLed member's scopes move after its leases expire.
    const killedAt = Date.now()
    await members.get('c')!.stop('SIGKILL')
    await until('c’s scopes moved to a', eachOnceAmong(['a']))
    const moved = Date.now() - killedAt
    expect(moved).toBeGreaterThan(TTL_MS / 2)
    expect(moved).toBeLessThan(TTL_MS * 6)

    // d joins and takes its share; then a is frozen past its leases: d takes them over, and a,
    // resumed, notices before acting again.
    member('d')
    await until('d took its share', () => eachOnceAmong(['a', 'd'])() && [...holders().values()].some((o) => o[0] === 'd'))
    const a = members.get('a')!
    a.child.kill('SIGSTOP')
    await until('d holds every scope while a is frozen', () => [...holders().values()].filter((o) => o.includes('d')).length === SCOPES, TTL_MS * 10)
    a.child.kill('SIGCONT')
    await until('a saw it lost them and took its share back', () => {
      const h = holders()
      return eachOnceAmong(['a', 'd'])() && [...h.values()].some((o) => o[0] === 'a')
    })

    // Fencing: no member acted on a scope after a member with a newer token had acquired it.
    const all = events()
    const acquired = all.filter((e) => e.ev === 'acquired')
    const late = all.filter((e) => e.ev === 'act' && acquired.some((q) => q.scope === e.scope && q.token! > e.token! && q.t < e.t))
    expect(late).toEqual([])
    // And a, frozen, did lose leases (the test exercised the fence).
    expect(all.some((e) => e.instance === 'a' && (e.ev === 'lost' || (e.ev === 'stopped' && e.reason === 'lost')))).toBe(true)
  }, 120_000)
})

describe('checkpoints under leases', () => {
  it('carry the lease token: an older owner never replaces a newer owner’s checkpoint, and learns it lost the scope', async () => {
    const nc = await connect({ servers: nats.url })
    try {
      // Two processes' stores of the same bucket: the old owner (token 5) and the new one (token 9).
      const [old, next] = [await openCheckpoints(jetstream(nc)), await openCheckpoints(jetstream(nc))]
      const cp = (n: number) => ({ version: 1 as const, positions: { d: n }, state: { n } })
      await old.load('demo.s1')
      await old.save('demo.s1', cp(1), 5)
      expect((await next.load('demo.s1'))?.positions).toEqual({ d: 1 })
      // The old owner writes once more before the new one's first write: the new one writes over it.
      await old.save('demo.s1', cp(2), 5)
      await next.save('demo.s1', cp(10), 9)
      expect((await next.load('demo.s1'))?.state).toEqual({ n: 10 })
      // Now the old owner's write is refused: it lost the scope, and the newer checkpoint stays.
      await expect(old.save('demo.s1', cp(3), 5)).rejects.toBeInstanceOf(LeaseLost)
      expect((await next.load('demo.s1'))?.state).toEqual({ n: 10 })
      await next.save('demo.s1', cp(11), 9)
      expect((await old.load('demo.s1'))?.state).toEqual({ n: 11 })
    } finally {
      await nc.close()
    }
  })
})
