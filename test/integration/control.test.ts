// The executor's control plane over NATS request/reply, driven like an operator with the NATS CLI:
// read the books, close a position at the next bar, cancel, and get a clear error for every bad
// request — which changes nothing.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstream } from '@nats-io/jetstream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseBarsCsv } from '../../src/core/csv.js'
import { smaCrossReference } from '../support/reference-broker.js'
import { startStack, type Stack } from '../support/stack.js'

const CSV = 'test/fixtures/ORCL-daily.csv'
const text = readFileSync(CSV, 'utf8')
const bars = parseBarsCsv(text, CSV).bars
const opts = { fast: 10, slow: 30, qty: 100, cash: 10_000, commissionPct: 0.001 }
// The first prefix of the file that ends holding a position.
const cut = [...Array(bars.length).keys()].find((n) => n > 60 && smaCrossReference(bars.slice(0, n), opts).held > 0)!
const prefix = join(mkdtempSync(join(tmpdir(), 'paperd-ctl-')), 'prefix.csv')
writeFileSync(
  prefix,
  text
    .split('\n')
    .slice(0, cut + 1)
    .join('\n'),
)

describe('control plane: ctl.portfolio.get, ctl.positions.close, ctl.orders.cancel', () => {
  let stack: Stack
  const ask = async (subject: string, body: unknown) => {
    const reply = await stack.client.request(subject, typeof body === 'string' ? body : JSON.stringify(body), { timeout: 15_000 })
    return reply.json<Record<string, unknown> & { ok: boolean; error?: string }>()
  }
  beforeAll(async () => {
    stack = await startStack()
    await stack.start()
    expect((await stack.cli(['replay', prefix, '--symbol', 'ORCL', '--wait', '--timeout', '90'])).code).toBe(0)
  }, 120_000)
  afterAll(async () => stack?.close())

  it('ctl.portfolio.get answers with the books: cash, equity, the open position and no working order', async () => {
    const ref = smaCrossReference(bars.slice(0, cut), opts)
    const r = await ask('ctl.portfolio.get', { account: 'main' })
    expect(r).toMatchObject({ ok: true, account: 'main', working_orders: [] })
    expect(r.cash).toBeCloseTo(ref.cash, 6)
    expect(r.positions).toEqual([expect.objectContaining({ symbol: 'ORCL', side: 'long', qty: 100, mark: bars[cut - 1]!.close })])
    expect(r.equity).toBeCloseTo(ref.cash + 100 * bars[cut - 1]!.close, 6)
  })

  it('ctl.positions.close closes at the open of the next bar, with reason manual', async () => {
    const r = await ask('ctl.positions.close', { account: 'main', symbol: 'ORCL', by: 'alice' })
    expect(r).toMatchObject({ ok: true })
    const pending = await ask('ctl.portfolio.get', { account: 'main' })
    expect(pending.working_orders).toEqual([expect.objectContaining({ order_id: r.order_id, symbol: 'ORCL', side: 'sell', qty: 100, exit_reason: 'manual' })])
    const next = bars[cut]!
    await jetstream(stack.client).publish(
      'md.in.bar.ORCL',
      JSON.stringify({ ts: next.ts, open: next.open, high: next.high, low: next.low, close: next.close, volume: next.volume }),
      { msgID: `in:ORCL:1d:${next.ts}` },
    )
    await stack.quiesce()
    const [last] =
      await stack.sql`select side, qty::float8 as qty, price::float8 as price, ts, exit_reason, order_id from trades order by ts desc, recorded_at desc limit 1`
    expect(last).toMatchObject({ side: 'sell', qty: 100, price: next.open, exit_reason: 'manual', order_id: r.order_id })
    const [position] = await stack.sql`select status, exit_reason from positions order by opened_at desc limit 1`
    expect(position).toMatchObject({ status: 'closed', exit_reason: 'manual' })
    expect((await ask('ctl.portfolio.get', { account: 'main' })).positions).toEqual([])
  })

  it('every actor answers $SRV.PING and $SRV.INFO (nats micro ls) with its instance, version and control endpoints', async () => {
    const pings: Record<string, unknown>[] = []
    for await (const m of await stack.client.requestMany('$SRV.PING', '', { maxWait: 1000, strategy: 'timer' })) pings.push(m.json())
    expect(pings.map((p) => p.name).sort()).toEqual(['indicators', 'market-snapshots', 'paper-executor', 'persister', 'risk-gate', 'strategy'])
    expect(pings.every((p) => p.type === 'io.nats.micro.v1.ping_response' && typeof p.id === 'string' && p.version === '0.1.0')).toBe(true)
    const info = (await stack.client.request('$SRV.INFO.risk-gate', '', { timeout: 2000 })).json<{
      endpoints: { subject: string; queue_group: string }[]
      metadata: { host: string; pid: string }
    }>()
    expect(info.endpoints.map((e) => e.subject)).toEqual(expect.arrayContaining(['ctl.risk.get', 'ctl.risk.halt', 'ctl.ideas.approve']))
    // One queue group: whichever process takes a request forwards it to the one running its account.
    expect(new Set(info.endpoints.map((e) => e.queue_group))).toEqual(new Set(['paperd-control']))
    expect(info.metadata.pid).toMatch(/^\d+$/)
    const stats = (await stack.client.request('$SRV.STATS.paper-executor', '', { timeout: 2000 })).json<{
      endpoints: { subject: string; num_requests: number }[]
    }>()
    expect(stats.endpoints.find((e) => e.subject === 'ctl.portfolio.get')!.num_requests).toBeGreaterThan(0)
    // Every actor, with control endpoints or not, says which scopes it owns and which are live (replay --wait counts on it).
    const indicators = (await stack.client.request('$SRV.STATS.indicators', '', { timeout: 2000 })).json<{ scopes: { owned: string[]; live: string[] } }>()
    expect(indicators.scopes.owned).toHaveLength(16)
    expect(indicators.scopes.live).toEqual(indicators.scopes.owned)
  })

  it('paperd status prints the actors, the consumers with their lag and each account', async () => {
    const r = await stack.cli(['status'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^actors \(6 instances\)/)
    expect(r.stdout).toMatch(/risk-gate\s+\S+\s+0\.1\.0\s+main\s+1\/1/)
    expect(r.stdout).toMatch(/indicators\s+\S+\s+0\.1\.0\s+p0,.*\(16\)\s+16\/16/)
    expect(r.stdout).toMatch(/^gaps\n {2}none/m)
    // Every scope's lease: its owner (the one instance) and how long it has held it.
    expect(r.stdout).toMatch(/^scope leases \(\d+\)/m)
    expect(r.stdout).toMatch(/risk-gate\s+main\s+\S+\s+\d+\.\d s\s+\d+\.\d s ago/)
    expect(r.stdout).toMatch(/TRADE\s+risk-gate-main\s+0\s+0/)
    expect(r.stdout).toMatch(/main\s+no\s+—\s+\d+\.\d\d/)
    const json = JSON.parse((await stack.cli(['status', '--json'])).stdout)
    expect(json.leases.filter((l: { actor: string }) => l.actor === 'indicators')).toHaveLength(16)
    expect(new Set(json.leases.map((l: { owner: string }) => l.owner)).size).toBe(1)
    expect(json.accounts).toEqual([expect.objectContaining({ account: 'main', halted: false, positions: 0, working_orders: 0 })])
  })

  it('refuses what cannot be done, and every malformed request, with a clear error', async () => {
    expect(await ask('ctl.positions.close', { account: 'main', symbol: 'ORCL', by: 'alice' })).toEqual({ ok: false, error: 'no open ORCL position' })
    expect(await ask('ctl.orders.cancel', { account: 'main', order_id: 'order:nope', by: 'alice' })).toEqual({
      ok: false,
      error: 'order order:nope is not working (filled, rejected, cancelled or unknown)',
    })
    expect(await ask('ctl.portfolio.get', 'not json')).toMatchObject({ ok: false, error: expect.stringMatching(/^request is not JSON/) })
    expect(await ask('ctl.portfolio.get', {})).toEqual({ ok: false, error: 'account: missing (an account id)' })
    expect(await ask('ctl.portfolio.get', { account: 'ghost' })).toEqual({
      ok: false,
      error: 'no process runs account "ghost" (its paper-executor): is it started with the account in its config? Accounts running: main',
    })
    expect(await ask('ctl.positions.close', { account: 'main', symbol: 'ORCL' })).toEqual({ ok: false, error: 'by: missing (a name)' })
    expect(await ask('ctl.orders.cancel', { account: 'main', order_id: 'x', by: 'a', extra: 1 })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Unrecognized key/),
    })
    const [cash] = await stack.sql<{ n: number }[]>`select count(*)::int as n from trades`
    expect(cash!.n).toBe(smaCrossReference(bars.slice(0, cut), opts).fills.length + 1)
  })
})
