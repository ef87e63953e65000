// Given/when/then helpers for the pure actor handlers: build `Inbound` values exactly as the runtime
// hands them over (subject from the contract table, params from matching it, a stream sequence and
// the Nats-Msg-Id), and play a history through a handler. No NATS, no Postgres, no mocks.
import type { BarLookup, Found, FoundBar, Inbound, Outbound, Step } from '../../src/core/actor.js'
import { lookupInMemory } from '../../src/runtime/bar-tape.js'
import { contracts, type Message, type MessageType, type StreamName } from '../../src/core/contracts.js'
import { matchSubject, subjectOf } from '../../src/core/subjects.js'
import { DEFAULT_PARTITIONS } from '../../src/core/partition.js'

export interface InboundOptions {
  seq: number
  /** Nats-Msg-Id; defaults to the message id when it has one (what every actor publishes). */
  msgId?: string | undefined
  /** Subject tokens the body does not carry (the symbol of an injected bar). */
  tokens?: Record<string, string>
  partitions?: number
}

/** One message as a handler receives it. */
export function inbound<T extends MessageType>(type: T, data: Message<T>, opts: InboundOptions): Inbound<T> {
  const body = data as Record<string, unknown>
  const subject = subjectOf(type, { ...body, ...opts.tokens }, opts.partitions ?? DEFAULT_PARTITIONS)
  const match = matchSubject(subject)
  if (!match || match.type !== type) throw new Error(`subject ${subject} does not match ${type}`)
  const msgId = 'msgId' in opts ? opts.msgId : typeof body.id === 'string' ? body.id : undefined
  return { type, data, subject, params: match.params, seq: opts.seq, msgId } as unknown as Inbound<T>
}

/** An injected bar on md.in.bar.<symbol>, as an operator would type it. */
export function injected(symbol: string, bar: Message<'md.in.bar'>, seq: number, msgId?: string): Inbound<'md.in.bar'> {
  return inbound('md.in.bar', bar, { seq, msgId, tokens: { symbol } })
}

/** The published messages of a step, or [] */
export const emitted = <S>(step: Step<S>): Outbound[] => step.emit ?? []

/** Emitted data of one type. */
export function ofType<T extends MessageType>(out: Outbound[], type: T): Message<T>[] {
  return out.filter((o) => o.type === type).map((o) => o.data as Message<T>)
}

export interface Played<S> {
  state: S
  steps: Step<S>[]
  emit: Outbound[]
}

/** Runs a history through a handler from `state`, in order; sync or async handlers. */
export async function play<S, I extends Inbound = Inbound>(
  handle: (state: S, input: I) => Step<S> | Promise<Step<S>>,
  state: S,
  history: I[],
): Promise<Played<S>> {
  const steps: Step<S>[] = []
  for (const input of history) {
    const step = await handle(state, input)
    steps.push(step)
    state = step.state
  }
  return { state, steps, emit: steps.flatMap(emitted) }
}

/** The synchronous variant for handlers that never await. */
export function playSync<S, I extends Inbound = Inbound>(handle: (state: S, input: I) => Step<S>, state: S, history: I[]): Played<S> {
  const steps: Step<S>[] = []
  for (const input of history) {
    const step = handle(state, input)
    steps.push(step)
    state = step.state
  }
  return { state, steps, emit: steps.flatMap(emitted) }
}

/**
 * In-memory streams: "publishing" an outbound message appends it to its contract's stream and
 * returns it as the Inbound a consumer would receive (sequence per stream, msgId = message id).
 */
export class Streams {
  private readonly seqs: Partial<Record<StreamName, number>> = {}
  readonly log: Inbound[] = []

  constructor(private readonly partitions = DEFAULT_PARTITIONS) {}

  private next(type: MessageType): number {
    const stream = contracts[type].stream
    const seq = (this.seqs[stream] ?? 0) + 1
    this.seqs[stream] = seq
    return seq
  }

  publish(out: Outbound): Inbound {
    const input = inbound(out.type, out.data as never, { seq: this.next(out.type), partitions: this.partitions }) as Inbound
    this.log.push(input)
    return input
  }

  inject(symbol: string, bar: Message<'md.in.bar'>, msgId?: string): Inbound<'md.in.bar'> {
    const input = injected(symbol, bar, this.next('md.in.bar'), msgId)
    this.log.push(input)
    return input
  }

  /** Answers lookups from the md.bar messages published so far. */
  lookups(): (lookups: readonly BarLookup[]) => Found {
    return lookupsFrom(() => this.log.filter((m): m is Inbound<'md.bar'> => m.type === 'md.bar'))
  }
}

/** Answers a handler's lookups from md.bar messages with their stream sequences, as the stream holds them. */
export function lookupsFrom(bars: () => ReadonlyArray<{ seq: number; data: Message<'md.bar'> }>): (lookups: readonly BarLookup[]) => Found {
  return (lookups) => {
    const bySymbol = new Map<string, FoundBar[]>()
    for (const b of [...bars()].sort((x, y) => x.seq - y.seq)) {
      let list = bySymbol.get(b.data.symbol)
      if (!list) bySymbol.set(b.data.symbol, (list = []))
      list.push({ seq: b.seq, bar: b.data })
    }
    return lookupInMemory((symbol) => bySymbol.get(symbol), lookups)
  }
}
