// `paperd backtest --html`: one page that opens offline — nothing it loads from elsewhere — and that a
// real browser (headless Chromium, installed by scripts/setup test) renders without an error: the
// equity, drawdown and price charts drawn, the headline numbers and the trades listed.
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome']

/** A headless Chromium on PATH; missing is a failure with the command that installs it, never a skip. */
function chromium(): string {
  for (const b of BROWSERS) {
    try {
      return execFileSync('sh', ['-c', `command -v ${b}`], { encoding: 'utf8' }).trim()
    } catch {
      // next
    }
  }
  throw new Error(`no Chromium on PATH (${BROWSERS.join(', ')}): run scripts/setup test (apt-get install chromium)`)
}

describe('paperd backtest --html', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paperd-html-'))
  const page = join(dir, 'report.html')
  let html = ''
  beforeAll(async () => {
    const { stderr } = await run('node', [
      'dist/src/cli.js',
      'backtest',
      '--config',
      'examples/canonical.json',
      '--data',
      'test/fixtures/ORCL-daily.csv:ORCL',
      '--html',
      page,
    ])
    expect(stderr).toContain(`page written to ${page}`)
    html = readFileSync(page, 'utf8')
  }, 60_000)

  it('is one file that loads nothing from anywhere else', () => {
    expect(html).not.toMatch(/<(script|link|img|iframe|source)\b[^>]*\b(src|href)\s*=/i)
    expect(html).not.toMatch(/@import|url\(\s*['"]?(https?:)?\/\//i)
    expect(html).toContain('uPlot') // the charting library, inlined
    expect(html).toMatch(/<script type="application\/json" id="data">/)
  })

  it('renders in headless Chromium without a console message: three charts, the numbers and the trades', async () => {
    const browser = chromium()
    const { stdout, stderr } = await run(
      browser,
      // No network at all: a page that tried to load anything would log the failure.
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--proxy-server=127.0.0.1:9',
        '--virtual-time-budget=5000',
        '--enable-logging=stderr',
        '--v=0',
        '--dump-dom',
        `file://${page}`,
      ],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    )
    expect(stderr.split('\n').filter((l) => /CONSOLE|Uncaught|net::ERR/.test(l))).toEqual([])
    expect(stdout).toMatch(/<body[^>]*data-rendered="3"/) // equity, drawdown, ORCL: each a uPlot chart
    expect(stdout.match(/<canvas/g)?.length).toBe(3)
    expect(stdout).toContain('<td>total return</td>')
    expect(stdout).toMatch(/<h3>Trades \(\d+\)<\/h3>/)
    expect(stdout).toMatch(/<td>ORCL<\/td><td>long<\/td><td>100<\/td>/)
  }, 90_000)
})
