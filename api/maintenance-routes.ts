import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { SiteFile } from '../config/index.ts'
import { type Clock, VigieError } from '../domain/index.ts'
import type { Ingest } from '../ingest/index.ts'
import { type MaintenanceWindows, maintenanceScopeSchema, maintenanceWindowSchema } from '../rules/index.ts'
import { cursorSchema, keyPart, limitSchema, pageByKey } from './pagination.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

const maxLengthMs = 30 * 86_400_000
const instant = z.iso.datetime({ offset: true })

const createBodySchema = z
  .strictObject({
    scope: maintenanceScopeSchema,
    reason: z.string().min(1).max(500),
    startsAt: instant.optional(),
    endsAt: instant.optional(),
    /** From startsAt (or now), instead of endsAt. */
    minutes: z
      .number()
      .int()
      .min(1)
      .max(maxLengthMs / 60_000)
      .optional(),
  })
  .refine((body) => (body.endsAt === undefined) !== (body.minutes === undefined), {
    message: 'give either endsAt or minutes',
    path: ['endsAt'],
  })

/** Maintenance windows (issue 4): new incidents of what they cover are suppressed until they end. */
export function registerMaintenanceRoutes(
  app: FastifyInstance,
  {
    maintenance,
    world,
    ingest,
    clock,
  }: { maintenance: MaintenanceWindows; world?: Pick<SiteFile, 'sites'>; ingest?: Ingest; clock: Clock },
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const byId = z.object({ id: z.string().min(1).max(64) })

  /** The scope must name a known site, one of its zones, and a device of that site. */
  async function checkScope(scope: z.infer<typeof maintenanceScopeSchema>): Promise<void> {
    const site = world?.sites.find((s) => s.id === scope.site)
    const unknown = (what: string) =>
      new VigieError({ code: 'VALIDATION_FAILED', message: `Unknown ${what}`, details: { scope } })
    if (world && !site) throw unknown(`site ${scope.site}`)
    if (site && scope.zone && !site.zones.some((z) => z.id === scope.zone))
      throw unknown(`zone ${scope.zone}`)
    if (scope.device && ingest) {
      const device = await ingest.registry.get(scope.device)
      if (device?.site !== scope.site) throw unknown(`device ${scope.device} on site ${scope.site}`)
    }
  }

  routes.post(
    '/api/maintenance-windows',
    {
      config: { access: ['dispatcher'] },
      schema: {
        tags: ['maintenance'],
        summary: 'Opens a maintenance window over a site, a zone or a device',
        body: createBodySchema,
        response: {
          201: maintenanceWindowSchema,
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const { scope, reason, minutes } = request.body
      await checkScope(scope)
      const now = clock.now()
      const startsAt = request.body.startsAt ? Date.parse(request.body.startsAt) : now
      const endsAt = request.body.endsAt
        ? Date.parse(request.body.endsAt)
        : startsAt + (minutes ?? 0) * 60_000
      if (endsAt <= startsAt || endsAt <= now || endsAt - startsAt > maxLengthMs) {
        throw new VigieError({
          code: 'VALIDATION_FAILED',
          message: 'A window must end after it starts, in the future, and last at most 30 days',
        })
      }
      const window = await maintenance.create({
        scope,
        startsAt,
        endsAt,
        reason,
        createdBy: request.principal?.name ?? 'unknown',
      })
      return reply.status(201).send(window)
    },
  )

  routes.get(
    '/api/maintenance-windows',
    {
      schema: {
        tags: ['maintenance'],
        summary:
          'Windows not yet ended, soonest start first; active=true keeps those already started; page on with cursor=next',
        querystring: z.object({
          site: z.string().optional(),
          active: z.enum(['true', 'false']).optional(),
          limit: limitSchema,
          cursor: cursorSchema(z.tuple([keyPart, keyPart])),
        }),
        response: {
          200: listSchema(maintenanceWindowSchema),
          400: errorResponseSchema,
          401: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { site, active, limit, cursor } = request.query
      const windows = await maintenance.list({
        ...(site ? { site } : {}),
        ...(active === 'true' ? { activeAt: clock.now() } : {}),
      })
      return pageByKey(windows, (w) => [w.startsAt, w.id], { limit, after: cursor })
    },
  )

  routes.get(
    '/api/maintenance-windows/:id',
    {
      schema: {
        tags: ['maintenance'],
        summary: 'One maintenance window',
        params: byId,
        response: { 200: maintenanceWindowSchema, 401: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const window = await maintenance.get(request.params.id)
      if (!window)
        throw new VigieError({ code: 'NOT_FOUND', message: `No maintenance window ${request.params.id}` })
      return window
    },
  )

  routes.delete(
    '/api/maintenance-windows/:id',
    {
      config: { access: ['dispatcher'] },
      schema: {
        tags: ['maintenance'],
        summary: 'Ends a maintenance window now',
        params: byId,
        response: {
          204: z.null(),
          401: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      if (!(await maintenance.remove(request.params.id)))
        throw new VigieError({ code: 'NOT_FOUND', message: `No maintenance window ${request.params.id}` })
      return reply.status(204).send(null)
    },
  )
}
