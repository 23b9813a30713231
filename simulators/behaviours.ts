import type { ClockRange } from '../config/index.ts'
import type { Random } from './random.ts'
import { isInsideAccessHours, localMinuteOfDay } from './site-time.ts'

/** Half the daily swing of a room's temperature, and the spread of one probe's noise (°C). */
export const dailySwingCelsius = 1.5
export const probeNoiseCelsius = 0.1
/** How fast a heated or cooling zone moves per reading (°C), and where heat stops by default. */
export const heatStepCelsius = 0.5
export const defaultHeatCelsius = 31

const coolestMinute = 5 * 60
const warmestMinute = 15 * 60
const day = 24 * 60

const oneDecimal = (value: number) => Math.round(value * 10) / 10

/** -1 at 05:00 and +1 at 15:00 local time: a half sine up over 10 h, down over the other 14 h. */
export function dailySwing(minuteOfDay: number): number {
  const sinceCoolest = (minuteOfDay - coolestMinute + day) % day
  const rise = warmestMinute - coolestMinute
  if (sinceCoolest <= rise) return -Math.cos((Math.PI * sinceCoolest) / rise)
  return Math.cos((Math.PI * (sinceCoolest - rise)) / (day - rise))
}

/** A zone's mean temperature, drawn once from the zone's own stream: lounges differ, runs do not. */
export function zoneBaseCelsius(random: Random): number {
  return oneDecimal(random.between(19.5, 22.5))
}

/** What a probe reads when nothing is wrong: the zone's base, the daily swing and a little noise. */
export function normalCelsius({
  base,
  at,
  timezone,
  random,
}: {
  base: number
  at: number
  timezone: string
  random: Random
}): number {
  const swing = dailySwingCelsius * dailySwing(localMinuteOfDay(at, timezone))
  return oneDecimal(base + swing + random.normal(probeNoiseCelsius))
}

export type Heat = { target: number; ending: boolean }

/** One reading of a heated zone: up a step toward the target, or, once ended, down a step toward normal. */
export function heatedCelsius({ last, normal, heat }: { last: number; normal: number; heat: Heat }): {
  celsius: number
  heat: Heat | null
} {
  if (!heat.ending) return { celsius: oneDecimal(Math.min(heat.target, last + heatStepCelsius)), heat }
  const cooled = oneDecimal(last - heatStepCelsius)
  return cooled <= normal ? { celsius: normal, heat: null } : { celsius: cooled, heat }
}

/** Battery percent, falling linearly from its level at the start of the run, never below 5. */
export function batteryAt({
  initial,
  drainPerDay,
  startedAt,
  at,
}: {
  initial: number
  drainPerDay: number
  startedAt: number
  at: number
}): number {
  return Math.max(5, Math.round(initial - (drainPerDay * (at - startedAt)) / 86_400_000))
}

/** The badge a person holds up to the reader. */
export function badgeOf(random: Random): string {
  return `b-${100 + random.int(900)}`
}

/** When a door is next opened with a badge, and closed again: both inside access hours, never unauthorised. */
export function nextBadgedOpening({
  after,
  timezone,
  accessHours,
  random,
  meanGapMs = 15 * 60_000,
}: {
  after: number
  timezone: string
  accessHours: ClockRange | undefined
  random: Random
  meanGapMs?: number
}): { openAt: number; closeAt: number; badge: string } {
  let openAt = after
  // A night outside access hours is ~26 gaps of 15 minutes: the bound only stops a pathological range.
  for (let tries = 0; tries < 10_000; tries++) {
    openAt = Math.round(openAt + random.exponential(meanGapMs))
    const closeAt = openAt + Math.round(random.between(3_000, 12_000))
    if (
      isInsideAccessHours(openAt, timezone, accessHours) &&
      isInsideAccessHours(closeAt, timezone, accessHours)
    )
      return { openAt, closeAt, badge: badgeOf(random) }
  }
  return { openAt: Number.POSITIVE_INFINITY, closeAt: Number.POSITIVE_INFINITY, badge: badgeOf(random) }
}

/** The gap before the next periodic reading: the mean, jittered ±50 % so devices drift apart. */
export function jitteredGap(random: Random, meanMs: number): number {
  return Math.max(1, Math.round(meanMs * random.between(0.5, 1.5)))
}
