// Session windows: the days and times of day, in a time zone, when a strategy may enter.
import { z } from 'zod'

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
// Day names in any case; JSON Schema patterns have no flags, so the pattern spells the case out.
const ClockTime = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)Z?$/, 'a time of day HH:MM (24 h)')
export const SessionWindow = z
  .object({
    days: z
      .array(
        z
          .string()
          .regex(/^([Ss][Uu][Nn]|[Mm][Oo][Nn]|[Tt][Uu][Ee]|[Ww][Ee][Dd]|[Tt][Hh][Uu]|[Ff][Rr][Ii]|[Ss][Aa][Tt])$/, 'Mon, Tue, Wed, Thu, Fri, Sat or Sun'),
      )
      .min(1)
      .optional()
      .describe('Absent = every day'),
    start: ClockTime.optional().describe('Inclusive; absent = 00:00'),
    end: ClockTime.optional().describe('Exclusive; absent = 24:00; before start = overnight'),
    tz: z.string().default('UTC').refine(validTimeZone, 'an IANA time zone such as America/New_York').describe('Time zone of days, start and end'),
  })
  .strict()
  .describe('Entries only when the signal bar opens inside a window (exits always)')
export type SessionWindow = z.infer<typeof SessionWindow>
export const dayIndex = (day: string): number => DAYS.indexOf(day.toLowerCase() as (typeof DAYS)[number])

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}
