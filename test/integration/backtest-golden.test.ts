// `paperd backtest` on the examples gives, byte for byte, the report it gave before the code was
// reshaped (test/golden, written by the release before the layering of issue 12): refactoring
// moves code, never a number. Only the run's duration ("seconds") is left out. A change that is
// meant to change results regenerates the files and says why in its commit.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)

describe('paperd backtest on the examples', () => {
  it.each(['canonical', 'strategies'])(
    'examples/%s.json gives the golden report, byte for byte',
    async (name) => {
      const dir = mkdtempSync(join(tmpdir(), 'paperd-golden-'))
      try {
        const out = join(dir, 'report.json')
        await run('npx', ['tsx', 'src/cli.ts', 'backtest', '--config', `examples/${name}.json`, '--data', 'examples/ORCL-daily.csv:ORCL', '--out', out], {
          timeout: 60_000,
        })
        const got = readFileSync(out, 'utf8').replace(/"seconds": [0-9.e+-]+/, '"seconds": 0')
        expect(got).toBe(readFileSync(`test/golden/backtest-${name}.json`, 'utf8'))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
    90_000,
  )
})
