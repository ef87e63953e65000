// Where an actor's row writes go (the persister's store): a port the composition root hands the
// runtime, never the actor — the persister's handler only says which rows a message makes.
import type { ConsumerPosition, Write } from '../core/actor.js'

export interface WriteSink {
  /** Commits a batch's writes and the consumer positions they bring, in one durable transaction. */
  commit(writes: Write[], positions: ConsumerPosition[]): Promise<void>
}

/**
 * What a sink throws when the failure is not the batch's fault (the database is down, a connection
 * was lost): the runtime keeps the messages and retries the same batch in place.
 */
export class TransientCommitError extends Error {
  override name = 'TransientCommitError'
}
