import { z } from 'zod'

/** A daily range in local minutes; `to` below `from` wraps past midnight ("22:00-07:00"). */
export type ClockRange = { from: number; to: number; text: string }

function minutesOf(clock: string, isEnd: boolean): number | null {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(clock)
  if (!match) return null
  const minutes = Number(match[1]) * 60 + Number(match[2])
  if (minutes > 24 * 60 || (minutes === 24 * 60 && !isEnd)) return null
  return minutes
}

export const clockRangeSchema = z.string().transform((text, ctx): ClockRange => {
  const [fromText = '', toText = '', ...rest] = text.split('-')
  const from = minutesOf(fromText.trim(), false)
  const to = minutesOf(toText.trim(), true)
  if (from === null || to === null || rest.length > 0 || from === to) {
    ctx.addIssue({
      code: 'custom',
      message: 'a daily range like "05:00-23:30" (24h clock, may wrap midnight)',
      input: text,
    })
    return z.NEVER
  }
  return { from, to, text }
})

/** A range as stored once parsed (a technician's shift, a customer's quiet hours, read back from Redis). */
export const clockRangeValueSchema = z.strictObject({
  from: z
    .number()
    .int()
    .min(0)
    .max(24 * 60),
  to: z
    .number()
    .int()
    .min(0)
    .max(24 * 60),
  text: z.string(),
})

/** True when the local minute of the day falls inside the range. */
export function isWithinClockRange(range: ClockRange, minuteOfDay: number): boolean {
  return range.from < range.to
    ? minuteOfDay >= range.from && minuteOfDay < range.to
    : minuteOfDay >= range.from || minuteOfDay < range.to
}
