// Prometheus metrics: one registry per process (never the global one, so tests stay isolated),
// recorded by the runtime only (handlers are pure). Labels are bounded (actor, outcome, type,
// table) — never ids. Names follow the Prometheus conventions `promtool check metrics` enforces:
// the paperd_ prefix, base units (_seconds), _total on counters only (a test runs promtool on a
// running daemon's /metrics).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * prom-client's default Node process metrics with the paperd_ prefix: the standard names after it
 * (paperd_process_cpu_seconds_total, paperd_process_resident_memory_bytes,
 * paperd_nodejs_eventloop_lag_seconds, paperd_nodejs_heap_size_used_bytes, …). Its three
 * `nodejs_active_*_total` series are gauges named like counters (promtool: "non-counter metrics
 * should not have _total suffix"); they are left out — `sum(paperd_nodejs_active_handles)` and
 * friends (by type) give the same numbers.
 */
export function collectProcessMetrics(registry: Registry): void {
  const prefix = 'paperd_'
  collectDefaultMetrics({ register: registry, prefix })
  for (const what of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`${prefix}nodejs_active_${what}_total`)
}

/**
 * `processMetrics`: false on worker threads, whose process is already measured by the main thread.
 * `actors`: the actors this registry's process runs; their labelled series start at 0 (see below).
 */
export function createMetrics(opts: { processMetrics?: boolean; actors?: readonly string[] } = {}) {
  const registry = new Registry()
  if (opts.processMetrics ?? true) collectProcessMetrics(registry)
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
    publishSeconds: new Histogram({
      name: 'paperd_publish_duration_seconds',
      help: "Time from publishing a batch's outputs to the last PubAck (retries included), batches with outputs only",
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
    lookups: new Counter({
      name: 'paperd_lookups_total',
      help: 'Bar lookups of the handlers (the gate and the executor read bars of MD), by where they were answered from: memory (bars this process had just handled) or stream (JetStream reads)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'paperd_retries_total',
      help: 'Publish or commit attempts that failed and were retried',
      labelNames: ['actor', 'what'] as const,
      registers: [registry],
    }),
    scopesOwned: new Gauge({
      name: 'paperd_scopes_owned',
      help: 'Scopes (symbol partitions, accounts, Gayed strategies) this process runs, live or not; paperd_scopes_live below it means scopes rebuilding or restarting',
      labelNames: ['actor'] as const,
      registers: [registry],
    }),
    leaseEvents: new Counter({
      name: 'paperd_lease_events_total',
      help: 'Scope leases this process acquired (event="acquired": on start, on a hand-over or taking over from a dead instance), lost (its lease lapsed or another took it: the scope stopped without acting) or handed over',
      labelNames: ['actor', 'event'] as const,
      registers: [registry],
    }),
    takeover: new Histogram({
      name: 'paperd_scope_takeover_seconds',
      help: 'From the last renewal of the lease of the instance that owned a scope before (server clock) to this instance consuming it live, rebuilt (kind="expired": the owner died or stalled and its lease ran out; "handover": it stopped or moved the scope and deleted its lease)',
      labelNames: ['actor', 'kind'] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60],
      registers: [registry],
    }),
    scopesLive: new Gauge({
      name: 'paperd_scopes_live',
      help: 'Scopes (partitions, accounts) this process owns and has caught up on',
      labelNames: ['actor'] as const,
      registers: [registry],
    }),
    barToFill: new Histogram({
      name: 'paperd_bar_to_fill_seconds',
      help: 'Wall time from the JetStream timestamp of the message that decided a fill (trigger="bars": its fill bar on MD; "orders"/"commands": the order or command, when its fill bar was stored before it) to the PubAck of the batch carrying the fill; server clock to this process clock',
      labelNames: ['trigger'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'paperd_persister_commit_duration_seconds',
      help: 'Time of one persister transaction (a batch of row writes and its consumer positions), by result (ok, transient, failed)',
      labelNames: ['result'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    rows: new Counter({
      name: 'paperd_persister_rows_total',
      help: 'Row writes (upserts) the persister committed, by table; a redelivered message is written, and counted, again',
      labelNames: ['table'] as const,
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
    feedRequests: new Counter({
      name: 'paperd_feed_requests_total',
      help: "Requests to a feed's provider, by outcome (ok, retried: a 429, 5xx or no answer asked again, failed)",
      labelNames: ['feed', 'provider', 'outcome'] as const,
      registers: [registry],
    }),
    feedPublished: new Counter({
      name: 'paperd_feed_published_total',
      help: 'Messages a feed published on md.in.* (duplicates the stream dropped are not counted)',
      labelNames: ['feed'] as const,
      registers: [registry],
    }),
    feedUp: new Gauge({
      name: 'paperd_feed_up',
      help: "1 when the feed's last poll succeeded, 0 while its provider fails (on the instance that owns the feed)",
      labelNames: ['feed', 'provider'] as const,
      registers: [registry],
    }),
    feedLastBar: new Gauge({
      name: 'paperd_feed_last_bar_timestamp_seconds',
      help: 'Open time of the latest bar a feed has published, per symbol',
      labelNames: ['feed', 'symbol'] as const,
      registers: [registry],
    }),
    feedBehind: new Gauge({
      name: 'paperd_feed_bars_behind',
      help: 'Bars the market calendar says are complete but the feed has not published yet, per symbol',
      labelNames: ['feed', 'symbol'] as const,
      registers: [registry],
    }),
  }
  initActorSeries(metrics, opts.actors ?? [])
  return metrics
}

/**
 * A labelled series appears at its first inc(), so the first dead letter, the first failed commit or
 * a scope that never went live would be invisible to increase() and to comparisons in the alert rules
 * (ops/prometheus/alerts.yml): the series an alert reads start at 0 for every actor the process runs.
 */
function initActorSeries(metrics: Metrics, actors: readonly string[]): void {
  for (const actor of actors) {
    metrics.messages.inc({ actor, outcome: 'ok' }, 0)
    metrics.deadLetters.inc({ actor }, 0)
    metrics.scopesOwned.inc({ actor }, 0)
    metrics.scopesLive.inc({ actor }, 0)
  }
  if (actors.includes('persister')) for (const result of ['ok', 'transient', 'failed']) metrics.commitSeconds.zero({ result })
}

export type Metrics = ReturnType<typeof createMetrics>
