import { type ClockRange, isWithinClockRange } from '../config/index.ts'

const formatters = new Map<string, Intl.DateTimeFormat>()

/** Minute of the day and weekday (mon…sun) at an instant, in a site's time zone. */
export function localTime(at: number, timeZone: string): { minute: number; weekday: string } {
  let format = formatters.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
    })
    formatters.set(timeZone, format)
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(at)).map((part) => [part.type, part.value]))
  return {
    minute: Number(parts.hour) * 60 + Number(parts.minute),
    weekday: String(parts.weekday).toLowerCase().slice(0, 3),
  }
}

export function isWithinLocalRange(range: ClockRange, at: number, timeZone: string): boolean {
  return isWithinClockRange(range, localTime(at, timeZone).minute)
}
