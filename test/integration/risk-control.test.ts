// The risk gate driven only with NATS requests and injected bars, as an operator would: halt and
// resume, a kill switch that sends entries to approval, approving one (re-checked, then filled),
// a drawdown breach that halts by itself while exits still fill, and the audit trail each leaves.
import { jetstream } from '@nats-io/jetstream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { message } from '../support/messages.js'
import { startStack, type Stack } from '../support/stack.js'

const config = {
  accounts: [{ id: 'ops', starting_cash: 10_000 }],
  strategies: [
    {
      id: 'level',
      account: 'ops',
      symbols: ['TEST'],
      entry: { long: { gt: ['close', 100] } },
      exit: { long: { lt: ['close', 90] } },
      sizing: { fixed_qty: 10 },
    },
  ],
}

describe('risk gate and approvals over NATS', () => {
  let stack: Stack
  let day = 0
  const ask = async (subject: string, body: unknown) =>
    (await stack.client.request(subject, JSON.stringify(body), { timeout: 15_000 })).json<Record<string, unknown> & { ok: boolean }>()
  /** The next daily bar, opening at `open` and closing at `close`; waits until every actor has handled it. */
  const bar = async (open: number, close: number) => {
    const ts = new Date(Date.UTC(2024, 0, 1 + day++)).toISOString()
    await jetstream(stack.client).publish(
      'md.in.bar.TEST',
      JSON.stringify(message('md.in.bar', { ts, open, high: Math.max(open, close), low: Math.min(open, close), close, volume: 1000 })),
      { msgID: `in:TEST:${ts}` },
    )
    await stack.quiesce()
    return ts
  }
  const ideas = () => stack.sql`select id, status, reason from trade_ideas order by ts, id`
  beforeAll(async () => {
    stack = await startStack(config)
    await stack.start()
  })
  afterAll(async () => stack?.close())

  it('from the first start, before any bar, risk_config holds the account as the config file sets it', async () => {
    await stack.quiesce()
    const rows = await stack.sql`select account, halted, updated_by, version, risk->>'ai_trading_enabled' as enabled from risk_config`
    expect(rows).toEqual([{ account: 'ops', halted: false, updated_by: 'config', version: 1, enabled: 'true' }])
  })

  it('ctl.risk.get shows the config as it applies, not halted', async () => {
    expect(await ask('ctl.risk.get', { account: 'ops' })).toMatchObject({
      ok: true,
      halted: false,
      last_halt_reason: null,
      risk: { ai_trading_enabled: true, max_lot_size: null },
    })
  })

  it('halted, a new entry ends halted_by_risk; resumed, nothing else changed', async () => {
    await bar(95, 95)
    expect(await ask('ctl.risk.halt', { account: 'ops', by: 'alice', reason: 'news' })).toMatchObject({ ok: true, halted: true, last_halt_reason: 'news' })
    const signal = await bar(96, 101)
    expect((await ideas()).at(-1)).toMatchObject({ status: 'halted_by_risk', reason: 'fail:halted:news' })
    expect(await ask('ctl.risk.resume', { account: 'ops', by: 'alice' })).toMatchObject({ ok: true, halted: false })
    await stack.quiesce()
    const audit =
      await stack.sql`select action, symbol, risk_check_result, human_override, requested_by from decision_history where idea_id is null order by recorded_at`
    expect(audit.map((r) => ({ ...r }))).toEqual([
      { action: 'ai_halted', symbol: null, risk_check_result: 'fail:news', human_override: true, requested_by: 'alice' },
      { action: 'ai_resumed', symbol: null, risk_check_result: 'pass', human_override: true, requested_by: 'alice' },
    ])
    expect(signal).toBeDefined()
  })

  it('with AI trading off an entry waits; ctl.ideas.pending lists it; approving re-checks and it fills at the next open', async () => {
    expect(await ask('ctl.risk.set', { account: 'ops', by: 'bob', risk: { ai_trading_enabled: false } })).toMatchObject({
      ok: true,
      risk: { ai_trading_enabled: false },
    })
    await bar(95, 89) // the strategy believed the halted entry filled: its exit is refused (no position), now it is flat
    await bar(95, 102)
    const pending = await ask('ctl.ideas.pending', { account: 'ops' })
    expect(pending.ideas).toEqual([expect.objectContaining({ symbol: 'TEST', side: 'buy', qty: 10 })])
    const id = (pending.ideas as { id: string }[])[0]!.id
    expect(await ask('ctl.ideas.approve', { account: 'ops', id, by: 'carol' })).toMatchObject({ ok: true, status: 'auto_executed', reason: 'pass' })
    expect(await ask('ctl.ideas.approve', { account: 'ops', id, by: 'carol' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not waiting for approval/),
    })
    await bar(103, 104)
    const [fill] = await stack.sql`select side, qty::float8 as qty, price::float8 as price from trades order by ts desc limit 1`
    expect(fill).toMatchObject({ side: 'buy', qty: 10, price: 103 })
    const [decision] = await stack.sql`select action, human_override, requested_by from decision_history where idea_id = ${id} and action = 'human_approved'`
    expect(decision).toMatchObject({ human_override: true, requested_by: 'carol' })
  })

  it('a drawdown beyond max_drawdown_amount halts by itself (max_drawdown); later entries are halted_by_risk but the exit still fills', async () => {
    await ask('ctl.risk.set', { account: 'ops', by: 'bob', risk: { ai_trading_enabled: true, max_drawdown_amount: 50, halt_on_drawdown: true } })
    await bar(103, 96) // long 10 from 103: −70 → drawdown above 50
    // The gate judges the books as of each idea's bar: the breach is found (and dated at its bar)
    // when the next idea is judged — here the exit signal.
    await bar(95, 88) // exit signal
    expect(await ask('ctl.risk.get', { account: 'ops' })).toMatchObject({ halted: true, last_halt_reason: 'max_drawdown' })
    const [halted] =
      await stack.sql`select action, symbol, risk_check_result, human_override, occurred_at from decision_history where action = 'ai_halted' and human_override = false`
    expect(halted).toMatchObject({ symbol: null, risk_check_result: 'fail:max_drawdown' })
    await bar(87, 87) // …fills at this open, halted or not
    const [exit] = await stack.sql`select side, price::float8 as price from trades order by ts desc limit 1`
    expect(exit).toMatchObject({ side: 'sell', price: 87 })
    await bar(100, 105) // an entry signal while halted
    expect((await ideas()).at(-1)).toMatchObject({ status: 'halted_by_risk', reason: 'fail:halted:max_drawdown' })
    const [cfg] = await stack.sql`select halted, last_halt_reason, updated_by, risk->>'max_drawdown_amount' as max_dd from risk_config where account = 'ops'`
    expect(cfg).toMatchObject({ halted: true, last_halt_reason: 'max_drawdown', updated_by: 'system', max_dd: '50' })
    const history = await stack.sql`select version, updated_by, halted from risk_config_history where account = 'ops' order by version`
    expect(history.map((h) => [h.version, h.updated_by, h.halted])).toEqual([
      [1, 'config', false], // the first start: the config file's settings
      [2, 'alice', true],
      [3, 'alice', false],
      [4, 'bob', false],
      [5, 'bob', false],
      [6, 'system', true],
    ])
  })

  it('a disabled strategy’s entries are rejected (strategy_disabled) until it is enabled again', async () => {
    expect(await ask('ctl.strategies.list', { account: 'ops' })).toMatchObject({ ok: true, strategies: [{ id: 'level', enabled: true }] })
    expect(await ask('ctl.strategies.disable', { account: 'ops', id: 'level', by: 'dan' })).toMatchObject({ ok: true, enabled: false })
    expect(await ask('ctl.strategies.list', { account: 'ops' })).toMatchObject({ strategies: [{ id: 'level', enabled: false, disabled_by: 'dan' }] })
    expect(await ask('ctl.strategies.disable', { account: 'ops', id: 'nope', by: 'dan' })).toEqual({ ok: false, error: 'unknown strategy "nope"' })
    expect(await ask('ctl.strategies.enable', { account: 'ops', id: 'level', by: 'dan' })).toMatchObject({ ok: true, enabled: true })
  })

  it('an idea nobody approves within approval_timeout_minutes (wall time) is rejected as approval_expired', async () => {
    await ask('ctl.risk.set', { account: 'ops', by: 'bob', risk: { ai_trading_enabled: false, approval_timeout_minutes: 0.02 } })
    await ask('ctl.risk.resume', { account: 'ops', by: 'bob' })
    await bar(95, 89) // the strategy believed its halted entry filled: this exit resets it
    await bar(95, 101)
    expect((await ideas()).at(-1)).toMatchObject({ status: 'needs_approval' })
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 250))
      if (((await ask('ctl.ideas.pending', { account: 'ops' })).ideas as unknown[]).length === 0) break
    }
    await stack.quiesce()
    expect((await ideas()).at(-1)).toMatchObject({ status: 'rejected', reason: 'fail:approval_expired' })
  })

  it('malformed requests get a clear error and change nothing', async () => {
    expect(await ask('ctl.risk.set', { account: 'ops', by: 'x', risk: { max_lot_size: -1 } })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^risk\.max_lot_size: /),
    })
    expect(await ask('ctl.risk.set', { account: 'ops', by: 'x', risk: { leverage: 5 } })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Unrecognized key/),
    })
    expect(await ask('ctl.risk.halt', { account: 'ops', by: 'x' })).toEqual({ ok: false, error: 'reason: missing (a reason)' })
    expect(await ask('ctl.risk.halt', { account: 'ops', by: 'x', reason: 'r'.repeat(151) })).toEqual({
      ok: false,
      error: 'reason: 151 characters long (a reason): at most 150',
    })
    expect(await ask('ctl.ideas.reject', { account: 'ghost', id: 'x', by: 'x' })).toEqual({
      ok: false,
      error: 'no process runs account "ghost" (its risk-gate): is it started with the account in its config? Accounts running: ops',
    })
    expect(await ask('ctl.ideas.approve', { account: 'ops', id: '', by: 'x' })).toEqual({ ok: false, error: 'id: empty (an idea id)' })
    expect(await ask('ctl.risk.get', { account: 'ops' })).toMatchObject({ halted: false, risk: { max_lot_size: null } })
  })
})
