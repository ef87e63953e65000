// A pull request nobody reads — what a SIGKILLed process leaves on its durable, or a pull sent while
// NATS was down that reaches the server after the reconnect, beside the live one — takes its share
// of the deliveries. Ordered actors acknowledge cumulatively, so a delivery that went there would be
// acknowledged unread by the next ack: after a NATS restart every other bar was lost this way. Each
// scope now checks that every delivery follows the one before and rebuilds when one went elsewhere.
import { readFileSync } from 'node:fs'
import { nanos } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/core/csv.js'
import { replayBars } from '../../src/app/replay.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { startStack, type Stack } from '../support/stack.js'
import { partitionOf } from '../../src/core/partition.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const reference = smaCrossReference(bars, { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 })

describe('a stray pull request on an ordered actor’s durable', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
    await stack.start()
  })
  afterAll(async () => stack?.close())

  it('loses no message: every bar is stored, and the trades equal the reference', async () => {
    // Pulls on market-snapshots' (the router's and ORCL's partition's) and the executor's durables, answered to an inbox that is subscribed
    // (as a client's request inbox stays after a reconnect) but that nothing reads.
    stack.client.subscribe('_INBOX.nobody.>', { callback: () => {} })
    for (const [stream, durable] of [
      ['MD_IN', 'market-snapshots-route'],
      ['MD_PART', `market-snapshots-p${partitionOf('ORCL')}`],
      ['MD', 'paper-executor-main-bars'],
    ] as const) {
      stack.client.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`, JSON.stringify({ batch: 200, expires: nanos(20_000) }), {
        reply: `_INBOX.nobody.${durable}`,
      })
    }
    await stack.client.flush()
    await replayBars(stack.client, bars, { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    await stack.quiesce(90_000)
    const [stored] = await stack.sql<{ n: number }[]>`select count(*)::int as n from snapshot_market`
    expect(stored!.n).toBe(bars.length)
    expect(await stack.trades()).toEqual(reference.fills)
  }, 120_000)
})
