// Rebuilding an ordered scope's state at start: load its checkpoint, replay — through the same
// `apply` as live processing, outputs discarded because they were published before — every message
// the durable consumers acknowledged after it, then point each durable at the first message the
// state does not include. Inputs of one scope are replayed merged by stream time, the order they
// most likely arrived in.
import type { JsMsg } from '@nats-io/jetstream'
import type { ActorDef, InputSpec, Scope } from '../core/actor.js'
import { subjectMatches } from '../core/subjects.js'
import { apply, type ReadLookups } from './apply.js'
import { readLookups } from './lookups.js'
import { streamRange } from './stream-range.js'
import type { Io } from './io.js'
import type { Lease } from './leases.js'
import { acknowledgedThrough, durableName, ensureScopeConsumer, resetConsumer, retireDurables } from './topology.js'
import type { ConsumerConfig } from '@nats-io/jetstream'
import type { Checkpoint } from './checkpoints.js'
import { stampedVersions, takeStamped } from './strategy-versions.js'

export interface LiveInput {
  spec: Scope['inputs'][number]
  durable: string
  config: Partial<ConsumerConfig> & { durable_name: string }
}

interface Rebuilt<S> {
  state: S
  /** durable → stream sequence the state includes. */
  positions: Map<string, number>
  /**
   * durable → the consumer's delivery sequence before its next delivery: every delivery to this
   * scope must follow it by exactly one (a gap is a delivery that went to a pull nobody reads).
   */
  deliveries: Map<string, number>
  replayed: number
}

export async function rebuild<S>(def: ActorDef<S>, scope: Scope, inputs: LiveInput[], io: Io, key: string, lease?: Lease): Promise<Rebuilt<S>> {
  const log = io.log.child({ actor: def.name, scope: scope.key })
  const own = await io.checkpoints.load(key)
  const adopted = own ? null : await adoptPredecessor(def, scope, io, log)
  const stored = own ?? adopted?.checkpoint ?? null
  // A checkpoint of another state shape (written by an older paperd) is not loaded: the state is
  // rebuilt by replaying the streams from their start, as on a first run.
  const checkpoint = stored && (stored.stateVersion ?? 1) === (def.stateVersion ?? 1) ? stored : null
  if (stored && !checkpoint)
    log.warn({ stored: stored.stateVersion ?? 1, current: def.stateVersion ?? 1 }, 'checkpoint of another state version ignored; replaying from the streams')
  let state = checkpoint ? (checkpoint.state as S) : def.init(scope)
  const positions = new Map<string, number>()
  const deliveries = new Map<string, number>()
  const ranges: { input: LiveInput; from: number; to: number }[] = []
  if (checkpoint && adopted?.catchUp) ranges.push(adopted.catchUp)
  await retireDurables(io.jsm, def.name, scope)
  for (const input of inputs) {
    // A durable deleted by hand is recreated; the checkpoint then says where to resume.
    await ensureScopeConsumer(io.jsm, def, scope, input.spec)
    const info = await io.jsm.consumers.info(input.spec.stream, input.durable)
    const acked = acknowledgedThrough(info)
    const saved = checkpoint?.positions[input.durable] ?? 0
    // A router keeps no state: nothing to replay.
    if (acked > saved && !scope.route) ranges.push({ input, from: saved + 1, to: acked })
    const start = Math.max(acked, saved)
    log.debug(
      {
        durable: input.durable,
        saved,
        acked,
        delivered: info.delivered,
        floor: info.ack_floor,
        pending: info.num_ack_pending,
        waiting: info.num_waiting,
        redelivered: info.num_redelivered,
        optStart: info.config.opt_start_seq,
      },
      'rebuilding from the checkpoint and the acknowledged',
    )
    positions.set(input.durable, start)
    deliveries.set(input.durable, info.delivered.consumer_seq)
    // Messages delivered but not acknowledged by a previous process would come back only after
    // ack_wait, behind newer ones; a checkpoint may be ahead of a lost ack; and a durable whose
    // deliveries ran past its ack floor with nothing pending (a delivery settled without moving the
    // floor) would go on after a message the state never saw. In every case the durable restarts
    // exactly after what the state includes.
    const ahead = info.delivered.consumer_seq !== info.ack_floor.consumer_seq
    if (info.num_ack_pending > 0 || start !== acked || ahead) {
      log.info({ durable: input.durable, acked, start, pending: info.num_ack_pending, delivered: info.delivered.stream_seq, ahead }, 'repositioning consumer')
      await lease?.check()
      await resetConsumer(io.jsm, input.spec.stream, input.config, start + 1)
      deliveries.set(input.durable, 0) // a new consumer: its deliveries count from one
    }
  }
  // Strategies defined at runtime: each version the scope took, taken again where it was.
  const registry = def.runtimeStrategies ? io.registry : undefined
  const pending = registry ? await stampedVersions(registry, key) : []
  let replayed = 0
  if (ranges.length) {
    const t0 = performance.now()
    // A lookup that fails here fails the rebuild; the scope is then started again from the top.
    const read: ReadLookups = (lookups) => readLookups(io, lookups)
    const last = new Map<string, number>()
    const before = def.settle?.replayed ? structuredClone(state) : undefined
    for await (const { input, m } of merged(io, ranges)) {
      last.set(input.durable, m.seq)
      if (pending.length) state = takeStamped(def, scope, state, pending, m.seq)
      state = (await apply(def, scope, input.spec, state, m, io.codec, read)).state
      replayed++
    }
    if (before !== undefined && replayed) state = def.settle!.replayed!(state, before)
    io.metrics.replayed.inc({ actor: def.name }, replayed)
    log.info({ replayed, ms: Math.round(performance.now() - t0), fromCheckpoint: checkpoint !== null, last: Object.fromEntries(last) }, 'state rebuilt')
  }
  if (pending.length) state = takeStamped(def, scope, state, pending, Number.POSITIVE_INFINITY)
  return { state, positions, deliveries, replayed }
}

