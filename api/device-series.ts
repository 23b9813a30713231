import { z } from 'zod'
import { type Rule, severitySchema } from '../config/index.ts'
import { type DeviceKind, type Reading, readingPayloadSchemas, readingTypesByKind } from '../domain/index.ts'
import type { DeviceRecord, ReadingRange } from '../ingest/index.ts'
import { ruleMatches } from '../rules/index.ts'

const envelopeKeys = new Set(['type', 'ts', 'seq'])

/** The fields of a kind's readings a chart can draw: numbers, and booleans as 0/1 (a badge id is neither). */
export function chartableFieldsOf(kind: DeviceKind): string[] {
  const fields = new Set<string>()
  for (const type of readingTypesByKind[kind]) {
    for (const [key, schema] of Object.entries(readingPayloadSchemas[type].shape)) {
      const inner = schema instanceof z.ZodOptional ? schema.unwrap() : schema
      if (!envelopeKeys.has(key) && (inner instanceof z.ZodNumber || inner instanceof z.ZodBoolean))
        fields.add(key)
    }
  }
  return [...fields]
}

export const seriesBucketSchema = z.object({
  start: z.iso.datetime(),
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  count: z.number().int().min(1),
})
export type SeriesBucket = z.infer<typeof seriesBucketSchema>

/** An incident of the device marked on the chart's time axis; `clearedAt` null while it is active. */
export const seriesIncidentSchema = z.object({
  id: z.string(),
  rule: z.string(),
  severity: severitySchema,
  openedAt: z.iso.datetime(),
  clearedAt: z.iso.datetime().nullable(),
})
export type SeriesIncident = z.infer<typeof seriesIncidentSchema>

export const seriesThresholdSchema = z.object({
  rule: z.string(),
  kind: z.enum(['above', 'below']),
  /** Where the rule fires, and where it clears again (hysteresis). */
  value: z.number(),
  clear: z.number(),
  severity: severitySchema,
})
export type SeriesThreshold = z.infer<typeof seriesThresholdSchema>

/** The threshold rules that watch this field of this device (by kind, site, zone or id). */
export function thresholdsFor(
  rules: readonly Rule[],
  device: DeviceRecord,
  field: string,
): SeriesThreshold[] {
  const found: SeriesThreshold[] = []
  for (const rule of rules) {
    const { condition } = rule
    if (!ruleMatches(rule, device)) continue
    if (condition.kind === 'above' && condition.field === field)
      found.push({
        rule: rule.id,
        kind: 'above',
        value: condition.above,
        clear: condition.clearBelow,
        severity: rule.severity,
      })
    if (condition.kind === 'below' && condition.field === field)
      found.push({
        rule: rule.id,
        kind: 'below',
        value: condition.below,
        clear: condition.clearAbove,
        severity: rule.severity,
      })
  }
  return found
}

// A reading dated this far before its receipt (a device clock running ahead) or after it (sent late from a
// buffer) is still found: the stream is read by receipt time, the chart places readings by their own time.
const receivedBeforeMs = 5 * 60_000
const receivedAfterMs = 15 * 60_000

export type SeriesRequest = {
  device: string
  field: string
  /** Epoch ms, both included; from < to. */
  from: number
  to: number
  points: number
  /** Readings read at most; past it the answer says `truncated`. */
  maxReadings: number
}

export type Series = { bucketMs: number; buckets: SeriesBucket[]; scanned: number; truncated: boolean }

/** One field of a device's readings in [from, to], cut into at most `points` buckets of equal width. */
export async function readSeries(range: ReadingRange, request: SeriesRequest): Promise<Series> {
  const { device, field, from, to, points, maxReadings } = request
  const bucketMs = Math.max(1, Math.ceil((to - from) / points))
  const sums = new Map<number, { min: number; max: number; sum: number; count: number }>()
  const { scanned, truncated } = await range.scan(
    device,
    { receivedFrom: from - receivedBeforeMs, receivedTo: to + receivedAfterMs, max: maxReadings },
    (reading) => {
      const value = plottedValue(reading, field)
      const at = Date.parse(reading.ts)
      if (value === undefined || !(at >= from && at <= to)) return
      // `to` itself belongs to the last bucket, so a reading taken at the very end is not lost.
      const index = Math.min(points - 1, Math.floor((at - from) / bucketMs))
      const bucket = sums.get(index)
      if (!bucket) sums.set(index, { min: value, max: value, sum: value, count: 1 })
      else {
        bucket.min = Math.min(bucket.min, value)
        bucket.max = Math.max(bucket.max, value)
        bucket.sum += value
        bucket.count++
      }
    },
  )
  const buckets = [...sums.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, { min, max, sum, count }]) => ({
      start: new Date(from + index * bucketMs).toISOString(),
      min,
      max,
      mean: sum / count,
      count,
    }))
  return { bucketMs, buckets, scanned, truncated }
}

function plottedValue(reading: Reading, field: string): number | undefined {
  const value: unknown = (reading as Record<string, unknown>)[field]
  if (typeof value === 'number') return value
  if (typeof value === 'boolean') return value ? 1 : 0
  return undefined
}
