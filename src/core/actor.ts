// The actor contract. An actor is a value: a pure `handle(state, input) → { state, emit, writes }`
// plus the inputs it consumes. The runtime (src/runtime/) does every piece of I/O: consume, validate,
// publish, commit, ack. Handlers take time from messages, never from the clock, and derive ids from
// their causes, so replaying the same inputs gives byte-identical outputs.
//
// State is owned by the runtime and handed back on every call; handlers may update it in place (it is
// rebuilt by replaying inputs after a restart, so in-place updates stay deterministic) and must keep
// it plain JSON data, because the runtime checkpoints it.
import type { Bar, Envelope, MessageType, Published, StreamName } from './contracts.js'
import { filterOf, subjectMatches } from './subjects.js'
import type { RuntimeStrategy } from './runtime-strategies.js'

export const ACTOR_NAMES = ['market-snapshots', 'indicators', 'strategy', 'risk-gate', 'paper-executor', 'persister'] as const
export type ActorName = (typeof ACTOR_NAMES)[number]

/** A validated inbound message, as a handler sees it. */
export type Inbound<T extends MessageType = MessageType> = Envelope<T> & {
  subject: string
  /** Template tokens of the subject (symbol, partition, account, actor). */
  params: Readonly<Record<string, string>>
  /** Stream sequence: a stable cursor into the stream the message came from. */
  seq: number
  /**
   * The Nats-Msg-Id header of raw market data (md.in.*), when its publisher set one: what was typed
   * by a person or a feed has no id in its body. paperd's own messages carry theirs in `data.id`, and
   * their headers are not read (decoding them cost every message a few percent of its handling).
   */
  msgId: string | undefined
}

export type Outbound = Envelope<Published>

/** A row operation for the persister's store; the runtime hands a batch of them to `commit`. */
export interface Write {
  table: string
  row: Record<string, unknown>
}

export interface Step<S> {
  state: S
  emit?: Outbound[]
  writes?: Write[]
  /** Outcome label for metrics when it is not plain "ok" (e.g. "duplicate"). Bounded set per actor. */
  outcome?: string
  /**
   * Why the input is refused, when only the state can tell it is bad (a bar contradicting the one
   * already accepted at its time): the runtime dead-letters it with this reason, like a message the
   * codec refused. A refusing step emits and writes nothing, and leaves the state as it was.
   */
  refused?: string
}

/** One durable consumer feeding a scope. */
export interface InputSpec {
  /** Distinguishes several inputs of one scope in the durable name ("orders", "bars"). */
  name?: string
  stream: StreamName
  /**
   * Subject filter; absent = the whole stream. Leave it out when it would cover every subject of
   * the stream anyway: nats-server counts pending messages of unfiltered consumers far more cheaply.
   */
  filter?: string
  /** Types the handler receives; anything else on the filter is acknowledged and counted as skipped. */
  accepts: readonly MessageType[]
  /**
   * Of the messages on the filter, whether this scope handles the one on `subject`; the others are
   * acknowledged unread. Pure; absent: every message. (A split scope catching up on its share of
   * its predecessor's stream reads it through this.)
   */
  claims?(subject: string): boolean
  /**
   * This input reads copies of another stream's messages that a router scope of the actor passes on
   * (Scope.route): `route` names where a message of `from` is copied to, `unroute` the subject a
   * copy stands for — what the handler, the codec and a dead letter see.
   */
  routed?: { from: StreamName; route(subject: string): string; unroute(subject: string): string }
}

/**
 * A unit of ownership: a symbol partition, an account, or the whole actor. Each scope has its own
 * state and durable consumers; exactly one instance may own a scope at a time.
 */
export interface Scope {
  key: string
  inputs: InputSpec[]
  /**
   * The symbol partition the scope's work belongs to (a partition's bars, or a multi-symbol scope
   * whose key hashes there): a process restricted to some partitions runs it only when it owns this
   * one. Absent: not tied to a partition (an account, a whole actor). Actors declare every scope;
   * which of them a process runs is the runtime's business.
   */
  partition?: number
  /**
   * A router: the scope passes each message of its input on, unread and with its message id, to the
   * subject this names (in a stream of its own), so the actor's other scopes can read their share by
   * subject — the partitioning nats-server 2.9 cannot do for subjects that carry no partition. It
   * keeps no state and its handler never sees a message.
   */
  route?(subject: string): string
}

/** Whether an input hands the handler a message of `type` on `subject` stored in `stream`: what routes a message in memory (the backtest) as the durables route it in the daemon. */
export function takes(input: InputSpec, stream: StreamName, subject: string, type: MessageType): boolean {
  if (input.routed && stream === input.routed.from) {
    subject = input.routed.route(subject)
    stream = input.stream
  }
  return (
    input.stream === stream &&
    (!input.filter || subjectMatches(input.filter, subject)) &&
    input.accepts.includes(type) &&
    (!input.claims || input.claims(subject))
  )
}