/** Messages of each range in stream order, ranges merged by stream timestamp. */
async function* merged(io: Io, ranges: { input: LiveInput; from: number; to: number }[]) {
  const iters = ranges.map((r) => streamRange(io, r.input.spec.stream, r.input.spec.filter, r.from, r.to)[Symbol.asyncIterator]())
  const heads = await Promise.all(iters.map((it) => it.next()))
  for (;;) {
    let pick = -1
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!
      if (h.done) continue
      if (pick < 0 || h.value.info.timestampNanos < (heads[pick]!.value as JsMsg).info.timestampNanos) pick = i
    }
    if (pick < 0) return
    yield { input: ranges[pick]!.input, m: heads[pick]!.value as JsMsg }
    heads[pick] = await iters[pick]!.next()
  }
}

/**
 * A split scope's first start (ActorDef.predecessor): the predecessor's checkpoint, its state cut to
 * this scope's share and its positions carried over to this scope's durables. Replaying from there
 * to where the durable starts (the predecessor's ack floor) gives the state the predecessor had.
 * A scope that now reads routed copies of the predecessor's stream (Scope.route) first catches up on
 * its share of the originals the predecessor had acknowledged after its checkpoint: those up to where
 * the router started, which continues the predecessor's durable. (Should the router have been
 * repositioned since, the range reaches further, into originals whose copies the scope reads next:
 * handled twice, a bar's second time is a duplicate and changes nothing.)
 */
async function adoptPredecessor<S>(
  def: ActorDef<S>,
  scope: Scope,
  io: Io,
  log: Io['log'],
): Promise<{ checkpoint: Checkpoint; catchUp?: { input: LiveInput; from: number; to: number } } | null> {
  const p = def.predecessor
  if (!p) return null
  const old = await io.checkpoints.load(`${def.name}.${p.scope.key}`)
  if (!old || (old.stateVersion ?? 1) !== (def.stateVersion ?? 1)) return null
  const positions: Record<string, number> = {}
  for (const input of scope.inputs) {
    const before = p.scope.inputs.find((i) => i.name === input.name && i.stream === input.stream)
    const at = before && old.positions[durableName(def.name, p.scope, before)]
    if (at !== undefined) positions[durableName(def.name, scope, input)] = at
  }
  log.info({ from: p.scope.key, positions }, 'first start of a split scope: taking over its share of the earlier scope')
  const checkpoint = { ...old, positions, state: p.adopt(old.state as S, scope) }
  const catchUp = await routedCatchUp(def, scope, io, old)
  return catchUp ? { checkpoint, catchUp } : { checkpoint }
}

async function routedCatchUp(def: ActorDef, scope: Scope, io: Io, old: Checkpoint): Promise<{ input: LiveInput; from: number; to: number } | null> {
  const mine = scope.inputs.find((i) => i.routed)
  const before = def.predecessor!.scope.inputs.find((i) => i.stream === mine?.routed?.from)
  const router = def.scopes.find((s) => s.route && s.inputs.some((i) => i.stream === before?.stream && i.name === before.name))
  if (!mine?.routed || !before || !router) return null
  const routerInput = router.inputs.find((i) => i.stream === before.stream && i.name === before.name)!
  const info = await io.jsm.consumers.info(before.stream, durableName(def.name, router, routerInput))
  const to = (info.config.opt_start_seq ?? 1) - 1
  const from = (old.positions[durableName(def.name, def.predecessor!.scope, before)] ?? 0) + 1
  if (to < from) return null
  const filter = mine.filter
  const spec: InputSpec = {
    ...before,
    accepts: mine.accepts,
    claims: (subject) => filter === undefined || subjectMatches(filter, mine.routed!.route(subject)),
  }
  return { input: { spec, durable: durableName(def.name, def.predecessor!.scope, before), config: { durable_name: '' } }, from, to }
}
