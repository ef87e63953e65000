// `paperd import`: publishes a legacy system's records (import-formats.ts) on import.trade.<ACCT> and
// import.portfolio.<ACCT>, for the persister — the only writer of Postgres — to store. Each message's
// id is its Nats-Msg-Id and its row's key, so importing the same file twice stores every row once
// (the stream drops the repeats it still remembers, the tables the rest).
import type { JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { DEFAULT_PARTITIONS } from '../core/partition.js'
import { subjectOf } from '../core/subjects.js'
import { backoff, sleep } from '../runtime/backoff.js'
import { createPublisher, type PubAck } from '../runtime/publisher.js'
import { durableName } from '../runtime/topology.js'
import { scope as persisterScope } from '../../actors/persister.js'
import type { ImportMessage } from './import-formats.js'

const WINDOW = 256
const ATTEMPTS = 5
const encoder = new TextEncoder()

export async function publishImport(
  nc: NatsConnection,
  messages: ImportMessage[],
  onProgress?: (done: number) => void,
): Promise<{ published: number; duplicates: number }> {
  const publisher = createPublisher(nc)
  let published = 0
  let duplicates = 0
  try {
    for (let i = 0; i < messages.length; i += WINDOW) {
      const window = messages.slice(i, i + WINDOW)
      const acks = await Promise.all(window.map((m) => publishOne(publisher.publish.bind(publisher), m)))
      for (const ack of acks) if (ack.duplicate) duplicates++
      published += window.length
      onProgress?.(published)
    }
  } finally {
    publisher.close()
  }
  return { published, duplicates }
}

async function publishOne(publish: (subject: string, payload: Uint8Array, id: string) => Promise<PubAck>, m: ImportMessage): Promise<PubAck> {
  const subject = subjectOf(m.type, m, DEFAULT_PARTITIONS)
  const payload = encoder.encode(JSON.stringify(m))
  for (let attempt = 1; ; attempt++) {
    try {
      return await publish(subject, payload, m.id)
    } catch (err) {
      if (attempt >= ATTEMPTS) throw err
      await sleep(backoff(attempt, 200, 3000))
    }
  }
}

/** The persister's durable on IMPORT. */
const IMPORT_DURABLE = durableName('persister', persisterScope, persisterScope.inputs.find((i) => i.stream === 'IMPORT')!)

/**
 * Waits until the persister has read everything on IMPORT (its rows are committed before it
 * acknowledges). 'absent': no persister has ever run here (the rows are written when one does).
 */
export async function waitForImport(jsm: JetStreamManager, timeoutMs: number): Promise<'done' | 'absent' | 'timeout'> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const info = await jsm.consumers.info('IMPORT', IMPORT_DURABLE).catch(() => null)
    if (!info) return 'absent'
    if (info.num_pending === 0 && info.num_ack_pending === 0) return 'done'
    if (Date.now() > deadline) return 'timeout'
    await sleep(100)
  }
}
