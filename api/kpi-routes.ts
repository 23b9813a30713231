import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { TicketStore } from '../rules/index.ts'
import { errorResponseSchema } from './response-shapes.ts'

const spreadSchema = z.object({ p50: z.number(), p90: z.number(), count: z.number().int() }).nullable()

/** The figures of README § KPIs, as /api/kpis and /api/kpis/daily answer them. */
export const kpiFiguresSchema = z.object({
  tickets: z.number().int(),
  timeToFirstNoticeMinutes: spreadSchema,
  timeToAcknowledgeMinutes: spreadSchema,
  timeToResolveMinutes: spreadSchema,
  slaMetPercent: z.number().nullable(),
  firstVisitFixPercent: z.number().nullable(),
  resolvedBeforeCustomerContactPercent: z.number().nullable(),
  csatPercent: z.number().nullable(),
  csatAnswers: z.number().int(),
  npsScore: z.number().nullable(),
  npsAnswers: z.number().int(),
  cesMean: z.number().nullable(),
  cesAnswers: z.number().int(),
})

const kpisSchema = z.object({
  from: z.string().nullable(),
  to: z.string().nullable(),
  site: z.string().nullable(),
  ...kpiFiguresSchema.shape,
})

/** A site's id as the KPI routes take it: the sums are kept under it. */
export const kpiSiteSchema = z.string().min(1).max(64)

/** DESIGN.md § HTTP API: `GET /api/kpis`, over the tickets created between from and to (README § KPIs), from kept sums. */
export function registerKpiRoutes(app: FastifyInstance, tickets: TicketStore): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/kpis',
    {
      schema: {
        tags: ['kpis'],
        summary: 'Customer-experience figures over the tickets created in [from, to), optionally of one site',
        querystring: z.object({
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
          site: kpiSiteSchema.optional(),
        }),
        response: { 200: kpisSchema, 400: errorResponseSchema, 401: errorResponseSchema },
      },
    },
    async (request) => {
      const { from, to, site } = request.query
      const kpis = await tickets.kpis({
        from: from ? Date.parse(from) : undefined,
        to: to ? Date.parse(to) : undefined,
        site,
      })
      return { from: from ?? null, to: to ?? null, site: site ?? null, ...kpis }
    },
  )
}
