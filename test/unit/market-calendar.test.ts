// The US equity calendar against the exchange's published holiday and early-close lists.
import { describe, expect, it } from 'vitest'
import { barsBetween, isTradingDay, lastCompleteBar, nextBarDue, sessionOn } from '../../src/core/market-calendar.js'

// NYSE's published full-day closures (weekdays only; weekend dates are not listed by the exchange).
const CLOSED: Record<number, string[]> = {
  2021: ['2021-01-01', '2021-01-18', '2021-02-15', '2021-04-02', '2021-05-31', '2021-07-05', '2021-09-06', '2021-11-25', '2021-12-24'],
  2022: ['2022-01-17', '2022-02-21', '2022-04-15', '2022-05-30', '2022-06-20', '2022-07-04', '2022-09-05', '2022-11-24', '2022-12-26'],
  2024: ['2024-01-01', '2024-01-15', '2024-02-19', '2024-03-29', '2024-05-27', '2024-06-19', '2024-07-04', '2024-09-02', '2024-11-28', '2024-12-25'],
  2025: [
    '2025-01-01',
    '2025-01-09',
    '2025-01-20',
    '2025-02-17',
    '2025-04-18',
    '2025-05-26',
    '2025-06-19',
    '2025-07-04',
    '2025-09-01',
    '2025-11-27',
    '2025-12-25',
  ],
  2026: ['2026-01-01', '2026-01-19', '2026-02-16', '2026-04-03', '2026-05-25', '2026-06-19', '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25'],
  2027: ['2027-01-01', '2027-01-18', '2027-02-15', '2027-03-26', '2027-05-31', '2027-06-18', '2027-07-05', '2027-09-06', '2027-11-25', '2027-12-24'],
}
const EARLY: Record<number, string[]> = {
  2024: ['2024-07-03', '2024-11-29', '2024-12-24'],
  2025: ['2025-07-03', '2025-11-28', '2025-12-24'],
  2026: ['2026-11-27', '2026-12-24'],
  2027: ['2027-11-26'],
}

function weekdaysOf(year: number): string[] {
  const out: string[] = []
  for (let t = Date.UTC(year, 0, 1); new Date(t).getUTCFullYear() === year; t += 86_400_000) {
    const d = new Date(t)
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) out.push(d.toISOString().slice(0, 10))
  }
  return out
}

describe('the US equity calendar', () => {
  it.each(Object.keys(CLOSED).map(Number))('closes exactly on the published holidays of %i', (year) => {
    const closed = weekdaysOf(year).filter((d) => !isTradingDay(d))
    expect(closed).toEqual(CLOSED[year])
  })

  it('trades on 2021-12-31: New Year 2022 fell on a Saturday and is not made up', () => {
    expect(isTradingDay('2021-12-31')).toBe(true)
    expect(isTradingDay('2022-01-01')).toBe(false)
  })

  it.each(Object.keys(EARLY).map(Number))('closes at 13:00 New York time on the published early closes of %i', (year) => {
    const early = weekdaysOf(year).filter((d) => {
      const s = sessionOn(d)
      return s !== null && s.close - s.open < 6.5 * 3_600_000
    })
    expect(early).toEqual(EARLY[year])
    expect(new Date(sessionOn(EARLY[year]![0]!)!.close).toISOString()).toMatch(/T1[78]:00:00.000Z$/)
  })

  it('opens at 09:30 New York time through both clock changes', () => {
    expect(new Date(sessionOn('2026-03-06')!.open).toISOString()).toBe('2026-03-06T14:30:00.000Z') // EST
    expect(new Date(sessionOn('2026-03-09')!.open).toISOString()).toBe('2026-03-09T13:30:00.000Z') // EDT from the 8th
    expect(new Date(sessionOn('2026-10-30')!.close).toISOString()).toBe('2026-10-30T20:00:00.000Z')
    expect(new Date(sessionOn('2026-11-02')!.close).toISOString()).toBe('2026-11-02T21:00:00.000Z') // EST from the 1st
  })

  it('asks for a daily bar after the close, skipping weekends and holidays', () => {
    const settle = 30 * 60_000
    // Friday 2026-07-02 after the close + 30 min → Monday 2026-07-06 (the 3rd is the observed holiday).
    expect(new Date(nextBarDue('1d', Date.parse('2026-07-02T20:31:00Z'), settle)).toISOString()).toBe('2026-07-06T20:30:00.000Z')
    expect(new Date(nextBarDue('1d', Date.parse('2026-07-02T15:00:00Z'), settle)).toISOString()).toBe('2026-07-02T20:30:00.000Z')
    expect(lastCompleteBar('1d', Date.parse('2026-07-05T12:00:00Z'), settle)).toBe('2026-07-02T00:00:00.000Z')
    expect(lastCompleteBar('1d', Date.parse('2026-07-06T20:29:00Z'), settle)).toBe('2026-07-02T00:00:00.000Z')
    expect(lastCompleteBar('1d', Date.parse('2026-07-06T20:30:00Z'), settle)).toBe('2026-07-06T00:00:00.000Z')
  })

  it('asks for minute bars each minute of the session only', () => {
    const settle = 5_000
    expect(new Date(nextBarDue('1m', Date.parse('2026-12-04T14:31:00Z'), settle)).toISOString()).toBe('2026-12-04T14:31:05.000Z')
    expect(new Date(nextBarDue('5m', Date.parse('2026-12-04T14:31:00Z'), settle)).toISOString()).toBe('2026-12-04T14:35:05.000Z')
    // After Friday's close: Monday's first bar.
    expect(new Date(nextBarDue('1m', Date.parse('2026-12-04T21:00:06Z'), settle)).toISOString()).toBe('2026-12-07T14:31:05.000Z')
    expect(lastCompleteBar('1m', Date.parse('2026-12-04T14:33:10Z'), settle)).toBe('2026-12-04T14:32:00.000Z')
    expect(lastCompleteBar('1m', Date.parse('2026-12-05T12:00:00Z'), settle)).toBe('2026-12-04T20:59:00.000Z')
    // A 1h bar that the 13:00 close cuts short ends at the close.
    expect(lastCompleteBar('1h', Date.parse('2026-11-27T18:30:00Z'), settle)).toBe('2026-11-27T17:30:00.000Z')
  })

  it('counts the bars a series is behind by', () => {
    expect(barsBetween('1d', '2026-07-01T00:00:00.000Z', '2026-07-07T00:00:00.000Z')).toBe(3) // 2nd, 6th, 7th
    expect(barsBetween('1m', '2026-12-04T20:55:00.000Z', '2026-12-07T14:32:00.000Z')).toBe(4 + 3)
    expect(barsBetween('1d', '2026-07-07T00:00:00.000Z', '2026-07-07T00:00:00.000Z')).toBe(0)
  })
})
