// Strategies defined at runtime (issue 16): a daemon started with an account and no strategies
// takes a strategy put over NATS — a malformed one refused with the path of its problem — trades it
// from the next bar, keeps it across a restart (its indicator and strategy scopes even rebuilt from
// the streams alone), records every version in `strategies`, and its fills equal the independent
// reference broker's.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstream } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHECKPOINT_BUCKET } from '../../src/runtime/checkpoints.js'
import { parseBarsCsv } from '../../src/core/csv.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { CANONICAL, startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const text = readFileSync(CSV, 'utf8')
const bars = parseBarsCsv(text, CSV).bars
const reference = smaCrossReference(bars, { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 })
const dir = mkdtempSync(join(tmpdir(), 'paperd-runtime-strategies-'))
// The first half of the file, then (after a restart) all of it.
const lines = text.trimEnd().split('\n')
const half = join(dir, 'half.csv')
writeFileSync(half, `${lines.slice(0, Math.floor(lines.length / 2)).join('\n')}\n`)
const {
  strategies: [smaCross],
  ...noStrategies
} = CANONICAL
const file = join(dir, 'sma-cross.json')
const { account: _account, ...withoutAccount } = smaCross!
writeFileSync(file, JSON.stringify(withoutAccount))

describe('strategies defined at runtime', () => {
  let stack: Stack
  const put = async (strategy: unknown) =>
    (await stack.client.request('ctl.strategies.put', JSON.stringify({ strategy, by: 'alice' }), { timeout: 20_000 })).json<Record<string, unknown>>()
  beforeAll(async () => {
    stack = await startStack({ ...noStrategies, strategies: [] })
    await stack.start()
  })
  afterAll(async () => stack?.close())

  it('refuses a malformed strategy with the path of its problem, as the config file would', async () => {
    expect(await put({ ...smaCross, entry: { long: { crossesAbove: ['fast', 'slower'] } } })).toEqual({
      ok: false,
      error: 'strategy.entry.long.crossesAbove[1]: "slower" is neither a declared indicator nor a bar field',
    })
    const { sizing: _sizing, ...unsized } = smaCross!
    expect(await put(unsized)).toMatchObject({ ok: false, error: expect.stringMatching(/^strategy\.sizing: /) })
    expect(await put({ ...smaCross, account: 'nobody' })).toMatchObject({ ok: false, error: expect.stringMatching(/nobody/) })
    expect(await put({ ...smaCross, type: 'gayed' })).toMatchObject({ ok: false, error: expect.stringMatching(/^strategy\.type: only "rules"/) })
    const listed = await stack.cli(['ctl', 'strategies', 'list', 'main'])
    expect(listed.stdout.trim()).toBe('no strategies')
  }, 60_000)

  it('trades a strategy put with `paperd ctl`, keeps it across restarts, and its fills equal the reference broker', async () => {
    const defined = await stack.cli(['ctl', 'strategies', 'put', 'main', file, '--by', 'alice'])
    expect(defined.code, defined.stderr).toBe(0)
    expect(defined.stdout.trim()).toBe('sma-cross version 1 in force')
    // The same definition again is the same version.
    expect(await put(smaCross)).toMatchObject({ ok: true, strategy: 'sma-cross', version: 1 })

    const first = await stack.cli(['replay', half, '--symbol', 'ORCL', '--wait', '--timeout', '90'])
    expect(first.code, first.stderr).toBe(0)
    const before = await stack.trades()
    expect(before.length).toBeGreaterThan(0)
    expect(before).toEqual(reference.fills.filter((f) => f.ts <= bars[Math.floor(lines.length / 2) - 2]!.ts))

    // A restart, with the indicator and strategy scopes' checkpoints gone: rebuilt from the streams
    // alone, they take the strategy again where they took it first.
    await stack.stopDaemon()
    const kv = await new Kvm(jetstream(stack.client)).open(CHECKPOINT_BUCKET)
    for await (const key of await kv.keys()) if (/^(indicators|strategy)\./.test(key)) await kv.delete(key)
    await stack.start()
    const listed = await stack.cli(['ctl', 'strategies', 'list', 'main'])
    expect(listed.stdout).toMatch(/^sma-cross +runtime +1 +ORCL +yes +—$/m)

    const rest = await stack.cli(['replay', CSV, '--symbol', 'ORCL', '--wait', '--timeout', '90'])
    expect(rest.code, rest.stderr).toBe(0)
    expect(await stack.trades()).toEqual(reference.fills)
    const [cash] = await stack.sql`select cash::float8 as cash from portfolio_state where account = 'main'`
    expect(cash!.cash).toBeCloseTo(reference.cash, 6)

    const rows = await stack.sql`select strategy_id, version, account, action, updated_by, definition from strategies order by version`
    expect(rows).toEqual([
      {
        strategy_id: 'sma-cross',
        version: 1,
        account: 'main',
        action: 'put',
        updated_by: 'alice',
        definition: expect.objectContaining({ id: 'sma-cross', symbols: ['ORCL'] }),
      },
    ])
  }, 240_000)

  it('deletes it: gone from the list, the deletion recorded as a version', async () => {
    const deleted = await stack.cli(['ctl', 'strategies', 'delete', 'main', 'sma-cross', '--by', 'bob'])
    expect(deleted.code, deleted.stderr).toBe(0)
    expect(deleted.stdout.trim()).toBe('sma-cross deleted (version 2)')
    expect((await stack.cli(['ctl', 'strategies', 'list', 'main'])).stdout.trim()).toBe('no strategies')
    const again = await stack.cli(['ctl', 'strategies', 'delete', 'main', 'sma-cross'])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^paperd: no runtime strategy "sma-cross" on account main/m)
    await stack.quiesce()
    const rows = await stack.sql`select version, action, updated_by, definition from strategies order by version`
    expect(rows.map((r) => [r.version, r.action, r.updated_by, r.definition])).toEqual([
      [1, 'put', 'alice', expect.anything()],
      [2, 'delete', 'bob', null],
    ])
    expect(await stack.sql`select * from strategies_current`).toEqual([])
  }, 90_000)
})
