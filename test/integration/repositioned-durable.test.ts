// A scope that rebuilds while its durable still has unacknowledged deliveries recreates the durable
// to start right after what it acknowledged. A process killed just then — before it acknowledged
// anything more, and before its first checkpoint — leaves a durable that nats-server 2.9 reports as
// having acknowledged nothing (ack floor 0), though everything before its start is behind it. Taken
// at its word, the next start rebuilt an empty state and went on from the durable's start: every
// earlier message was lost (in the soak: orders filled months late, ideas never judged).
import { readFileSync } from 'node:fs'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/core/csv.js'
import { replayBars } from '../../src/app/replay.js'
import { CHECKPOINT_BUCKET } from '../../src/runtime/checkpoints.js'
import { resetConsumer } from '../../src/runtime/topology.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const bars = parseBarsCsv(readFileSync(CSV, 'utf8'), CSV).bars
const reference = smaCrossReference(bars, { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 })

describe('a durable repositioned by a process that died before acknowledging anything more', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
    await stack.start()
  })
  afterAll(async () => stack?.close())

  it('is resumed from where it starts, with every earlier message in the rebuilt state: the trades and the cash equal the reference', async () => {
    const half = Math.floor(bars.length / 2)
    await replayBars(stack.client, bars.slice(0, half), { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    await stack.quiesce(90_000)
    await stack.stopDaemon()

    // What the killed processes left: no checkpoint yet, and each durable of the risk gate and the
    // executor recreated to start after its ack floor, nothing acknowledged since.
    const kv = await new Kvm(jetstream(stack.client)).open(CHECKPOINT_BUCKET)
    const jsm = await jetstreamManager(stack.client)
    const durables = [
      ['TRADE', 'risk-gate-main'],
      ['TRADE', 'paper-executor-main-orders'],
      ['MD', 'paper-executor-main-bars'],
    ] as const
    for (const key of ['risk-gate.main', 'paper-executor.main']) await kv.purge(key)
    for (const [stream, durable] of durables) {
      const info = await jsm.consumers.info(stream, durable)
      expect(info.ack_floor.stream_seq).toBeGreaterThan(0)
      await resetConsumer(jsm, stream, { ...info.config, durable_name: durable }, info.ack_floor.stream_seq + 1)
      expect((await jsm.consumers.info(stream, durable)).ack_floor.stream_seq, 'nats-server reports nothing acknowledged').toBe(0)
    }

    await stack.start()
    await replayBars(stack.client, bars.slice(half), { symbol: 'ORCL', timeframe: '1d', speed: Infinity })
    await stack.quiesce(90_000)
    expect(await stack.trades()).toEqual(reference.fills)
    const [book] = await stack.sql<{ cash: number }[]>`select cash::float8 as cash from portfolio_state where account = 'main'`
    expect(book!.cash).toBeCloseTo(reference.cash, 6)
  }, 180_000)
})
