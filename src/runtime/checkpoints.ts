// Checkpoints of ordered actors' state, in a JetStream KV bucket: the state of one scope together
// with the stream position of each of its consumers, written after a batch is acknowledged. A
// restart loads the checkpoint and replays only what came after it, so rebuilding never depends on
// how much history the streams still retain.
import { Kvm, type KV } from '@nats-io/kv'
import type { JetStreamClient } from '@nats-io/jetstream'

export const CHECKPOINT_BUCKET = 'paperd_state'

interface Checkpoint<S = unknown> {
  version: 1
  /** The actor's state shape (ActorDef.stateVersion); absent in checkpoints written before it existed = 1. */
  stateVersion?: number
  /** durable consumer name → stream sequence the state includes. */
  positions: Record<string, number>
  state: S
}

export interface CheckpointStore {
  load(key: string): Promise<Checkpoint | null>
  save(key: string, checkpoint: Checkpoint): Promise<void>
}

export async function openCheckpoints(js: JetStreamClient): Promise<CheckpointStore> {
  const kv: KV = await new Kvm(js).create(CHECKPOINT_BUCKET, { history: 1, description: 'paperd actor state checkpoints' })
  return {
    async load(key) {
      const entry = await kv.get(key)
      if (entry?.operation !== 'PUT' || entry.length === 0) return null
      const cp = entry.json<Checkpoint>()
      return cp.version === 1 ? cp : null
    },
    async save(key, checkpoint) {
      await kv.put(key, JSON.stringify(checkpoint))
    },
  }
}
