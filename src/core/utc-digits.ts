// Reading dates and times from their digits, where a pattern has already put digits (a CSV's
// dates, a message's ts): cheaper than Date.parse and a Date to check the day, and stricter — Date
// rolls 2021-02-30 over to March 2nd, and accepts 24:00.

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** The number the ASCII digits of `s` from `from` to `to` write. */
export function digitsAt(s: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) n = n * 10 + (s.charCodeAt(i) - 48)
  return n
}

/** Whether year `y`, month `m` (1–12) and day `d` name a day of the calendar. */
export function isCalendarDay(y: number, m: number, d: number): boolean {
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  return m >= 1 && m <= 12 && d >= 1 && d <= (m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1]!)
}

/** Whether hours, minutes and seconds name a time of a day (no 24:00, no leap second). */
export const isClockTime = (hh: number, mm: number, ss: number): boolean => hh < 24 && mm < 60 && ss < 60
