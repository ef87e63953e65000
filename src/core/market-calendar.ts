// The US equity market's calendar (NYSE/Nasdaq): which days trade, when a session opens and closes
// (early closes at 13:00), and from that when a feed's next bar is complete. The holiday rules are
// NYSE's (Rule 7.2): weekend holidays move to the nearest weekday — except New Year's Day on a
// Saturday, which is not made up on the Friday before — plus the days the exchange closed for an
// event. Pure: time is always passed in.
import { Memo } from './memo.js'

const ZONE = 'America/New_York'
const OPEN = 9 * 60 + 30
const CLOSE = 16 * 60
const EARLY_CLOSE = 13 * 60
const DAY_MS = 86_400_000

/** Days the exchange closed outside its holiday rules (national days of mourning, storms, 9/11). */
const CLOSURES: ReadonlySet<string> = new Set([
  '2001-09-11',
  '2001-09-12',
  '2001-09-13',
  '2001-09-14',
  '2004-06-11',
  '2007-01-02',
  '2012-10-29',
  '2012-10-30',
  '2018-12-05',
  '2025-01-09',
])

const iso = (y: number, m: number, d: number) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
const weekday = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d)).getUTCDay()
/** The n-th (1-based) `day` of a month; n = -1: the last. */
function nthWeekday(y: number, m: number, day: number, n: number): string {
  if (n > 0) {
    const first = weekday(y, m, 1)
    return iso(y, m, 1 + ((day - first + 7) % 7) + (n - 1) * 7)
  }
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate()
  return iso(y, m, last - ((weekday(y, m, last) - day + 7) % 7))
}
/** A fixed-date holiday as observed: Saturday → Friday, Sunday → Monday. */
function observed(y: number, m: number, d: number): string {
  const wd = weekday(y, m, d)
  const ms = Date.UTC(y, m - 1, d) + (wd === 6 ? -DAY_MS : wd === 0 ? DAY_MS : 0)
  return new Date(ms).toISOString().slice(0, 10)
}
/** Easter Sunday (the Gregorian computus, Meeus/Jones/Butcher). */
function easter(y: number): { m: number; d: number } {
  const a = y % 19
  const b = Math.floor(y / 100)
  const c = y % 100
  const d = Math.floor(b / 4)
  const e = b % 4
  const f = Math.floor((b + 8) / 25)
  const g = Math.floor((b - f + 1) / 3)
  const h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4)
  const k = c % 4
  const l = (32 + 2 * e + 2 * i - h - k) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  return { m: Math.floor((h + l - 7 * m + 114) / 31), d: ((h + l - 7 * m + 114) % 31) + 1 }
}

/** The full-day holidays of a year, as observed (memoised: every poll and lag reading asks). */
const holidaysOf = new Memo((year) => holidays(Number(year)), 1000)
function holidays(y: number): Set<string> {
  const set = new Set<string>()
  if (weekday(y, 1, 1) !== 6) set.add(observed(y, 1, 1))
  if (y >= 1998) set.add(nthWeekday(y, 1, 1, 3)) // Martin Luther King Jr. Day
  set.add(nthWeekday(y, 2, 1, 3)) // Washington's Birthday
  const e = easter(y)
  set.add(new Date(Date.UTC(y, e.m - 1, e.d) - 2 * DAY_MS).toISOString().slice(0, 10)) // Good Friday
  set.add(nthWeekday(y, 5, 1, -1)) // Memorial Day
  if (y >= 2022) set.add(observed(y, 6, 19)) // Juneteenth
  set.add(observed(y, 7, 4))
  set.add(nthWeekday(y, 9, 1, 1)) // Labor Day
  set.add(nthWeekday(y, 11, 4, 4)) // Thanksgiving
  set.add(observed(y, 12, 25))
  // New Year's Day of next year on a Saturday is not observed on this year's Dec 31 (NYSE rule).
  return set
}

/** Whether the market trades on `date` (YYYY-MM-DD, the exchange's local date). */
export function isTradingDay(date: string): boolean {
  const y = Number(date.slice(0, 4))
  const wd = weekday(y, Number(date.slice(5, 7)), Number(date.slice(8, 10)))
  return wd !== 0 && wd !== 6 && !holidaysOf.get(String(y)).has(date) && !CLOSURES.has(date)
}

