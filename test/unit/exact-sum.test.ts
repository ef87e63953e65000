import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { exactSumAdd, exactSumValue, type ExactSum } from '../../actors/lib/exact-sum.js'

/**
 * The reference: every double in [2^-140, 2^60] is an integer multiple of 2^-192, so scaled by 2^192
 * it is an exact BigInt; the BigInt sum is the exact sum, and Number() of a BigInt rounds to the
 * nearest double, ties to even (ECMA-262 §21.1.1.1) — what math.fsum answers. Scaling back by a power
 * of two is exact while the result is a normal double.
 */
const SCALE = 2 ** 192
const scaled = (x: number): bigint => BigInt(x * SCALE)
const unscaled = (big: bigint): number => Number(big) / SCALE
const correctlyRoundedSum = (xs: readonly number[]): number => unscaled(xs.reduce((s, x) => s + scaled(x), 0n))

const sumOf = (xs: readonly number[]): number => {
  const p: ExactSum = []
  for (const x of xs) exactSumAdd(p, x)
  return exactSumValue(p)
}

const double = fc.double({ min: -1e15, max: 1e15, noNaN: true, noDefaultInfinity: true }).filter((x) => x === 0 || Math.abs(x) >= 2 ** -140)
const price = fc.integer({ min: 1, max: 10_000_000 }).map((cents) => cents / 100)

describe('exact sum', () => {
  it('is the correctly rounded sum (math.fsum) of any doubles (±0 aside)', () => {
    fc.assert(fc.property(fc.array(double, { maxLength: 60 }), (xs) => sumOf(xs) === correctlyRoundedSum(xs)))
  })

  it('of two-decimal prices, as a window slides: always the correctly rounded sum of the window', () => {
    fc.assert(
      fc.property(fc.array(price, { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 40 }), (xs, n) => {
        const p: ExactSum = []
        for (let i = 0; i < xs.length; i++) {
          exactSumAdd(p, xs[i]!)
          if (i >= n) exactSumAdd(p, -xs[i - n]!)
          if (exactSumValue(p) !== correctlyRoundedSum(xs.slice(Math.max(0, i - n + 1), i + 1))) return false
        }
        return true
      }),
    )
  })

  it('answers where naive addition does not', () => {
    expect(sumOf([0.1, 0.2, 0.3])).toBe(0.6) // 0.1 + 0.2 + 0.3 === 0.6000000000000001
    expect(sumOf([1e100, 1, -1e100])).toBe(1)
    // A halfway case decided by a partial below it: 1 + 2^-53 is a tie (to even: 1), the 2^-80 breaks it upward.
    expect(sumOf([1, 2 ** -53, 2 ** -80])).toBe(1 + 2 ** -52)
    expect(sumOf([1, 2 ** -53])).toBe(1)
    expect(sumOf([])).toBe(0)
  })

  it('adding then removing leaves nothing behind', () => {
    const p: ExactSum = []
    for (const x of [0.1, 0.7, 1e-9, 123.45]) exactSumAdd(p, x)
    for (const x of [0.7, 0.1, 123.45, 1e-9]) exactSumAdd(p, -x)
    expect(exactSumValue(p)).toBe(0)
  })
})
