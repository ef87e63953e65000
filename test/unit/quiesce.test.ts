// What quiescence still waits for, computed from the deployment's work (the same actor definitions
// the daemon runs), the consumers that exist and the instances that answered micro STATS.
import { describe, expect, it } from 'vitest'
import { ACTOR_NAMES } from '../../src/core/actor.js'
import { loadConfigFile } from '../../src/config/env.js'
import { deploymentActors } from '../../src/app/daemon.js'
import type { Instance } from '../../src/control/micro.js'
import { describeWaiting, everyScopeLive, expectedWork, onlyBacklog, stillToDo, type Backlog, type Expectation } from '../../src/control/quiesce.js'

const work = expectedWork(deploymentActors(loadConfigFile('examples/canonical.json')), true)
const partitions = [...Array(16).keys()].map((p) => `p${p}`)

/** An instance of `actor` owning `owned`, with `live` of them live (all by default). */
const instance = (actor: string, owned: string[], live = owned): Instance => ({
  actor,
  id: `${actor}-1`,
  version: '0.1.0',
  metadata: {},
  scopes: { owned, live },
})
/** Every instance of a healthy deployment of `w`. */
const everyone = (w: Expectation) =>
  ACTOR_NAMES.map((a) =>
    instance(
      a,
      w.scopes.filter((s) => s.actor === a).map((s) => s.key),
    ),
  )
/** Every durable of `w` present, none lagging. */
const drained = (w: Expectation, except: string[] = []): Backlog => ({
  total: 0,
  lagging: {},
  streams: {},
  durables: Object.fromEntries(
    w.scopes
      .flatMap((s) => s.durables)
      .filter((d) => !except.includes(d.name))
      .map((d) => [d.name, d.stream]),
  ),
})

describe('the work of a deployment', () => {
  it('is every scope of all six actors over every partition, with the durables the runtime names', () => {
    const keys = (actor: string) => work.scopes.filter((s) => s.actor === actor).map((s) => s.key)
    expect(keys('market-snapshots')).toEqual(['route', ...partitions])
    expect(keys('indicators')).toEqual(partitions)
    expect(keys('strategy')).toEqual(partitions)
    expect(keys('risk-gate')).toEqual(['main'])
    expect(keys('paper-executor')).toEqual(['main'])
    expect(keys('persister')).toEqual(['all'])
    expect(work.scopes.find((s) => s.actor === 'paper-executor')!.durables).toEqual([
      { stream: 'TRADE', name: 'paper-executor-main-orders' },
      { stream: 'MD', name: 'paper-executor-main-bars' },
    ])
    expect(work.scopes.find((s) => s.actor === 'persister')!.durables.map((d) => d.name)).toEqual([
      'persister-trade',
      'persister-md',
      'persister-signals',
      'persister-dlq',
      'persister-import',
    ])
    expect(work.scopes.find((s) => s.actor === 'indicators' && s.key === 'p3')!.durables).toEqual([{ stream: 'MD', name: 'indicators-p3' }])
    expect(work.scopes.find((s) => s.actor === 'market-snapshots' && s.key === 'route')!.durables).toEqual([
      { stream: 'MD_IN', name: 'market-snapshots-route' },
    ])
    expect(work.scopes.find((s) => s.actor === 'market-snapshots' && s.key === 'p3')!.durables).toEqual([{ stream: 'MD_PART', name: 'market-snapshots-p3' }])
  })

  it('without a config: the scopes every deployment has, none of an account', () => {
    const bare = expectedWork(deploymentActors(undefined), false)
    expect([...new Set(bare.scopes.map((s) => s.actor))]).toEqual(['market-snapshots', 'indicators', 'strategy', 'persister'])
    expect(bare.complete).toBe(false)
  })
})