/** 13:00 closes: the day before Independence Day, the day after Thanksgiving, Christmas Eve (when they trade). */
function closesEarly(date: string): boolean {
  const y = Number(date.slice(0, 4))
  const dayAfterThanksgiving = new Date(Date.parse(`${nthWeekday(y, 11, 4, 4)}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10)
  const julyFourthObserved = observed(y, 7, 4)
  return (date === `${y}-07-03` && julyFourthObserved === `${y}-07-04`) || date === dayAfterThanksgiving || date === `${y}-12-24`
}

const zoned = new Intl.DateTimeFormat('en-US', {
  timeZone: ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
})
/** The exchange's wall clock at `ms`, as the ms of the same wall time in UTC. */
function wallClock(ms: number): number {
  const p: Record<string, number> = {}
  for (const part of zoned.formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value)
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!)
}
/** The exchange's local date at `ms`. */
export const localDate = (ms: number): string => new Date(wallClock(ms)).toISOString().slice(0, 10)
/** The instant of `minutes` past midnight on `date`, exchange time. */
function instant(date: string, minutes: number): number {
  const wall = Date.parse(`${date}T00:00:00Z`) + minutes * 60_000
  // The offset at a guess five hours on (EST), then at the corrected instant (DST changes near 2 am).
  let ms = wall + 5 * 3_600_000
  for (let i = 0; i < 2; i++) ms = wall + (ms - wallClock(ms))
  return ms
}

export interface Session {
  date: string
  open: number
  close: number
}

/** The session on `date`, or null when the market does not trade. */
export function sessionOn(date: string): Session | null {
  if (!isTradingDay(date)) return null
  return { date, open: instant(date, OPEN), close: instant(date, closesEarly(date) ? EARLY_CLOSE : CLOSE) }
}

const addDays = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10)

/** The first session on or after `date`. */
function sessionFrom(date: string): Session {
  for (let d = date; ; d = addDays(d, 1)) {
    const s = sessionOn(d)
    if (s) return s
  }
}
/** The last session strictly before `date`. */
function sessionBefore(date: string): Session {
  for (let d = addDays(date, -1); ; d = addDays(d, -1)) {
    const s = sessionOn(d)
    if (s) return s
  }
}

/** Minutes of a timeframe the calendar knows ('1d' → null: a session). */
export function intradayMinutes(timeframe: string): number | null {
  const m = /^(\d+)([mh])$/.exec(timeframe)
  if (!m) return null
  return Number(m[1]) * (m[2] === 'h' ? 60 : 1)
}

/**
 * The bars of the latest session that are complete at `now`, as their open times (a daily bar's is
 * its date at 00:00 UTC, as a CSV's date is read), latest last; `settleMs` after a bar's end it
 * counts as complete. Bars open at the session open and every timeframe after; the last ends at the
 * close.
 */
export function lastCompleteBar(timeframe: string, now: number, settleMs: number): string {
  const minutes = intradayMinutes(timeframe)
  const today = sessionOn(localDate(now))
  if (minutes === null) {
    const s = today && today.close + settleMs <= now ? today : sessionBefore(localDate(now))
    return `${s.date}T00:00:00.000Z`
  }
  // Intraday: bars open at the session open and every timeframe after; the last ends at the close.
  const step = minutes * 60_000
  const ends = (s: Session, k: number) => Math.min(s.open + (k + 1) * step, s.close)
  const s = today && ends(today, 0) + settleMs <= now ? today : sessionBefore(localDate(now))
  let k = Math.ceil((s.close - s.open) / step) - 1
  while (k > 0 && ends(s, k) + settleMs > now) k--
  return new Date(s.open + k * step).toISOString()
}

/** When a bar after `now` is next complete (plus `settleMs`): the time to ask the provider again. */
export function nextBarDue(timeframe: string, now: number, settleMs: number): number {
  const minutes = intradayMinutes(timeframe)
  for (let s = sessionFrom(localDate(now)); ; s = sessionFrom(addDays(s.date, 1))) {
    if (minutes === null) {
      if (s.close + settleMs > now) return s.close + settleMs
      continue
    }
    const step = minutes * 60_000
    for (let end = s.open + step; ; end += step) {
      const due = Math.min(end, s.close) + settleMs
      if (due > now) return due
      if (end >= s.close) break
    }
  }
}

/** How many bars the calendar expects after the bar that opened at `from`, up to and including `to` (open times). */
export function barsBetween(timeframe: string, from: string, to: string, cap = 10_000): number {
  const minutes = intradayMinutes(timeframe)
  if (to <= from) return 0
  let n = 0
  if (minutes === null) {
    for (let d = addDays(from.slice(0, 10), 1); d <= to.slice(0, 10) && n < cap; d = addDays(d, 1)) if (isTradingDay(d)) n++
    return n
  }
  const step = minutes * 60_000
  const a = Date.parse(from)
  const b = Date.parse(to)
  for (let s = sessionFrom(localDate(a)); s.open <= b && n < cap; s = sessionFrom(addDays(s.date, 1))) {
    for (let t = s.open; t < s.close && n < cap; t += step) if (t > a && t <= b) n++
  }
  return n
}
