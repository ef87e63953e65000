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

export interface MicroService {
  name: string
  id: string
  version: string
  description: string
  metadata: Record<string, string>
  endpoints: MicroEndpoint[]
  /** Extra numbers for STATS (per endpoint `data` in the protocol; here the service's own). */
  data?: () => Record<string, unknown>
}

/** A nuid-like id: 22 characters of [0-9A-Za-z]. */
export function instanceId(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
  return [...randomBytes(22)].map((b) => alphabet[b % alphabet.length]).join('')
}

/** Answers $SRV.PING/INFO/STATS (all, by name, by name and id) for the given services. */
export function serveMicro(nc: NatsConnection, services: MicroService[]): { stop(): void } {
  const started = new Date().toISOString()
  const head = (s: MicroService, type: string) => ({ type: `io.nats.micro.v1.${type}_response`, name: s.name, id: s.id, version: s.version, metadata: s.metadata })
  const replies = {
    PING: (s: MicroService) => head(s, 'ping'),
    INFO: (s: MicroService) => ({ ...head(s, 'info'), description: s.description, endpoints: s.endpoints.map((e) => ({ name: e.name, subject: e.subject, queue_group: e.queue_group, metadata: null })) }),
    STATS: (s: MicroService) => ({
      ...head(s, 'stats'),
      started,
      endpoints: s.endpoints.map((e) => ({
        name: e.name, subject: e.subject, queue_group: e.queue_group, num_requests: e.num_requests, num_errors: e.num_errors, last_error: e.last_error,
        processing_time: e.processing_time, average_processing_time: e.num_requests ? Math.round(e.processing_time / e.num_requests) : 0, data: s.data?.() ?? null,
      })),
    }),
  }
  const subs: Subscription[] = []
  for (const [verb, reply] of Object.entries(replies)) {
    const subjects = new Set([`$SRV.${verb}`, ...services.flatMap((s) => [`$SRV.${verb}.${s.name}`, `$SRV.${verb}.${s.name}.${s.id}`])])
    for (const subject of subjects) {
      const parts = subject.split('.')
      const targets = services.filter((s) => (parts[2] === undefined || parts[2] === s.name) && (parts[3] === undefined || parts[3] === s.id))
      subs.push(nc.subscribe(subject, { callback: (_err, m) => { for (const s of targets) m.respond(JSON.stringify(reply(s))) } }))
    }
  }
  return { stop: () => subs.forEach((s) => s.unsubscribe()) }
}
