// The bench's hop summary (--stages): each fill's row split into the hops of its path.
import { describe, expect, it } from 'vitest'
import { hopsOf } from '../../bench/hops.js'

describe('hopsOf', () => {
  it('times the router, market-snapshots, the gate and the executor from a row of stage times', () => {
    // [published at, fill, part, bar, ind, idea, order]: the order came after the bar, so the
    // executor's hop starts at the order.
    const rows = [[0, 90, 5, 12, 20, -60, 70]]
    expect(hopsOf(rows)).toEqual([
      { hop: 'router', p50Ms: 5, p99Ms: 5 },
      { hop: 'market-snapshots', p50Ms: 7, p99Ms: 7 },
      { hop: 'gate (idea → order)', p50Ms: 130, p99Ms: 130 },
      { hop: 'executor (bar and order → fill)', p50Ms: 20, p99Ms: 20 },
    ])
  })

  it('leaves out a stage a fill has no time for, and takes percentiles over the rest', () => {
    const rows = Array.from({ length: 100 }, (_, i) => [i, 10 + i, 1 + (i % 10), 3 + (i % 10), 4, -50, -40])
    rows.push([100, 20, Number.NaN, 5, 4, Number.NaN, Number.NaN])
    const [router, snapshots, gate, executor] = hopsOf(rows)
    expect(router).toEqual({ hop: 'router', p50Ms: 5, p99Ms: 10 })
    expect(snapshots).toEqual({ hop: 'market-snapshots', p50Ms: 2, p99Ms: 2 })
    expect(gate).toEqual({ hop: 'gate (idea → order)', p50Ms: 10, p99Ms: 10 })
    // The bar is after the order here: the executor's hop runs from the bar (7, 17, … 97, ten each).
    expect(executor).toEqual({ hop: 'executor (bar and order → fill)', p50Ms: 47, p99Ms: 97 })
  })
})
