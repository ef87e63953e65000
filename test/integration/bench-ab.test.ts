// bench/ab.ts compares two builds of `paperd backtest` in pairs run side by side. Here the built one
// against itself: the same report, and a ratio reported; and a build that is not one is refused.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = (args: string[]) => promisify(execFile)(process.execPath, ['dist/bench/ab.js', ...args], { timeout: 60_000 })

describe('bench/ab.ts', () => {
  it('runs two builds side by side and reports the median ratio of the pairs', async () => {
    const { stdout } = await run(['--a', 'dist', '--b', 'dist', '--pairs', '2', '--bars', '3000'])
    expect(stdout).toMatch(/^B \/ A, median of 2 pairs: \d+\.\d{3} \(quartiles \d+\.\d{3}–\d+\.\d{3}\)$/m)
  })

  it('stops when a build cannot run', async () => {
    await expect(run(['--a', 'dist', '--b', 'no-such-build', '--pairs', '1', '--bars', '100'])).rejects.toThrow(/no-such-build: paperd backtest exited 1/)
  })
})
