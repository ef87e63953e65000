// What the runtime needs from the outside world, passed in by the composition root.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Codec, Encoded } from '../codec.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../metrics.js'
import type { CheckpointStore } from './checkpoints.js'
import type { Publisher } from './publisher.js'

export interface Io {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  codec: Codec
  /** Symbol partitions (subjects of partitioned messages). */
  partitions: number
  log: Logger
  metrics: Metrics
  checkpoints: CheckpointStore
  publisher: Publisher
  /** Number of NATS reconnects so far: ordered scopes resynchronise when it changes. */
  epoch(): number
  /** `${actor}.${scope}` → the scope's current state, while it runs (control-plane reads). */
  states?: Map<string, () => unknown>
  /** Told of every batch of outputs once JetStream has acknowledged them (control-plane replies). */
  published?: (out: readonly Encoded[]) => void
}

/** Counts reconnects of a connection. */
export function reconnectEpoch(nc: NatsConnection): () => number {
  let reconnects = 0
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'reconnect') reconnects++
  })()
  return () => reconnects
}
