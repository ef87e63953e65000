import { describe, expect, it } from 'vitest'
import { applyFill, mark, newBooks } from '../../actors/lib/books.js'
import { copyBooks, foldSeqOf, insert, newLedger, type Posting } from '../../actors/lib/postings.js'

describe('the executor ledger (actors/lib/postings)', () => {
  it('copyBooks: equal to the books, and sharing nothing with them', () => {
    const b = newBooks(10_000)
    applyFill(b, 'ORCL', 1, 10, 50, 1, '2024-01-02T00:00:00.000Z', 'position:a')
    applyFill(b, 'AAPL', -1, 5, 100, 1, '2024-01-02T00:00:00.000Z', 'position:b')
    b.positions.ORCL!.stop = 45
    mark(b, 'ORCL', '2024-01-02T00:00:00.000Z', 51)
    b.day = '2024-01-02'
    const copy = copyBooks(b)
    expect(copy).toEqual(structuredClone(b))
    copy.positions.ORCL!.qty = 99
    copy.marks.ORCL!.price = 1
    copy.cash = 0
    delete copy.positions.AAPL
    expect(b.positions.ORCL!.qty).toBe(10)
    expect(b.marks.ORCL!.price).toBe(51)
    expect(b.positions.AAPL).toBeDefined()
    expect(b.cash).not.toBe(0)
  })

  it('a fill at the open comes before the bar’s point, a stop or target exit and a deferred entry after it', () => {
    expect(foldSeqOf(10, 0)).toBeLessThan(foldSeqOf(10, 1))
    expect(foldSeqOf(10, 1)).toBeLessThan(foldSeqOf(10, 2))
    expect(foldSeqOf(10, 3)).toBeLessThan(foldSeqOf(11, 0))
  })

  it('insert keeps the postings in fold order, those of one position in the order they came', () => {
    const ledger = newLedger()
    const posting = (at: number, phase: 0 | 2 | 3, n: number) => ({ at, phase, n, symbol: `S${n}` }) as Posting
    for (const p of [posting(30, 0, 0), posting(10, 2, 1), posting(30, 0, 2), posting(10, 0, 3), posting(20, 3, 4)]) insert(ledger, p)
    expect(ledger.postings.map((p) => [p.at, p.phase, p.n])).toEqual([
      [10, 0, 3],
      [10, 2, 1],
      [20, 3, 4],
      [30, 0, 0],
      [30, 0, 2],
    ])
  })
})
