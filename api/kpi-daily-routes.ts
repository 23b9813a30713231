import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Clock } from '../domain/index.ts'
import type { TicketStore } from '../rules/index.ts'
import { kpiFiguresSchema, kpiSiteSchema } from './kpi-routes.ts'
import { errorResponseSchema } from './response-shapes.ts'

const dayMs = 86_400_000

const dailyKpisSchema = z.object({
  site: z.string().nullable(),
  /** Oldest first; the last is today (UTC), partial. */
  days: z.array(z.object({ day: z.iso.date(), ...kpiFiguresSchema.shape })),
})

/** The UTC days ending with today's, oldest first, as the kept sums name them (YYYY-MM-DD). */
export function lastDays(now: number, count: number): string[] {
  const today = Math.floor(now / dayMs) * dayMs
  return Array.from({ length: count }, (_, i) =>
    new Date(today - (count - 1 - i) * dayMs).toISOString().slice(0, 10),
  )
}

/** Issue 19: a KPI tile's 30-day trend line, each day read from its kept sums (rules/kpi-sums.ts). */
export function registerDailyKpiRoutes(
  app: FastifyInstance,
  { tickets, clock }: { tickets: Pick<TicketStore, 'dailyKpis'>; clock: Clock },
): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/kpis/daily',
    {
      schema: {
        tags: ['kpis'],
        summary:
          'The figures of /api/kpis for each of the last `days` UTC days (tickets created that day), oldest first, ending with today so far; optionally of one site',
        querystring: z.object({
          days: z.coerce.number().int().min(1).max(90).default(30),
          site: kpiSiteSchema.optional(),
        }),
        response: { 200: dailyKpisSchema, 400: errorResponseSchema, 401: errorResponseSchema },
      },
    },
    async (request) => {
      const { days: count, site } = request.query
      const days = await tickets.dailyKpis({ days: lastDays(clock.now(), count), site })
      return { site: site ?? null, days }
    },
  )
}
