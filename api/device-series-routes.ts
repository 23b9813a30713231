import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Rule } from '../config/index.ts'
import { type Clock, VigieError } from '../domain/index.ts'
import type { Ingest } from '../ingest/index.ts'
import type { IncidentStore } from '../rules/index.ts'
import { deviceIdSchema } from './device-schemas.ts'
import {
  chartableFieldsOf,
  readSeries,
  seriesBucketSchema,
  seriesIncidentSchema,
  seriesThresholdSchema,
  thresholdsFor,
} from './device-series.ts'
import { errorResponseSchema } from './response-shapes.ts'

const hourMs = 3_600_000
const maxSpanMs = 31 * 24 * hourMs
/** Readings one request reads at most: past it the answer says `truncated` rather than reading on. */
export const seriesMaxReadings = 100_000
/** Incidents one answer marks at most, the oldest first: past it the answer says `incidentsTruncated`. */
export const seriesMaxIncidents = 200

const seriesQuerySchema = z.object({
  // A field name is a word: anything else (SQL, regex, a megabyte) is refused before the device is read.
  field: z
    .string()
    .max(64)
    .regex(/^[A-Za-z][A-Za-z0-9]*$/, 'a field name is letters and digits')
    .optional()
    .meta({ description: "One of the device kind's numeric or boolean fields; the kind's first by default" }),
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Default: an hour before `to`' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Default: now' }),
  points: z.coerce.number().int().min(1).max(1000).default(300),
})

const seriesSchema = z.object({
  device: z.string(),
  field: z.string(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  bucketMs: z.number().int().min(1),
  /** Only the buckets that hold readings, oldest first; each starts at from + i × bucketMs. */
  buckets: z.array(seriesBucketSchema),
  thresholds: z.array(seriesThresholdSchema),
  /** The device's incidents that overlap [from, to], oldest first; zone-wide ones are not marked. */
  incidents: z.array(seriesIncidentSchema),
  incidentsTruncated: z.boolean(),
  scanned: z.number().int().min(0),
  truncated: z.boolean(),
  /** Once DEVICE_READINGS_RETENTION has trimmed the device's log: when its oldest kept reading arrived. Null before. */
  keptSince: z.iso.datetime().nullable(),
})

function invalid(message: string): VigieError {
  return new VigieError({ code: 'VALIDATION_FAILED', message })
}

/** Issue 19: a device's readings as a chart needs them, downsampled, with the thresholds watching them. */
export function registerDeviceSeriesRoutes(
  app: FastifyInstance,
  {
    ingest,
    rules,
    incidents,
    clock,
  }: {
    ingest: Ingest
    rules: readonly Rule[]
    /** Where the device's incidents are read; without it none are marked. */
    incidents?: Pick<IncidentStore, 'ofDevice'> | undefined
    clock: Clock
  },
): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/devices/:id/series',
    {
      schema: {
        tags: ['devices'],
        summary:
          "One field of a device's readings over [from, to] (31 days at most) in at most `points` buckets (min, max, mean, count), with the thresholds of the rules watching it and the device's incidents overlapping the window (200 at most, oldest first); booleans count as 0/1; `truncated` past 100,000 readings",
        params: z.object({ id: deviceIdSchema }),
        querystring: seriesQuerySchema,
        response: { 200: seriesSchema, 400: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const { id } = request.params
      const { field: asked, from: fromText, to: toText, points } = request.query
      const device = await ingest.registry.get(id)
      if (!device) throw new VigieError({ code: 'NOT_FOUND', message: `No device ${id}` })
      const fields = chartableFieldsOf(device.kind)
      const field = asked ?? fields[0]
      if (field === undefined || !fields.includes(field))
        throw invalid(`A ${device.kind} device has no field ${asked}; its fields: ${fields.join(', ')}`)
      const to = toText === undefined ? clock.now() : Date.parse(toText)
      const from = fromText === undefined ? to - hourMs : Date.parse(fromText)
      if (!Number.isFinite(from) || !Number.isFinite(to)) throw invalid('from and to must be real dates')
      if (from >= to) throw invalid('from must be before to')
      if (to - from > maxSpanMs) throw invalid('from and to may be 31 days apart at most')
      const [series, marked, keptSince] = await Promise.all([
        readSeries(ingest.readingRange, {
          device: id,
          field,
          from,
          to,
          points,
          maxReadings: seriesMaxReadings,
        }),
        incidents?.ofDevice(id, { from, to, limit: seriesMaxIncidents }) ?? {
          incidents: [],
          truncated: false,
        },
        ingest.readingRange.keptSince(id),
      ])
      return {
        device: id,
        field,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        ...series,
        thresholds: thresholdsFor(rules, device, field),
        keptSince: keptSince === null ? null : new Date(keptSince).toISOString(),
        incidents: marked.incidents.map(({ id, rule, severity, openedAt, clearedAt }) => ({
          id,
          rule,
          severity,
          openedAt,
          clearedAt,
        })),
        incidentsTruncated: marked.truncated,
      }
    },
  )
}
