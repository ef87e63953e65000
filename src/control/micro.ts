// Each actor a process runs answers the NATS micro protocol (ADR-32), so `nats micro ls|info|stats`
// and `$SRV.PING|INFO|STATS` list every running actor with its instance, version, endpoints and stats.
// The protocol is a handful of JSON replies on core subjects; it is spoken here directly because the
// only @nats-io/services releases are prereleases of another version line than the rest of
// @nats-io/* (one version for all of them is a rule of this project).
import { randomBytes } from 'node:crypto'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'

export interface MicroEndpoint {
  name: string
  subject: string
  /** The queue group the endpoint subscribes in ('' for none). */
  queue_group: string
  num_requests: number
  num_errors: number
  last_error: string
  processing_time: number
}

interface MicroService {
  name: string
  id: string
  version: string
  description: string
  metadata: Record<string, string>
  endpoints: MicroEndpoint[]
  /** Extra numbers for STATS (per endpoint `data` in the protocol; here the service's own). */
  data?: () => Record<string, unknown>
  /** The scopes this instance owns and which of them are live now, for STATS (every actor, with or without endpoints). */
  scopes?: () => ScopeReport
}

/**
 * paperd's own field of a STATS reply, beside the protocol's (their readers ignore fields they do
 * not know): scope keys, so `paperd replay --wait` and `paperd status` can tell a scope that is
 * rebuilding (owned, not live) from one no instance runs (in nobody's `owned`).
 */
interface ScopeReport {
  owned: string[]
  live: string[]
  /** Scope → inputs it holds but has not acted on yet (ActorDef.held), only those above zero. */
  held?: Record<string, number>
}

/** A running actor instance, as its STATS reply describes it. */
export interface Instance {
  actor: string
  id: string
  version: string
  metadata: Record<string, string>
  /** null: an instance that does not report its scopes (another release). */
  scopes: ScopeReport | null
}

/** A nuid-like id: 22 characters of [0-9A-Za-z]. */
export function instanceId(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
  return [...randomBytes(22)].map((b) => alphabet[b % alphabet.length]).join('')
}

/** Answers $SRV.PING/INFO/STATS (all, by name, by name and id) for the given services. */
export function serveMicro(nc: NatsConnection, services: MicroService[]): { stop(): void } {
  const started = new Date().toISOString()
  const head = (s: MicroService, type: string) => ({
    type: `io.nats.micro.v1.${type}_response`,
    name: s.name,
    id: s.id,
    version: s.version,
    metadata: s.metadata,
  })
  const replies = {
    PING: (s: MicroService) => head(s, 'ping'),
    INFO: (s: MicroService) => ({
      ...head(s, 'info'),
      description: s.description,
      endpoints: s.endpoints.map((e) => ({ name: e.name, subject: e.subject, queue_group: e.queue_group, metadata: null })),
    }),
    STATS: (s: MicroService) => ({
      ...head(s, 'stats'),
      started,
      ...(s.scopes ? { scopes: s.scopes() } : {}),
      endpoints: s.endpoints.map((e) => ({
        name: e.name,
        subject: e.subject,
        queue_group: e.queue_group,
        num_requests: e.num_requests,
        num_errors: e.num_errors,
        last_error: e.last_error,
        processing_time: e.processing_time,
        average_processing_time: e.num_requests ? Math.round(e.processing_time / e.num_requests) : 0,
        data: s.data?.() ?? null,
      })),
    }),
  }
  const subs: Subscription[] = []
  for (const [verb, reply] of Object.entries(replies)) {
    const subjects = new Set([`$SRV.${verb}`, ...services.flatMap((s) => [`$SRV.${verb}.${s.name}`, `$SRV.${verb}.${s.name}.${s.id}`])])
    for (const subject of subjects) {
      const parts = subject.split('.')
      const targets = services.filter((s) => (parts[2] === undefined || parts[2] === s.name) && (parts[3] === undefined || parts[3] === s.id))
      subs.push(
        nc.subscribe(subject, {
          callback: (_err, m) => {
            for (const s of targets) m.respond(JSON.stringify(reply(s)))
          },
        }),
      )
    }
  }
  return { stop: () => subs.forEach((s) => s.unsubscribe()) }
}

/**
 * Every instance that answers $SRV.STATS: replies are taken until none came for `stallMs`, or at
 * most `maxWaitMs` — or until `enough` says what came is all the caller needs. An instance slow to
 * answer is missing from the result, never wrongly present.
 */
export async function askInstances(
  nc: NatsConnection,
  opts: { maxWaitMs?: number; stallMs?: number; enough?: (seen: Instance[]) => boolean } = {},
): Promise<Instance[]> {
  const seen: Instance[] = []
  try {
    const replies = await nc.requestMany('$SRV.STATS', '', { strategy: 'stall', stall: opts.stallMs ?? 250, maxWait: opts.maxWaitMs ?? 1500 })
    for await (const m of replies) {
      let r: Record<string, unknown>
      try {
        r = m.json<Record<string, unknown>>()
      } catch {
        continue // another service on this account answering in its own way
      }
      const scopes = r.scopes as ScopeReport | undefined
      seen.push({
        actor: String(r.name),
        id: String(r.id),
        version: String(r.version ?? ''),
        metadata: (r.metadata ?? {}) as Record<string, string>,
        scopes:
          scopes && Array.isArray(scopes.owned) && Array.isArray(scopes.live)
            ? { owned: scopes.owned.map(String), live: scopes.live.map(String), held: heldOf(scopes.held) }
            : null,
      })
      if (opts.enough?.(seen)) break
    }
  } catch {
    // no responders: nothing is running
  }
  return seen
}

/** A STATS reply's held counts, whatever another release sent. */
function heldOf(raw: unknown): Record<string, number> {
  if (!raw || typeof raw !== 'object') return {}
  return Object.fromEntries(Object.entries(raw as Record<string, unknown>).filter(([, n]) => typeof n === 'number' && n > 0)) as Record<string, number>
}
