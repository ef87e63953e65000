// `paperd ctl`: the control requests as commands, against a running daemon — readable answers, the
// reply as it came with --json, who asked recorded, and the control plane's refusals as exit 1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

describe('paperd ctl', () => {
  let stack: Stack
  const ctl = (...args: string[]) => stack.cli(['ctl', ...args])
  beforeAll(async () => {
    stack = await startStack(config)
    await stack.start()
  })
  afterAll(async () => stack?.close())

  it('halts and resumes an account, says so in a line, and records who asked', async () => {
    const halt = await ctl('halt', 'ops', '--reason', 'earnings', '--by', 'alice')
    expect(halt.code, halt.stderr).toBe(0)
    expect(halt.stdout).toMatch(/^halted \(earnings\) \(command cmd:risk_halt:ops:[\w-]+\)$/m)
    const get = await ctl('risk', 'get', 'ops')
    expect(get.stdout).toMatch(/^halted \(earnings\)$/m)
    expect(get.stdout).toMatch(/^max_lot_size = null$/m)
    const json = await ctl('risk', 'get', 'ops', '--json')
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, account: 'ops', halted: true, last_halt_reason: 'earnings' })
    expect((await ctl('resume', 'ops', '--by', 'alice')).stdout).toMatch(/^resumed /)
    await stack.quiesce()
    const [audit] = await stack.sql`select requested_by from decision_history where action = 'ai_halted'`
    expect(audit!.requested_by).toBe('alice')
  }, 90_000)

  it('changes risk settings from FIELD=VALUE words, and passes the control plane’s refusal on as exit 1', async () => {
    const set = await ctl('risk', 'set', 'ops', 'max_lot_size=5', 'halt_on_drawdown=true', '--by', 'bob')
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout).toMatch(/^max_lot_size = 5$/m)
    expect(set.stdout).toMatch(/^halt_on_drawdown = true$/m)
    const bad = await ctl('risk', 'set', 'ops', 'max_lot_size=lots')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^paperd: .*max_lot_size/m)
    const malformed = await ctl('risk', 'set', 'ops', 'max_lot_size')
    expect(malformed.code).toBe(2)
    expect(malformed.stderr).toContain('"max_lot_size": expected FIELD=VALUE')
  }, 90_000)

  it('shows the books, the ideas waiting and the strategies; refuses an idea that is not waiting', async () => {
    const books = await ctl('portfolio', 'ops')
    expect(books.stdout).toMatch(/^ops: cash 10000\.00, equity 10000\.00/m)
    expect(books.stdout).toContain('no positions')
    expect((await ctl('pending', 'ops')).stdout.trim()).toBe('no idea waits for approval')
    expect((await ctl('strategies', 'disable', 'ops', 'level', '--by', 'dan')).stdout).toMatch(/^level disabled/)
    expect((await ctl('strategies', 'list', 'ops')).stdout).toMatch(/^level +config +— +— +no +dan$/m)
    const approve = await ctl('approve', 'ops', 'idea:nope')
    expect(approve.code).toBe(1)
    expect(approve.stderr).toMatch(/^paperd: idea idea:nope is not waiting for approval/m)
  }, 90_000)
})
