// Prometheus metrics: one registry per process (never the global one, so tests stay isolated),
// recorded by the runtime only. Labels are bounded (actor, outcome, type) — never ids.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** `processMetrics`: false on worker threads, whose process is already measured by the main thread. */
export function createMetrics(opts: { processMetrics?: boolean } = {}) {
  const registry = new Registry()
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'paperd_process_' })
  const metrics = {
    registry,
    messages: new Counter({
      name: 'paperd_messages_total',
      help: 'Messages handled, by actor and outcome (ok, invalid, skipped, duplicate, retry, …)',
      labelNames: ['actor', 'outcome'] as const,
      registers: [registry],
    }),
    handleSeconds: new Histogram({
      name: 'paperd_handler_duration_seconds',
      help: 'Time spent in an actor handler per message',
      labelNames: ['actor'] as const,
      buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    flushSeconds: new Histogram({
      name: 'paperd_flush_duration_seconds',
      help: 'Time to make a batch durable (publishes acknowledged, rows committed) before acking it',
      labelNames: ['actor'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'paperd_batch_size',
      help: 'Messages per processed batch',
      labelNames: ['actor'] as const,
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
    published: new Counter({
      name: 'paperd_published_total',
      help: 'Messages published, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'paperd_dead_letters_total',
      help: 'Messages refused and copied to dlq.<actor>',
      labelNames: ['actor'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'paperd_retries_total',
      help: 'Publish or commit attempts that failed and were retried',
      labelNames: ['actor', 'what'] as const,
      registers: [registry],
    }),
    scopesLive: new Gauge({
      name: 'paperd_scopes_live',
      help: 'Scopes (partitions, accounts) this process owns and has caught up on',
      labelNames: ['actor'] as const,
      registers: [registry],
    }),
    ideas: new Counter({
      name: 'paperd_ideas_total',
      help: 'Ideas by the status the risk gate gave them (an idea waiting for approval counts again when decided)',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    denials: new Counter({
      name: 'paperd_risk_denials_total',
      help: 'Entries the risk gate refused or sent to approval, by reason (fail:<limit>, approval:<why>, fail:halted)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    replayed: new Counter({
      name: 'paperd_replayed_messages_total',
      help: 'Messages re-applied to rebuild actor state at start',
      labelNames: ['actor'] as const,
      registers: [registry],
    }),
  }
  return metrics
}

export type Metrics = ReturnType<typeof createMetrics>
