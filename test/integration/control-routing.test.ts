// The control plane with accounts split over processes, as the runbook lays them out (one config per
// service): every ctl.* request is answered by the process that runs its account, whichever process
// the request reaches first; an account nobody runs gets a clear error at once; a malformed account
// id is told what is wrong with it. Three owners: this process's daemon running every actor (alpha),
// a second daemon running only the account actors (beta), and `paperd start --threads 2` as its own
// process, its risk-gate and executor on worker threads (gamma).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/env.js'
import { killSpawned, spawnDaemon } from '../support/process.js'
import { startStack, type Stack } from '../support/stack.js'

const OWNERS = { alpha: { cash: 10_000, lot: 111 }, beta: { cash: 20_000, lot: 222 }, gamma: { cash: 30_000, lot: 333 } } as const
type Account = keyof typeof OWNERS
const configOf = (id: Account) => ({ accounts: [{ id, starting_cash: OWNERS[id].cash, risk: { max_lot_size: OWNERS[id].lot } }] })

type Reply = Record<string, unknown> & { ok: boolean; error?: string }

describe('control requests with accounts split over processes', () => {
  let stack: Stack
  const ask = async (subject: string, body: unknown): Promise<Reply> => {
    const payload = body instanceof Uint8Array || typeof body === 'string' ? body : JSON.stringify(body)
    return (await stack.client.request(subject, payload, { timeout: 15_000 })).json<Reply>()
  }
  /** Requests answered per process, from $SRV.STATS of the three instances of `actor`. */
  const answered = async (actor: string, subject: string) => {
    const counts: number[] = []
    for await (const m of await stack.client.requestMany(`$SRV.STATS.${actor}`, '', { strategy: 'count', maxMessages: 3, maxWait: 10_000 })) {
      counts.push(m.json<{ endpoints: { subject: string; num_requests: number }[] }>().endpoints.find((e) => e.subject === subject)?.num_requests ?? 0)
    }
    return counts.sort()
  }

  beforeAll(async () => {
    stack = await startStack(configOf('alpha'))
    await stack.start()
    await stack.start(['risk-gate', 'paper-executor'], {}, parseConfig(configOf('beta')))
    const file = join(mkdtempSync(join(tmpdir(), 'paperd-routing-')), 'gamma.json')
    writeFileSync(file, JSON.stringify(configOf('gamma')))
    await spawnDaemon(stack, ['--actors', 'risk-gate,paper-executor', '--config', file, '--threads', '2'], { LOG_LEVEL: 'warn' })
  }, 120_000)
  afterAll(async () => {
    killSpawned()
    await stack?.close()
  })

  it('100 ctl.portfolio.get / ctl.risk.get requests are all answered by the owner of their account', async () => {
    const accounts = Object.keys(OWNERS) as Account[]
    const before = { portfolio: await answered('paper-executor', 'ctl.portfolio.get'), risk: await answered('risk-gate', 'ctl.risk.get') }
    const replies = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const account = accounts[i % accounts.length]!
        const subject = i % 2 ? 'ctl.risk.get' : 'ctl.portfolio.get'
        return { account, subject, reply: await ask(subject, { account }) }
      }),
    )
    const wrong = replies.filter(({ account, subject, reply }) =>
      subject === 'ctl.portfolio.get'
        ? !(reply.ok && reply.account === account && reply.cash === OWNERS[account].cash && reply.equity === OWNERS[account].cash)
        : !(reply.ok && reply.account === account && (reply.risk as { max_lot_size: number }).max_lot_size === OWNERS[account].lot && reply.halted === false),
    )
    expect(wrong).toEqual([])
    // Exactly one front door answered each request: the endpoint counts of all instances add up to what was sent.
    const after = { portfolio: await answered('paper-executor', 'ctl.portfolio.get'), risk: await answered('risk-gate', 'ctl.risk.get') }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
    expect([before.portfolio, before.risk, after.portfolio, after.risk].map((c) => c.length)).toEqual([3, 3, 3, 3])
    expect(sum(after.portfolio) - sum(before.portfolio)).toBe(50)
    expect(sum(after.risk) - sum(before.risk)).toBe(50)
  })

  it('a command is applied by the owner of its account, and only to it', async () => {
    for (const account of ['beta', 'gamma'] as const) {
      expect(await ask('ctl.risk.halt', { account, by: 'alice', reason: 'routing' })).toMatchObject({ ok: true, halted: true, last_halt_reason: 'routing' })
      const states = await Promise.all((Object.keys(OWNERS) as Account[]).map(async (a) => [a, (await ask('ctl.risk.get', { account: a })).halted]))
      expect(Object.fromEntries(states)).toEqual({ alpha: false, beta: account === 'beta', gamma: account === 'gamma' })
      expect(await ask('ctl.risk.resume', { account, by: 'alice' })).toMatchObject({ ok: true, halted: false })
    }
    expect(await ask('ctl.positions.close', { account: 'gamma', symbol: 'ORCL', by: 'alice' })).toEqual({ ok: false, error: 'no open ORCL position' })
  })

  it('an account no process runs gets a clear error within a second, naming the accounts that run', async () => {
    for (const subject of ['ctl.risk.get', 'ctl.portfolio.get', 'ctl.risk.halt']) {
      const t0 = Date.now()
      const reply = await ask(subject, { account: 'ghost', ...(subject === 'ctl.risk.halt' ? { by: 'alice', reason: 'x' } : {}) })
      expect(Date.now() - t0, subject).toBeLessThan(1000)
      const actor = subject === 'ctl.portfolio.get' ? 'paper-executor' : 'risk-gate'
      const head = `no process runs account "ghost" (its ${actor}): is it started with the account in its config? Accounts running: `
      expect(reply, subject).toEqual({ ok: false, error: expect.stringMatching(/^no process runs account "ghost" .*Accounts running: [a-z]+(, [a-z]+)*$/) })
      expect(reply.error!.startsWith(head), reply.error).toBe(true)
      // The accounts it heard of in the time it gives the processes to answer: at least the front door's own, none that does not run.
      expect(['alpha', 'beta', 'gamma'], reply.error).toEqual(expect.arrayContaining(reply.error!.slice(head.length).split(', ')))
    }
  })

  it('a malformed account, symbol or id is told what is wrong with it', async () => {
    expect(await ask('ctl.risk.get', { account: 'a"b' })).toEqual({
      ok: false,
      error: 'account: "a\\"b" is not a valid account id: use 1-32 characters a-z 0-9 _ -',
    })
    expect(await ask('ctl.portfolio.get', { account: 'Main' })).toEqual({
      ok: false,
      error: 'account: "Main" is not a valid account id: use 1-32 characters a-z 0-9 _ -',
    })
    expect(await ask('ctl.portfolio.get', { account: 7 })).toEqual({ ok: false, error: 'account: expected a string (an account id), got a number' })
    expect(await ask('ctl.portfolio.get', {})).toEqual({ ok: false, error: 'account: missing (an account id)' })
    // Invalid UTF-8: bytes that are no character (a lone continuation byte inside the id).
    const bytes = new Uint8Array([...new TextEncoder().encode('{"account":"al'), 0x80, ...new TextEncoder().encode('pha"}')])
    expect(await ask('ctl.portfolio.get', bytes)).toEqual({ ok: false, error: 'request is not valid UTF-8 JSON (it holds bytes that are not UTF-8)' })
    expect(await ask('ctl.positions.close', { account: 'beta', symbol: 'brk.b', by: 'alice' })).toEqual({
      ok: false,
      error: 'symbol: "brk.b" is not a valid symbol: use 1-32 characters A-Z 0-9 _ - (BRK.B is written BRK-B)',
    })
    expect(await ask('ctl.strategies.enable', { account: 'beta', id: 'a b', by: 'alice' })).toEqual({
      ok: false,
      error: 'id: "a b" is not a valid strategy id: use 1-64 characters A-Z a-z 0-9 _ -',
    })
    expect(await ask('ctl.risk.halt', { account: 'beta', by: 'alice', reason: 'x', request_id: 'has space' })).toEqual({
      ok: false,
      error: 'request_id: "has space" is not a valid request id: use 1-64 characters A-Z a-z 0-9 _ . : -',
    })
    expect(await ask('ctl.risk.get', { account: 'beta' })).toMatchObject({ ok: true, halted: false })
  })
})
