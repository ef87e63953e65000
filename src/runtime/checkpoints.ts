// Checkpoints of ordered actors' state, in a JetStream KV bucket: the state of one scope together
// with the stream position of each of its consumers, written after a batch is acknowledged. A
// restart loads the checkpoint and replays only what came after it, so rebuilding never depends on
// how much history the streams still retain. Under leases (leases.ts) a checkpoint carries the
// lease's fencing token, and one written under an older token never replaces a newer one: writes
// compare-and-set on the entry's revision, and a conflict with a newer token means this process lost
// the scope.
import { gunzipSync, gzipSync } from 'node:zlib'
import { Kvm, type KV } from '@nats-io/kv'
import type { JetStreamClient } from '@nats-io/jetstream'
import { LeaseLost } from './leases.js'

export const CHECKPOINT_BUCKET = 'paperd_state'

export interface Checkpoint<S = unknown> {
  version: 1
  /** The actor's state shape (ActorDef.stateVersion); absent in checkpoints written before it existed = 1. */
  stateVersion?: number
  /** durable consumer name → stream sequence the state includes. */
  positions: Record<string, number>
  state: S
  /** The fencing token of the lease it was written under; absent: written without leases. */
  fence?: number
}

export interface CheckpointStore {
  load(key: string): Promise<Checkpoint | null>
  /**
   * With `fence` (a lease token): only over a checkpoint of the same or an older token, else
   * LeaseLost. The checkpoint is encoded before save returns (the caller may go on changing its
   * state); `before` is awaited after that and before anything is written (the lease check).
   */
  save(key: string, checkpoint: Checkpoint, fence?: number, before?: () => Promise<void>): Promise<void>
}

/**
 * A checkpoint as stored: gzipped JSON. A gate with ideas waiting keeps them and the bars it looked up
 * in its state, and at 1,000 bars/s its JSON passed NATS's message limit (1 MB by default), so no
 * checkpoint was written and a restart replayed ever more; compressed it is a tenth of that.
 */
const encodeCheckpoint = (cp: Checkpoint): Uint8Array => gzipSync(JSON.stringify(cp), { level: 1 })

/** A stored checkpoint: gzipped, or plain JSON as releases before compression wrote it. */
export function decodeCheckpoint(data: Uint8Array): Checkpoint {
  const json = data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data
  return JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8')) as Checkpoint
}

export async function openCheckpoints(js: JetStreamClient, replicas = 1): Promise<CheckpointStore> {
  const kv: KV = await new Kvm(js).create(CHECKPOINT_BUCKET, { history: 1, replicas, description: 'paperd actor state checkpoints' })
  /** key → the revision this process last read or wrote (0: the key did not exist). */
  const revisions = new Map<string, number>()
  return {
    async load(key) {
      const entry = await kv.get(key)
      revisions.set(key, entry?.revision ?? 0)
      if (entry?.operation !== 'PUT' || entry.length === 0) return null
      const cp = decodeCheckpoint(entry.value)
      return cp.version === 1 ? cp : null
    },
    save(key, checkpoint, fence, before) {
      // Encoded now, before the first await: what is written is the state as it was at the call.
      const data = encodeCheckpoint(fence === undefined ? checkpoint : { ...checkpoint, fence })
      return write(key, data, fence, before)
    },
  }

  async function write(key: string, data: Uint8Array, fence: number | undefined, before: (() => Promise<void>) | undefined): Promise<void> {
    await before?.()
    if (fence === undefined) {
      await kv.put(key, data)
      return
    }
    for (let attempt = 0; attempt < 10; attempt++) {
      const revision = revisions.get(key)
      try {
        revisions.set(key, revision ? await kv.update(key, data, revision) : await kv.create(key, data))
        return
      } catch (err) {
        if (!/wrong last sequence|key exists/i.test((err as Error).message)) throw err
      }
      // Someone wrote it since we last looked: a newer owner (we lost the scope), or an older one
      // still finishing (its state is older than ours: write over it).
      const entry = await kv.get(key)
      const theirs = entry?.operation === 'PUT' && entry.length > 0 ? (decodeCheckpoint(entry.value).fence ?? 0) : 0
      if (theirs > fence) throw new LeaseLost(`checkpoint ${key} was written under a newer lease (${theirs} > ${fence})`)
      revisions.set(key, entry?.revision ?? 0)
    }
    throw new Error(`checkpoint ${key}: could not write it in 10 attempts`)
  }
}
