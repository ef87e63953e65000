// The paperd command's failure modes: a bad config, flag or file gives one clear line on stderr
// and a non-zero exit (2 for usage and configuration), before anything connects anywhere. It runs
// the built command, as `npx paperd` does (npm test builds first).
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'

const PACKAGE = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; bin: { paperd: string } }
const BIN = PACKAGE.bin.paperd

beforeAll(() => {
  // A stale build would test yesterday's command.
  const built = statSync(BIN).mtimeMs
  const newer = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && statSync(join('src', f)).mtimeMs > built)
  if (newer.length) throw new Error(`${BIN} is older than ${newer.map((f) => `src/${f}`).join(', ')}: npm run build`)
})

async function paperd(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await promisify(execFile)(process.execPath, [BIN, ...args], {
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

describe('paperd --version', () => {
  it('prints the version of package.json, exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await paperd([flag])
      expect(r).toEqual({ code: 0, stdout: `${PACKAGE.version}\n`, stderr: '' })
    }
  })
})

// Each case is its own process; they run side by side.
describe.concurrent('paperd usage errors: one short line on stderr, exit 2, nothing on stdout', () => {
  const csv = 'test/fixtures/ORCL-daily.csv'
  const config = 'examples/canonical.json'
  it.for([
    ['no command', [], /^paperd: missing command: start, migrate, replay, import, backtest, report, status, dlq, ctl \(paperd --help\)$/],
    ['an unknown command', ['frobnicate'], /^paperd: unknown command 'frobnicate' \(paperd --help\)$/],
    ['a misspelt command', ['strat'], /^paperd: unknown command 'strat'; did you mean start\? \(paperd --help\)$/],
    ['an unknown subcommand', ['dlq', 'purge'], /^paperd dlq: unknown command 'purge' \(paperd dlq --help\)$/],
    ['no subcommand', ['dlq'], /^paperd dlq: missing command: list, replay \(paperd dlq --help\)$/],
    ['an unknown option', ['start', '--actor', 'persister'], /^paperd start: unknown option '--actor'/],
    ['an unknown option of a subcommand', ['dlq', 'list', '--nope'], /^paperd dlq list: unknown option '--nope' \(paperd dlq list --help\)$/],
    ['an unexpected argument', ['start', 'now'], /^paperd start: too many arguments for 'start'/],
    ['an import format paperd does not read', ['import', csv, '--format', 'excel'], /^paperd import: option '--format <format>' argument 'excel' is invalid/],
    ['an import into a malformed account', ['import', csv, '--account', 'Main'], /^paperd import: option '--account <id>' argument 'Main' is invalid/],
    ['ctl without an account', ['ctl', 'resume'], /^paperd ctl resume: missing required argument 'account' \(paperd ctl resume --help\)$/],
    ['a ctl group without its verb', ['ctl', 'risk'], /^paperd ctl risk: missing command: get, set \(paperd ctl risk --help\)$/],
    ['a halt without a reason', ['ctl', 'halt', 'main'], /^paperd ctl halt: required option '--reason <text>' not specified/],
    ['a missing argument', ['replay', '--symbol', 'ORCL'], /^paperd replay: missing required argument 'file' \(paperd replay --help\)$/],
    ['a missing required option', ['replay', csv], /^paperd replay: required option '--symbol <SYM>' not specified/],
    ['backtest without --data', ['backtest', '--config', config], /^paperd backtest: required option '--data <FILE:SYM\[:TF\]>' not specified/],
    ['backtest without --config', ['backtest', '--data', `${csv}:ORCL`], /^paperd backtest: required option '--config <file>' not specified/],
    ['a missing file argument', ['replay', '/nonexistent/bars.csv', '--symbol', 'ORCL'], /^paperd: cannot read \/nonexistent\/bars\.csv: ENOENT$/],
    ['an unreadable file argument (a directory)', ['replay', 'test', '--symbol', 'ORCL'], /^paperd: cannot read test: EISDIR$/],
    ['a missing --config file', ['start', '--config', '/nonexistent/c.json'], /^paperd: cannot read config \/nonexistent\/c\.json: ENOENT$/],
    ['a missing --data file', ['backtest', '--config', config, '--data', '/nonexistent/b.csv:ORCL'], /^paperd: cannot read \/nonexistent\/b\.csv: ENOENT$/],
    [
      'a missing --context file',
      ['backtest', '--config', config, '--data', `${csv}:ORCL`, '--context', '/nonexistent/c.csv:ORCL'],
      /^paperd: cannot read \/nonexistent\/c\.csv: ENOENT$/,
    ],
    ['a --data without its symbol', ['backtest', '--config', config, '--data', csv], /^paperd: --data .*: expected FILE:SYMBOL/],
    [
      'an --out in a missing directory',
      ['backtest', '--config', config, '--data', `${csv}:ORCL`, '--out', '/nonexistent/r.json'],
      /^paperd: --out \/nonexistent\/r\.json: cannot write there: ENOENT$/,
    ],
    ['a bad symbol', ['replay', csv, '--symbol', 'brk.b'], /^paperd replay: option '--symbol <SYM>' argument 'brk\.b' is invalid\. .*write BRK\.B as BRK-B/],
    [
      'a bad timeframe',
      ['backtest', '--config', config, '--data', `${csv}:ORCL`, '--timeframe', 'daily'],
      /^paperd backtest: option '--timeframe <tf>' argument 'daily' is invalid/,
    ],
    ['a bad speed', ['replay', csv, '--symbol', 'ORCL', '--speed', 'fast'], /^paperd replay: option '--speed <max\|N>' argument 'fast' is invalid/],
    ['a bad timeout', ['replay', csv, '--symbol', 'ORCL', '--timeout', '-1'], /^paperd replay: option '--timeout <seconds>' argument '-1' is invalid/],
    ['a bad thread count', ['start', '--threads', 'many'], /^paperd: --threads many: expected auto or a whole number from 1 to 64$/],
    ['a bad partition list', ['start', '--partitions', '3-99'], /^paperd: .*partitions are 0-15/],
  ] as [string, string[], RegExp][])('%s', async ([, args, message], { expect }) => {
    const r = await paperd(args)
    expect(r.code, r.stderr).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.endsWith('\n') && r.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(r.stderr.trimEnd()).toMatch(message)
    expect(r.stderr.length).toBeLessThan(200)
  })
})

describe('paperd CLI errors', () => {
  it.each([
    [
      'a strategy with an unknown operator',
      {
        accounts: [{ id: 'main', starting_cash: 1 }],
        strategies: [{ id: 's', account: 'main', symbols: ['A'], entry: { long: { all: [{ gt: ['close', 1] }, { gtx: 1 }] } }, sizing: { fixed_qty: 1 } }],
      },
      /^paperd: .*strategies\[0\]\.entry\.long\.all\[1\]: Unrecognized key: "gtx"/,
    ],
    [
      'an unknown account',
      {
        accounts: [{ id: 'main', starting_cash: 1 }],
        strategies: [{ id: 's', account: 'nope', symbols: ['A'], entry: { long: { gt: ['close', 1] } }, sizing: { fixed_qty: 1 } }],
      },
      /strategies\[0\]\.account: unknown account "nope"/,
    ],
    [
      'a dotted symbol',
      {
        accounts: [{ id: 'main', starting_cash: 1 }],
        strategies: [{ id: 's', account: 'main', symbols: ['BRK.B'], entry: { long: { gt: ['close', 1] } }, sizing: { fixed_qty: 1 } }],
      },
      /strategies\[0\]\.symbols\[0\]: symbols are A-Z 0-9 _ - \(write BRK\.B as BRK-B\)/,
    ],
    ['no accounts', { strategies: [] }, /accounts: /],
    [
      'an rr target without a stop',
      {
        accounts: [{ id: 'main', starting_cash: 1 }],
        strategies: [
          { id: 's', account: 'main', symbols: ['A'], entry: { short: { gt: ['close', 1] } }, exit: { take_profit: { rr: 2 } }, sizing: { fixed_qty: 1 } },
        ],
      },
      /strategies\[0\]\.exit\.take_profit\.rr: rr is a multiple of the stop distance: add exit\.stop_loss/,
    ],
    [
      'a session window in an unknown time zone',
      {
        accounts: [{ id: 'main', starting_cash: 1 }],
        strategies: [
          { id: 's', account: 'main', symbols: ['A'], entry: { long: { gt: ['close', 1] } }, session_windows: [{ tz: 'Mars/Base' }], sizing: { fixed_qty: 1 } },
        ],
      },
      /strategies\[0\]\.session_windows\[0\]\.tz: an IANA time zone/,
    ],
    [
      'a Gayed strategy with an unknown input',
      { accounts: [{ id: 'main', starting_cash: 1 }], strategies: [{ type: 'gayed', id: 'g', account: 'main', inputs: { oil: 'USO' } }] },
      /strategies\[0\]\.inputs: Unrecognized key: "oil"/,
    ],
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
