// `paperd dlq list` and `paperd dlq replay`: refused messages are listed with their reason straight
// from the DLQ stream, and can be published again on their original subject.
import { jetstream } from '@nats-io/jetstream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../support/stack.js'

describe('paperd dlq', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
    await stack.start()
    const js = jetstream(stack.client)
    await js.publish('md.in.bar.ORCL', JSON.stringify({ ts: '2024-01-02', open: 10, high: 9, low: 11, close: 10, volume: 1 }), { msgID: 'bad-1' })
    await js.publish('md.in.bar.ORCL', '{not json', { msgID: 'bad-2' })
    await stack.quiesce()
  })
  afterAll(async () => stack?.close())

  it('list shows each dead letter with its actor, subject and reason; --json gives the payloads', async () => {
    const r = await stack.cli(['dlq', 'list'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/market-snapshots {2}md\.in\.bar\.ORCL {2}dlq:market-snapshots:MD_PART:1\n {4}md\.in\.bar: high 9 is below low 11/)
    expect(r.stdout).toMatch(/invalid JSON/)
    expect(r.stderr).toContain('2 dead letter(s)')
    const json = JSON.parse((await stack.cli(['dlq', 'list', '--json', '--actor', 'market-snapshots'])).stdout)
    expect(json.map((d: { payload: string }) => d.payload)).toEqual(['{"ts":"2024-01-02","open":10,"high":9,"low":11,"close":10,"volume":1}', '{not json'])
    expect(JSON.parse((await stack.cli(['dlq', 'list', '--json', '--actor', 'persister'])).stdout)).toEqual([])
  })

  it('replay publishes a dead letter again on its subject (here refused again, as a new dead letter); unknown ids are refused', async () => {
    const r = await stack.cli(['dlq', 'replay', '--id', 'dlq:market-snapshots:MD_PART:1'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('replayed 1 dead letter(s)')
    await stack.quiesce()
    const letters = JSON.parse((await stack.cli(['dlq', 'list', '--json'])).stdout) as { id: string; subject: string; msg_id: string }[]
    expect(letters).toHaveLength(3)
    expect(letters[2]).toMatchObject({ subject: 'md.in.bar.ORCL', msg_id: 'replay:dlq:market-snapshots:MD_PART:1' })
    const bad = await stack.cli(['dlq', 'replay', '--id', 'dlq:nope'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('no dead letter dlq:nope')
  })
})
