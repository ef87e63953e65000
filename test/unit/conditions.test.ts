import { describe, expect, it } from 'vitest'
import { evaluate, frameOf, type Frame } from '../../actors/lib/conditions.js'
import type { Condition } from '../../src/core/config-file/conditions.js'

const now: Frame = { close: 10, open: 9, high: 11, low: 8, volume: 1000, fast: 5, slow: 4, same: 5, 'macd.signal': -1 }

describe('comparisons', () => {
  it.each<[Condition, boolean]>([
    [{ gt: ['fast', 'slow'] }, true],
    [{ gt: ['slow', 'fast'] }, false],
    [{ gt: ['fast', 'same'] }, false],
    [{ gte: ['fast', 'same'] }, true],
    [{ gte: ['slow', 'fast'] }, false],
    [{ lt: ['slow', 'fast'] }, true],
    [{ lt: ['fast', 'same'] }, false],
    [{ lte: ['fast', 'same'] }, true],
    [{ lte: ['fast', 'slow'] }, false],
    [{ eq: ['fast', 'same'] }, true],
    [{ eq: ['fast', 'slow'] }, false],
    [{ gt: ['close', 9.5] }, true],
    [{ lt: [9.5, 'close'] }, true],
    [{ eq: [3, 3] }, true],
    [{ gt: ['volume', 999] }, true],
    [{ lt: ['macd.signal', 0] }, true],
  ])('%j → %s', (cond, want) => {
    expect(evaluate(cond, [now])).toBe(want)
  })
})

describe('all / any / not, nested', () => {
  const T: Condition = { gt: ['fast', 'slow'] }
  const F: Condition = { lt: ['fast', 'slow'] }
  it.each<[string, Condition, boolean]>([
    ['all of trues', { all: [T, T] }, true],
    ['all with one false', { all: [T, F, T] }, false],
    ['any with one true', { any: [F, T] }, true],
    ['any of falses', { any: [F, F] }, false],
    ['not true', { not: T }, false],
    ['not false', { not: F }, true],
    ['not not', { not: { not: T } }, true],
    ['all inside any', { any: [{ all: [T, F] }, { all: [T, T] }] }, true],
    ['any inside all', { all: [{ any: [F, T] }, { not: F }] }, true],
    ['deep', { all: [T, { any: [F, { not: { all: [T, F] } }] }] }, true],
    ['deep false', { all: [T, { any: [F, { not: { any: [T, F] } }] }] }, false],
  ])('%s', (_, cond, want) => {
    expect(evaluate(cond, [now])).toBe(want)
  })
})

describe('undefined operands (warming up, no previous bar): nothing trades on half-known data', () => {
  it.each<[string, Condition]>([
    ['gt with a missing left operand', { gt: ['rsi', 30] }],
    ['gt with a missing right operand', { gt: ['close', 'rsi'] }],
    ['lt', { lt: ['rsi', 30] }],
    ['gte', { gte: ['rsi', 30] }],
    ['lte', { lte: ['rsi', 30] }],
    ['eq of two missing operands', { eq: ['rsi', 'atr'] }],
    ['all with a missing operand', { all: [{ gt: ['fast', 'slow'] }, { gt: ['rsi', 30] }] }],
    ['any whose only true-able part is missing', { any: [{ lt: ['fast', 'slow'] }, { gt: ['rsi', 30] }] }],
    // The negation of an unknown comparison is still unknown, never "true".
    ['not of a missing operand', { not: { gt: ['rsi', 30] } }],
    ['not not of a missing operand', { not: { not: { gt: ['rsi', 30] } } }],
    ['not of an all with a missing operand', { not: { all: [{ gt: ['fast', 'slow'] }, { gt: ['rsi', 30] }] } }],
    ['not of an any with a missing operand', { not: { any: [{ lt: ['fast', 'slow'] }, { gt: ['rsi', 30] }] } }],
  ])('%s → false', (_, cond) => {
    expect(evaluate(cond, [now])).toBe(false)
    expect(evaluate(cond, [now, now])).toBe(false)
  })

  it('not of a crossing without a previous bar → false', () => {
    expect(evaluate({ not: { crossesAbove: ['fast', 'slow'] } }, [now])).toBe(false)
    expect(evaluate({ not: { crossesBelow: ['fast', 'slow'] } }, [now])).toBe(false)
  })

  it('known parts still decide: any with a true part, all with a false part, not of a false all', () => {
    expect(evaluate({ any: [{ gt: ['fast', 'slow'] }, { gt: ['rsi', 30] }] }, [now])).toBe(true)
    expect(evaluate({ all: [{ lt: ['fast', 'slow'] }, { gt: ['rsi', 30] }] }, [now])).toBe(false)
    expect(evaluate({ not: { all: [{ lt: ['fast', 'slow'] }, { gt: ['rsi', 30] }] } }, [now])).toBe(true)
  })
})

