import { type ClockRange, isWithinClockRange } from '../config/index.ts'

const formatters = new Map<string, Intl.DateTimeFormat>()

/** Minutes since local midnight (fractional) at this instant in this IANA time zone. */
export function localMinuteOfDay(at: number, timezone: string): number {
  let format = formatters.get(timezone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
    })
    formatters.set(timezone, format)
  }
  let hour = 0
  let minute = 0
  for (const part of format.formatToParts(at)) {
    if (part.type === 'hour') hour = Number(part.value)
    else if (part.type === 'minute') minute = Number(part.value)
  }
  // Seconds and milliseconds are the same in every zone the IANA database still uses.
  const withinMinute = (((at % 60_000) + 60_000) % 60_000) / 60_000
  return hour * 60 + minute + withinMinute
}

/** True inside the site's access hours; a site without them is open all day. */
export function isInsideAccessHours(at: number, timezone: string, hours: ClockRange | undefined): boolean {
  return hours === undefined || isWithinClockRange(hours, Math.floor(localMinuteOfDay(at, timezone)))
}
