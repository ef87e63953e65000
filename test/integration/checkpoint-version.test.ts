// A release that changes an actor's state shape bumps its stateVersion; checkpoints written by the
// older release are then ignored and the state is rebuilt by replaying the streams. Here every
// checkpoint is replaced by one of a foreign version holding nonsense: had it been loaded, the
// actors would crash or trade wrongly; instead the run ends exactly like an uninterrupted one. The
// durables an older release named differently are replaced or removed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHECKPOINT_BUCKET, decodeCheckpoint } from '../../src/runtime/checkpoints.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const text = readFileSync(CSV, 'utf8')
const bars = parseBarsCsv(text, CSV).bars
const reference = smaCrossReference(bars, { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 })
const firstPart = join(mkdtempSync(join(tmpdir(), 'paperd-cpv-')), 'first.csv')
writeFileSync(firstPart, text.split('\n').slice(0, 401).join('\n'))

describe('checkpoints of another state version', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
    await stack.start()
  })
  afterAll(async () => stack?.close())

  it('are ignored: the state is rebuilt from the streams and trading ends as an uninterrupted run', async () => {
    expect((await stack.cli(['replay', firstPart, '--symbol', 'ORCL', '--wait', '--timeout', '90'])).code).toBe(0)
    await stack.stopDaemon()
    const kv = await new Kvm(jetstream(stack.client)).open(CHECKPOINT_BUCKET)
    const keys: string[] = []
    for await (const key of await kv.keys()) keys.push(key)
    expect(keys.length).toBeGreaterThan(3)
    for (const key of keys) {
      const cp = decodeCheckpoint((await kv.get(key))!.value)
      await kv.put(key, JSON.stringify({ version: 1, stateVersion: 999, positions: cp.positions, state: { nonsense: true } }))
    }
    // The durables an earlier release gave the executor: its orders on their own filter, and a
    // separate one for commands. The new release reads both through one, and drops the other.
    const jsm = await jetstreamManager(stack.client)
    await jsm.consumers.delete('TRADE', 'paper-executor-main-orders')
    await jsm.consumers.add('TRADE', { durable_name: 'paper-executor-main-orders', filter_subject: 'trade.order.main', ack_policy: AckPolicy.All })
    await jsm.consumers.add('TRADE', { durable_name: 'paper-executor-main-commands', filter_subject: 'trade.command.main', ack_policy: AckPolicy.All })
    await stack.start()
    expect((await jsm.consumers.info('TRADE', 'paper-executor-main-orders')).config.filter_subject).toBe('trade.*.main')
    await expect(jsm.consumers.info('TRADE', 'paper-executor-main-commands')).rejects.toThrow(/consumer not found/)
    const run = await stack.cli(['replay', CSV, '--symbol', 'ORCL', '--wait', '--timeout', '90'])
    expect(run.code, run.stderr).toBe(0)
    expect(await stack.trades()).toEqual(reference.fills)
  })
})
