// What the runtime needs from the outside world, passed in by the composition root.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Codec, Encoded } from './codec.js'
import type { Logger } from '../telemetry/log.js'
import type { Metrics } from '../telemetry/metrics.js'
import type { CheckpointStore } from './checkpoints.js'
import type { BarTape } from './bar-tape.js'
import type { Publisher } from './publisher.js'
import type { StrategyRegistry } from './strategy-registry.js'

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
  /**
   * null while the connection is up, else a promise of its return: a pull sent while it is down
   * would reach the server late, beside the next one.
   */
  whenConnected?(): Promise<void> | null
  /** `${actor}.${scope}` → the scope's current state, while it runs (control-plane reads). */
  states?: Map<string, () => unknown>
  /** The bars of MD this process has handled, answering lookups from memory (one per process). */
  tape?: BarTape
  /** The strategies defined at runtime, for actors that follow them (ActorDef.runtimeStrategies). */
  registry?: StrategyRegistry
  /** Told of every batch of outputs once JetStream has acknowledged them (control-plane replies). */
  published?: (out: readonly Encoded[]) => void
}

/** Follows a connection's status: how many times it reconnected, and whether it is up now. */
export function connectionState(nc: NatsConnection): { epoch: () => number; whenConnected: () => Promise<void> | null } {
  let reconnects = 0
  let up = true
  let waiters: (() => void)[] = []
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') up = false
      else if (s.type === 'reconnect') {
        reconnects++
        up = true
        for (const w of waiters) w()
        waiters = []
      }
    }
  })()
  return {
    epoch: () => reconnects,
    whenConnected: () => (up || nc.isClosed() ? null : new Promise<void>((resolve) => waiters.push(resolve))),
  }
}