describe('crossings', () => {
  type Pair = [number | undefined, number | undefined]
  const frame = ([fast, slow]: Pair): Frame => Object.fromEntries(Object.entries({ fast, slow }).filter(([, v]) => v !== undefined)) as Frame

  it.each<[string, Pair[], boolean, boolean]>([
    // name, the bars (fast, slow) up to and including the one judged, crossesAbove, crossesBelow
    [
      'below → above',
      [
        [1, 2],
        [3, 2],
      ],
      true,
      false,
    ],
    [
      'above → below',
      [
        [3, 2],
        [1, 2],
      ],
      false,
      true,
    ],
    [
      'above → above',
      [
        [3, 2],
        [4, 2],
      ],
      false,
      false,
    ],
    [
      'below → below',
      [
        [1, 2],
        [0, 2],
      ],
      false,
      false,
    ],
    [
      'below → equal (touching is not crossing)',
      [
        [1, 2],
        [2, 2],
      ],
      false,
      false,
    ],
    [
      'above → equal',
      [
        [3, 2],
        [2, 2],
      ],
      false,
      false,
    ],
    [
      'below → equal → above (crosses, through the equality)',
      [
        [1, 2],
        [2, 2],
        [3, 2],
      ],
      true,
      false,
    ],
    [
      'above → equal → below (crosses, through the equality)',
      [
        [3, 2],
        [2, 2],
        [1, 2],
      ],
      false,
      true,
    ],
    [
      'above → equal → above (a bounce is no crossing)',
      [
        [3, 2],
        [2, 2],
        [3, 2],
      ],
      false,
      false,
    ],
    [
      'below → equal → below (a bounce is no crossing)',
      [
        [1, 2],
        [2, 2],
        [1, 2],
      ],
      false,
      false,
    ],
    [
      'below → equal → equal → above (looks past every equality)',
      [
        [1, 2],
        [2, 2],
        [2, 2],
        [3, 2],
      ],
      true,
      false,
    ],
    [
      'equal from the first bar → above (no side known yet)',
      [
        [2, 2],
        [3, 2],
      ],
      false,
      false,
    ],
    [
      'equal → equal',
      [
        [2, 2],
        [2, 2],
      ],
      false,
      false,
    ],
    ['no previous bar', [[3, 2]], false, false],
    [
      'previous bar still warming up (slow missing)',
      [
        [1, undefined],
        [3, 2],
      ],
      false,
      false,
    ],
    [
      'below, warming gap, above (the side is kept across it)',
      [
        [1, 2],
        [1, undefined],
        [3, 2],
      ],
      false,
      false,
    ],
    [
      'current bar missing an operand',
      [
        [1, 2],
        [3, undefined],
      ],
      false,
      false,
    ],
  ])('%s', (_, bars, above, below) => {
    const series = bars.map(frame)
    expect(evaluate({ crossesAbove: ['fast', 'slow'] }, series)).toBe(above)
    expect(evaluate({ crossesBelow: ['fast', 'slow'] }, series)).toBe(below)
  })

  it('crosses a constant level', () => {
    expect(evaluate({ crossesAbove: ['close', 10] }, [{ close: 9.5 }, { close: 10.5 }])).toBe(true)
    expect(evaluate({ crossesBelow: [30, 'close'] }, [{ close: 29 }, { close: 31 }])).toBe(true)
  })

  it('a crossing inside `not`, `any` or `all` keeps its side whether or not it was evaluated', () => {
    // `any` stops at its first true part: the crossing after it is not called on bar 2, yet knows
    // on bar 3 that fast was below slow before the equality.
    const cond: Condition = { any: [{ gt: ['close', 5] }, { crossesAbove: ['fast', 'slow'] }] }
    const series: Frame[] = [
      { close: 1, fast: 1, slow: 2 },
      { close: 9, fast: 2, slow: 2 },
      { close: 1, fast: 3, slow: 2 },
    ]
    expect(evaluate(cond, series)).toBe(true)
  })
})

describe('frameOf', () => {
  it('puts bar fields and indicator values in one lookup table; bar fields win', () => {
    const f = frameOf({ open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 }, { fast: 1.2, 'macd.line': 0.1, close: 99 })
    expect(f).toEqual({ fast: 1.2, 'macd.line': 0.1, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 })
  })
})
