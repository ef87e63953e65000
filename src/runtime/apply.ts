// One message through an actor: decode and validate, hand to the handler, encode and validate what
// it emits. Shared by live processing and by replay, so a rebuilt state is exactly the live one.
import type { JsMsg } from '@nats-io/jetstream'
import type { ActorDef, BarLookup, Found, Inbound, InputSpec, Scope, Write } from '../core/actor.js'
import { InvalidMessage, type Codec, type Encoded } from './codec.js'
import { matchSubject } from '../core/subjects.js'
import { contracts } from '../core/contracts.js'
import { deadLetter } from './dead-letter.js'

/** What the runtime must do with the message once the batch is durable. */
type Disposition = 'ack' | 'term' | 'retry'

export interface Applied<S> {
  state: S
  disposition: Disposition
  outcome: string
  out: Encoded[]
  writes: Write[]
  reason?: string
  /** The message as the handler saw it, when it could be decoded. */
  inbound?: Inbound
}

/** Reads what a handler's lookup names; its failures are the runtime's to retry, never the message's. */
export type ReadLookups = (lookups: readonly BarLookup[]) => Promise<Found>

/** Raised when the bars a handler looked up could not be read (NATS trouble): retry the message. */
export class LookupFailed extends Error {
  override name = 'LookupFailed'
}

const NOTHING: Found = []

/** The outcome of a message another scope claims: acknowledged unread, and not counted. */
export const ELSEWHERE = 'elsewhere'

/** The outcome of a message a router scope passed on. */
const ROUTED = 'routed'

export async function apply<S>(def: ActorDef<S>, scope: Scope, spec: InputSpec, state: S, m: JsMsg, codec: Codec, read: ReadLookups): Promise<Applied<S>> {
  if (scope.route) return { state, disposition: 'ack', outcome: ROUTED, out: [routed(scope.route, m)], writes: [] }
  if (spec.claims && !spec.claims(m.subject)) return { state, disposition: 'ack', outcome: ELSEWHERE, out: [], writes: [] }
  const subject = spec.routed ? spec.routed.unroute(m.subject) : m.subject
  // A type this input does not take (a filter on 2.9 is one subject: the gate's trade.*.<ACCT>
  // brings every portfolio and position too) is known from its subject: acknowledged unread, left to
  // the actors that take it — most of the gate's and the executor's deliveries are such.
  const type = matchSubject(subject)?.type
  if (type !== undefined && !spec.accepts.includes(type)) return { state, disposition: 'ack', outcome: 'skipped', out: [], writes: [] }
  let input: Inbound
  try {
    input = codec.decode(subject, m.data, {
      seq: m.seq,
      // Raw market data's id is in its header only; paperd's own messages carry theirs in the body.
      msgId: type !== undefined && contracts[type].stream === 'MD_IN' ? m.headers?.get('Nats-Msg-Id') || undefined : undefined,
    })
  } catch (err) {
    if (!(err instanceof InvalidMessage)) throw err
    return {
      state,
      disposition: 'term',
      outcome: 'invalid',
      out: [codec.encode(deadLetter(def.name, m, err.message, subject))],
      writes: [],
      reason: err.message,
    }
  }
  if (!spec.accepts.includes(input.type)) return { state, disposition: 'ack', outcome: 'skipped', out: [], writes: [], inbound: input }
  let found = NOTHING
  try {
    const lookups = def.lookup?.(state, input, scope)
    if (lookups?.length) {
      try {
        found = await read(lookups)
      } catch (err) {
        throw new LookupFailed((err as Error).message, { cause: err })
      }
    }
    const step = def.handle(state, input, scope, found)
    if (step.refused !== undefined) {
      const reason = `${input.type}: ${step.refused}`
      return {
        state: step.state,
        disposition: 'term',
        outcome: step.outcome ?? 'invalid',
        out: [codec.encode(deadLetter(def.name, m, reason, subject))],
        writes: [],
        reason,
        inbound: input,
      }
    }
    const out = step.emit ? step.emit.map((o) => codec.encode(o)) : []
    return { state: step.state, disposition: 'ack', outcome: step.outcome ?? 'ok', out, writes: step.writes ?? [], inbound: input }
  } catch (err) {
    if (err instanceof LookupFailed) throw err
    const reason = `handler failed: ${(err as Error).message}`
    // A pure handler fails the same way every time: retrying would only reorder the stream, so the
    // message is dead-lettered at once. A sink's failure may pass; the server redelivers it.
    if (def.ordered)
      return { state, disposition: 'term', outcome: 'error', out: [codec.encode(deadLetter(def.name, m, reason, subject))], writes: [], reason, inbound: input }
    return { state, disposition: 'retry', outcome: 'error', out: [], writes: [], reason, inbound: input }
  }
}

/**
 * A router's copy of `m`: the same bytes on the subject `route` names, under the message's own id
 * (or `md.in:<seq>`, its place in its stream, when the publisher set none) — so a copy made twice (a router taking
 * over from one that died before acknowledging) is stored once, and what reads the copy sees the id
 * the original carried.
 */
function routed(route: (subject: string) => string, m: JsMsg): Encoded {
  const type = matchSubject(m.subject)?.type ?? 'md.in.bar'
  const id = m.headers?.get('Nats-Msg-Id') || `${m.subject.slice(0, m.subject.indexOf('.', m.subject.indexOf('.') + 1))}:${m.seq}` // md.in:<seq>
  return { type, subject: route(m.subject), id, payload: m.data }
}