describe('what is still to do', () => {
  it('nothing, when every actor runs every scope live and every durable is there and drained', () => {
    expect(stillToDo(work, drained(work), everyone(work))).toEqual([])
    expect(everyScopeLive(work, everyone(work))).toBe(true)
  })

  it('an actor that never ran: no live instance and its durables missing, named', () => {
    const others = everyone(work).filter((i) => i.actor !== 'paper-executor')
    const waiting = stillToDo(work, drained(work, ['paper-executor-main-orders', 'paper-executor-main-bars']), others)
    expect(waiting).toEqual([
      { actor: 'paper-executor', noInstance: true, notLive: ['main'], missing: ['paper-executor-main-orders', 'paper-executor-main-bars'], busy: {} },
    ])
    expect(describeWaiting(waiting)).toBe('paper-executor (no live instance): durables paper-executor-main-orders, paper-executor-main-bars missing')
    expect(everyScopeLive(work, others)).toBe(false)
  })

  it('an actor the deployment gives no scope (a persister-only run): needs no instance; without a config, every actor does', () => {
    const persisterOnly = expectedWork(
      deploymentActors(undefined).filter((d) => d.name === 'persister'),
      true,
    )
    const persister = everyone(work).filter((i) => i.actor === 'persister')
    expect(stillToDo(persisterOnly, drained(persisterOnly), persister)).toEqual([])
    expect(everyScopeLive(persisterOnly, persister)).toBe(true)
    const bare = expectedWork(deploymentActors(undefined), false)
    expect(stillToDo(bare, drained(bare), persister).map((w) => [w.actor, w.noInstance])).toContainEqual(['risk-gate', true])
  })

  it('ideas a scope holds, acknowledged but not acted on (waiting for earlier orders to settle): not done, named', () => {
    const instances = everyone(work).map((i) => (i.actor === 'risk-gate' ? { ...i, scopes: { ...i.scopes!, held: { main: 3 } } } : i))
    const waiting = stillToDo(work, drained(work), instances)
    expect(waiting).toEqual([{ actor: 'risk-gate', noInstance: false, notLive: [], missing: [], busy: {}, held: { main: 3 } }])
    expect(describeWaiting(waiting)).toBe('risk-gate: 3 held in main')
  })

  it('an actor whose durables outlive it (stopped after a run): still not done', () => {
    const waiting = stillToDo(
      work,
      drained(work),
      everyone(work).filter((i) => i.actor !== 'persister'),
    )
    expect(describeWaiting(waiting)).toBe('persister (no live instance)')
  })

  it('a restarted actor rebuilding: its scope is owned but not live, so not done', () => {
    const instances = everyone(work).map((i) => (i.actor === 'paper-executor' ? instance('paper-executor', ['main'], []) : i))
    const waiting = stillToDo(work, drained(work), instances)
    expect(waiting).toEqual([{ actor: 'paper-executor', noInstance: false, notLive: ['main'], missing: [], busy: {} }])
    expect(describeWaiting(waiting)).toBe('paper-executor: scope main not live (rebuilding, or no instance runs it)')
  })

  it('a scope live in any instance counts, whichever instance runs it (a split deployment, a scope moving)', () => {
    const instances = [
      ...everyone(work).filter((i) => i.actor !== 'indicators'),
      instance('indicators', partitions.slice(0, 8)),
      { ...instance('indicators', partitions.slice(8)), id: 'indicators-2' },
      { ...instance('indicators', ['p9'], []), id: 'indicators-3' }, // taking over p9, still rebuilding
    ]
    expect(stillToDo(work, drained(work), instances)).toEqual([])
    const half = [...everyone(work).filter((i) => i.actor !== 'indicators'), instance('indicators', partitions.slice(0, 8))]
    expect(describeWaiting(stillToDo(work, drained(work), half))).toBe(
      'indicators: scopes p8, p9, p10, p11, p12, p13, … (2 more) not live (rebuilding, or no instance runs them)',
    )
  })

  it('an instance that does not report its scopes (another release) makes none of them live', () => {
    const instances = everyone(work).map((i) => (i.actor === 'risk-gate' ? { ...i, scopes: null } : i))
    expect(stillToDo(work, drained(work), instances).map((w) => [w.actor, w.notLive])).toEqual([['risk-gate', ['main']]])
  })

  it('a durable missing while its actor is live (recreated during a rebuild) is not done', () => {
    expect(describeWaiting(stillToDo(work, drained(work, ['persister-md']), everyone(work)))).toBe('persister: durable persister-md missing')
  })

  it('a backlog counts, by actor, whether or not the durable is expected (one of an account no longer configured)', () => {
    const b = { ...drained(work), total: 15, lagging: { 'indicators-p3': 12, 'risk-gate-gone': 3 } }
    const waiting = stillToDo(work, b, everyone(work))
    expect(describeWaiting(waiting)).toBe('indicators: indicators-p3 12 pending; risk-gate: risk-gate-gone 3 pending')
    expect(onlyBacklog(waiting)).toBe(true)
  })

  it('without a config: every scope an instance owns must be live, and all six actors must run', () => {
    const bare = expectedWork(deploymentActors(undefined), false)
    const instances = everyone(work).map((i) => (i.actor === 'risk-gate' ? instance('risk-gate', ['main', 'second'], ['main']) : i))
    expect(stillToDo(bare, drained(work), instances).map((w) => [w.actor, w.notLive])).toEqual([['risk-gate', ['second']]])
    expect(
      stillToDo(
        bare,
        drained(work),
        everyone(work).filter((i) => i.actor !== 'paper-executor'),
      ).map((w) => w.actor),
    ).toEqual(['paper-executor'])
    // With the config, a scope the config does not give is not waited for.
    expect(stillToDo(work, drained(work), instances)).toEqual([])
  })

  it('without instances to ask (a harness that waited for its actors itself): only the backlog', () => {
    const b = { ...drained(work, ['persister-md']), total: 2, lagging: { 'strategy-p1': 2 } }
    expect(stillToDo(null, b, null)).toEqual([{ actor: 'strategy', noInstance: false, notLive: [], missing: [], busy: { 'strategy-p1': 2 } }])
  })
})
