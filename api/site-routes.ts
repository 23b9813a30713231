import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { locationSchema, type SiteFile } from '../config/index.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

const siteViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  timezone: z.string(),
  location: locationSchema,
  accessHours: z.string().nullable(),
  zones: z.array(z.object({ id: z.string(), name: z.string(), location: locationSchema.nullable() })),
  // Issue 19: the console plays this recording instead of speaking a critical alert.
  voiceMessageUrl: z.string().nullable(),
})

/** The sites and zones of the site file: what the dashboard draws its plan from. */
export function registerSiteRoutes(app: FastifyInstance, world: Pick<SiteFile, 'sites'>): void {
  const items = world.sites.map((site) => ({
    id: site.id,
    name: site.name,
    timezone: site.timezone,
    location: site.location,
    accessHours: site.accessHours?.text ?? null,
    zones: site.zones.map((zone) => ({ id: zone.id, name: zone.name, location: zone.location ?? null })),
    voiceMessageUrl: site.voiceMessageUrl ?? null,
  }))
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/sites',
    {
      schema: {
        tags: ['sites'],
        summary: 'Sites with their zones, as the site file gives them',
        response: { 200: listSchema(siteViewSchema), 401: errorResponseSchema },
      },
    },
    // A handful of sites per file: one page holds them all.
    async () => ({ items, next: null }),
  )
}
