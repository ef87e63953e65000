import { describe, expect, it } from 'vitest'
import { type Member, ownerOf, scopesFor } from '../../src/runtime/placement.js'

const partitions = Array.from({ length: 16 }, (_, p) => ({ key: `p${p}`, partition: p }))
const accounts = Array.from({ length: 12 }, (_, i) => ({ key: `acct${i}` }))
const member = (instance: string, parts: number[] | null = null): Member => ({ instance, partitions: parts })

describe('placement: rendezvous hashing over the live members', () => {
  it('gives every scope exactly one owner, the same whoever computes it and in whatever order the members are listed', () => {
    const members = ['a1f3', 'b7c2', 'c9d0'].map((m) => member(m))
    for (const s of [...partitions, ...accounts]) {
      const owner = ownerOf('indicators', s, members)
      expect(members.map((m) => m.instance)).toContain(owner)
      expect(ownerOf('indicators', s, [...members].reverse())).toBe(owner)
    }
    const shares = members.map((m) => scopesFor('indicators', partitions, members, m.instance).length)
    expect(shares.reduce((a, b) => a + b)).toBe(16)
  })

  it('spreads scopes evenly over many instances of many actors', () => {
    const members = Array.from({ length: 4 }, (_, i) => member(`inst-${i}-${(i * 7919).toString(36)}`))
    const many = Array.from({ length: 400 }, (_, i) => ({ key: `s${i}` }))
    const shares = members.map((m) => scopesFor('strategy', many, members, m.instance).length)
    for (const n of shares) expect(n).toBeGreaterThan(70) // 100 each on average
  })

  it('moves only the scopes the joining instance wins, and only those of the leaving one', () => {
    const before = ['a', 'b', 'c'].map((m) => member(m))
    const after = [...before, member('d')]
    const many = Array.from({ length: 200 }, (_, i) => ({ key: `s${i}` }))
    let moved = 0
    for (const s of many) {
      const was = ownerOf('risk-gate', s, before)
      const now = ownerOf('risk-gate', s, after)
      if (was !== now) {
        moved++
        expect(now).toBe('d')
      }
      // d leaves again: everything goes back where it was.
      expect(ownerOf('risk-gate', s, before)).toBe(was)
    }
    expect(moved).toBeGreaterThan(20)
    expect(moved).toBeLessThan(90) // about a quarter of 200
  })

  it('keeps a scope tied to a partition to the members that may run it (--partitions); none eligible → no owner', () => {
    const members = [member('low', [0, 1, 2, 3, 4, 5, 6, 7]), member('high', [8, 9, 10, 11, 12, 13, 14, 15])]
    for (const s of partitions) expect(ownerOf('indicators', s, members)).toBe(s.partition < 8 ? 'low' : 'high')
    expect(ownerOf('indicators', { key: 'p3', partition: 3 }, [member('high', [8])])).toBeNull()
    // A scope tied to no partition (an account) may go to either.
    expect(['low', 'high']).toContain(ownerOf('risk-gate', { key: 'main' }, members))
  })
})
