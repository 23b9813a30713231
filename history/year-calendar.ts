import { localTime } from '../rules/index.ts'
import type { Random } from './seeded-random.ts'

export const minuteMs = 60_000
export const hourMs = 3_600_000
export const dayMs = 86_400_000
export const yearMs = 365 * dayMs

// An airport is busiest from the first flights to the last: a night hour sees a third of a day hour's tickets.
const nightShare = 0.35
const firstFlight = 5 * 60
const lastFlight = 23 * 60

/**
 * When each of the year's tickets opens, oldest first: spread over the 365 days before `end`, more by
 * day than by night in the site's time zone, none in the last minute so each can be offered before `end`.
 */
export function ticketTimes({
  count,
  end,
  timeZone,
  random,
}: {
  count: number
  end: number
  timeZone: string
  random: Random
}): number[] {
  const start = end - yearMs
  const span = yearMs - 60_000
  // The local hour, worked out once per hour of the year: offsets change on the hour.
  const hours = new Map<number, number>()
  const localMinute = (at: number) => {
    const hour = Math.floor(at / 3_600_000)
    let first = hours.get(hour)
    if (first === undefined) {
      first = localTime(hour * 3_600_000, timeZone).minute
      hours.set(hour, first)
    }
    return first + Math.floor((at % 3_600_000) / 60_000)
  }
  const times: number[] = []
  while (times.length < count) {
    const at = Math.floor(start + random.next() * span)
    const minute = localMinute(at)
    const busy = minute >= firstFlight && minute < lastFlight
    if (busy || random.chance(nightShare)) times.push(at)
  }
  return times.sort((a, b) => a - b)
}
