// Session windows: whether a bar opening at a time may enter — inside any window of days and times
// of day in a time zone (Intl gives the local weekday and time; formatters are built once per zone).
import { dayIndex, type SessionWindow } from '../../src/core/config-file/sessions.js'
import { Memo } from '../../src/core/memo.js'

const formatters = new Memo((tz) => new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }))

/** Weekday (0 = Sunday) and minutes since midnight of `ms` in `tz`. */
function localTime(ms: number, tz: string): { day: number; minutes: number } {
  if (tz === 'UTC') {
    const d = new Date(ms)
    return { day: d.getUTCDay(), minutes: d.getUTCHours() * 60 + d.getUTCMinutes() }
  }
  const f = formatters.get(tz)
  let day = 0
  let minutes = 0
  for (const p of f.formatToParts(ms)) {
    if (p.type === 'weekday') day = dayIndex(p.value)
    else if (p.type === 'hour') minutes += Number(p.value) * 60
    else if (p.type === 'minute') minutes += Number(p.value)
  }
  return { day, minutes }
}

const minutesOf = (hhmm: string | undefined, fallback: number) => (hhmm === undefined ? fallback : Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5)))

/** Whether a bar opening at `ts` may enter: inside any window (no windows = always). */
export function sessionTest(windows: SessionWindow[] | undefined): (ts: string) => boolean {
  if (!windows?.length) return () => true
  const compiled = windows.map((w) => ({
    tz: w.tz,
    days: w.days ? new Set(w.days.map(dayIndex)) : null,
    start: minutesOf(w.start, 0),
    end: minutesOf(w.end, 24 * 60),
  }))
  return (ts) => {
    const ms = Date.parse(ts)
    return compiled.some((w) => {
      const { day, minutes } = localTime(ms, w.tz)
      if (w.days && !w.days.has(day)) return false
      return w.start <= w.end ? minutes >= w.start && minutes < w.end : minutes >= w.start || minutes < w.end
    })
  }
}
