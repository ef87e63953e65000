// The paperd command's failure modes: a bad config, flag or file gives one clear line on stderr
// and a non-zero exit (2 for usage and configuration), before anything connects anywhere.
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

async function paperd(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: { PATH: process.env.PATH, NATS_URL: 'nats://127.0.0.1:1', ...env },
      timeout: 30_000,
    })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'paperd-cli-'))
const file = (name: string, content: string) => {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

describe('paperd CLI errors', () => {
  it.each([
    ['a strategy with an unknown operator', { accounts: [{ id: 'main', starting_cash: 1 }], strategies: [{ id: 's', account: 'main', symbols: ['A'], entry: { long: { all: [{ gt: ['close', 1] }, { gtx: 1 }] } }, sizing: { fixed_qty: 1 } }] }, /^paperd: .*strategies\[0\]\.entry\.long\.all\[1\]: Unrecognized key: "gtx"/],
    ['an unknown account', { accounts: [{ id: 'main', starting_cash: 1 }], strategies: [{ id: 's', account: 'nope', symbols: ['A'], entry: { long: { gt: ['close', 1] } }, sizing: { fixed_qty: 1 } }] }, /strategies\[0\]\.account: unknown account "nope"/],
    ['a dotted symbol', { accounts: [{ id: 'main', starting_cash: 1 }], strategies: [{ id: 's', account: 'main', symbols: ['BRK.B'], entry: { long: { gt: ['close', 1] } }, sizing: { fixed_qty: 1 } }] }, /strategies\[0\]\.symbols\[0\]: symbols are A-Z 0-9 _ - \(write BRK\.B as BRK-B\)/],
    ['no accounts', { strategies: [] }, /accounts: /],
    ['an rr target without a stop', { accounts: [{ id: 'main', starting_cash: 1 }], strategies: [{ id: 's', account: 'main', symbols: ['A'], entry: { short: { gt: ['close', 1] } }, exit: { take_profit: { rr: 2 } }, sizing: { fixed_qty: 1 } }] }, /strategies\[0\]\.exit\.take_profit\.rr: rr is a multiple of the stop distance: add exit\.stop_loss/],
    ['a session window in an unknown time zone', { accounts: [{ id: 'main', starting_cash: 1 }], strategies: [{ id: 's', account: 'main', symbols: ['A'], entry: { long: { gt: ['close', 1] } }, session_windows: [{ tz: 'Mars/Base' }], sizing: { fixed_qty: 1 } }] }, /strategies\[0\]\.session_windows\[0\]\.tz: an IANA time zone/],
    ['a Gayed strategy with an unknown input', { accounts: [{ id: 'main', starting_cash: 1 }], strategies: [{ type: 'gayed', id: 'g', account: 'main', inputs: { oil: 'USO' } }] }, /strategies\[0\]\.inputs: Unrecognized key: "oil"/],
  ])('refuses %s with one line naming the path, exit 2', async (_, config, message) => {
    const r = await paperd(['start', '--config', file('bad.json', JSON.stringify(config))])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(message)
  })

  it('refuses a config that is not JSON', async () => {
    const r = await paperd(['start', '--config', file('broken.json', '{ "accounts": [ ')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^paperd: config .*broken\.json is not valid JSON/)
  })

  it('refuses a missing config file, an unknown actor and a bad partition list', async () => {
    expect((await paperd(['start', '--config', join(dir, 'missing.json')])).stderr).toMatch(/cannot read config .*missing\.json: ENOENT/)
    const actors = await paperd(['start', '--actors', 'indicators,oracle'])
    expect(actors.code).toBe(2)
    expect(actors.stderr).toMatch(/unknown actor "oracle"/)
    expect((await paperd(['start', '--partitions', '3-99'])).stderr).toMatch(/partitions are 0-15/)
  })

  it('refuses bad environment values', async () => {
    const port = await paperd(['start'], { METRICS_PORT: 'ninety' })
    expect(port.code).toBe(2)
    expect(port.stderr).toMatch(/environment: METRICS_PORT/)
    const db = await paperd(['migrate'], { DATABASE_URL: 'mysql://x' })
    expect(db.stderr).toMatch(/DATABASE_URL must start with postgres/)
    expect((await paperd(['migrate'])).stderr).toMatch(/DATABASE_URL is not set/)
  })

  it('replay refuses a bad symbol and an unreadable file', async () => {
    const sym = await paperd(['replay', 'test/fixtures/ORCL-daily.csv', '--symbol', 'brk.b'])
    expect(sym.code).not.toBe(0)
    expect(sym.stderr).toMatch(/write BRK\.B as BRK-B/)
    const missing = await paperd(['replay', join(dir, 'nope.csv'), '--symbol', 'ORCL'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/cannot read .*nope\.csv: ENOENT/)
  })

  it('replay says where NATS is not', async () => {
    const r = await paperd(['replay', 'test/fixtures/ORCL-daily.csv', '--symbol', 'ORCL'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/cannot reach NATS at nats:\/\/127\.0\.0\.1:1/)
  })
})