/** One scope per symbol partition, consuming `type` (md.bar or md.ind) of that partition. */
export function partitionScopes(type: 'md.bar' | 'md.ind', partitions: number): Scope[] {
  return Array.from({ length: partitions }, (_, partition) => ({
    key: `p${partition}`,
    partition,
    inputs: [{ stream: 'MD', filter: filterOf(type, { partition }), accepts: [type] }],
  }))
}

/**
 * Bars a handler needs besides its input: those of one symbol stored in MD after a stream position.
 * A handler cannot read a stream (it is pure), so it names what it needs with `lookup`, a pure
 * function of its state and input, and the runtime reads it before the call — from JetStream in the
 * daemon (retried like a publish), from memory in the backtest. The MD stream is append-only, so
 * the same lookup always finds the same bars: the handler's result stays a function of its inputs.
 */
export interface BarLookup {
  symbol: string
  /** Only bars of this timeframe; absent: every timeframe of the symbol. */
  timeframe?: string
  /** Stream sequence after which to read (exclusive). */
  after: number
  /** Last stream sequence to read (inclusive). */
  through: number
  /** At most this many bars (of the timeframe). */
  limit?: number
}

/** A bar found by a lookup, with its MD stream sequence. */
export interface FoundBar {
  seq: number
  bar: Bar
}

/** Per lookup, in the order asked: the lookup and the bars it found, in stream order. */
export type Found = readonly { lookup: BarLookup; bars: readonly FoundBar[] }[]

export interface ActorDef<S = unknown> {
  name: ActorName
  /**
   * Ordered actors keep state: messages are handled strictly in stream order, acknowledged
   * cumulatively (AckAll), and state is rebuilt from a checkpoint plus replay on start.
   * Unordered actors (the persister) are stateless sinks: acks are per message and a failed write
   * is retried by the server (nak with backoff, bounded by max_deliver).
   */
  ordered: boolean
  /**
   * The shape of the state, for checkpoints: bump it when a release changes what the state holds,
   * and a checkpoint written by an older release is ignored (the state is rebuilt by replay).
   */
  stateVersion?: number
  scopes: Scope[]
  init(scope: Scope): S
  /**
   * Inputs taken in and acknowledged but not acted on yet (ideas waiting for earlier orders to
   * settle, days waiting for their ideas' fate): work in flight that no consumer counts, so
   * `replay --wait` asks for it. Pure; absent: never any.
   */
  held?(state: S): number
  /**
   * The scope that did this work in an earlier release, when a release splits a scope: on a scope's
   * first start (no checkpoint, no durable of its own) it takes over the predecessor's state
   * (through `adopt`) and position, so nothing is handled twice or forgotten; once every scope has
   * its durable, the predecessor's is deleted. (market-snapshots' one scope `all` became a scope
   * per symbol partition.)
   */
  predecessor?: { scope: Scope; adopt(state: S, scope: Scope): S }
  /**
   * Strategies defined at runtime (ctl.strategies.put/delete, kept in a registry the runtime
   * follows). `concerns` says whether a version matters to a scope; `applied` which version of each
   * the state has taken; `define` takes a new one in, between two messages. The runtime records the
   * stream position where each scope took each version, and a rebuild takes it at that same
   * position, so a replay agrees with the live run. Pure; absent: the actor does not follow them.
   */
  runtimeStrategies?: {
    concerns(state: S, def: RuntimeStrategy, scope: Scope): boolean
    applied(state: S): Readonly<Record<string, number>>
    define(state: S, def: RuntimeStrategy, scope: Scope): S
  }
  /**
   * Work a scope does between messages, when its state says some is due: the paper executor folds
   * its books again after fills that reached it behind bars it had marked, and publishes the points
   * it held back — once for every late fill since the last time, not once per fill. `due` says after
   * how many milliseconds without a message (0: at once, after the batch in hand); the runtime then
   * reads `lookup`'s bars, runs `run` with the time the scope has been idle, and publishes its
   * outputs like a batch's, acknowledging nothing. (The backtest has none due: its executor has
   * every order before the bar after it.) Pure and synchronous, like `handle`. Absent: never.
   */
  settle?: {
    due(state: S): number | null
    lookup(state: S, scope: Scope, idleMs: number): BarLookup[]
    run(state: S, scope: Scope, found: Found, idleMs: number): Step<S>
    /**
     * After a rebuild replayed messages (`before`: the state it replayed them onto): the run that
     * first handled them may have left work for settling that the replay, in its own interleaving,
     * did not — the state says from where to settle again.
     */
    replayed?(state: S, before: S): S
  }
  /** What the handler must be given besides `input` (see BarLookup); null or absent: nothing. */
  lookup?(state: S, input: Inbound, scope: Scope): BarLookup[] | null
  /** Pure and synchronous: the next state and what to publish, from the state, the input and what `lookup` named. */
  handle(state: S, input: Inbound, scope: Scope, found: Found): Step<S>
}

export interface ConsumerPosition {
  consumer: string
  stream: string
  seq: number
}

export const defineActor = <S>(def: ActorDef<S>): ActorDef<S> => def

/** An actor of any state type, as the composition root holds them side by side. */
// biome-ignore lint/suspicious/noExplicitAny: a state type each actor picks; the runtime only passes it back
export type AnyActorDef = ActorDef<any>
