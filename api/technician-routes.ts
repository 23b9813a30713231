import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { locationSchema } from '../config/index.ts'
import { maskEmail, maskPhone, VigieError } from '../domain/index.ts'
import type { TechnicianRoster } from '../rules/index.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

const technicianViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  phone: z.string(),
  email: z.string().nullable(),
  language: z.string(),
  skills: z.array(z.string()),
  position: locationSchema.nullable(),
  available: z.boolean(),
})

/** DESIGN.md § HTTP API: technicians' live position and availability; a technician moves only themself. */
export function registerTechnicianRoutes(app: FastifyInstance, roster: TechnicianRoster): void {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const byId = z.object({ id: z.string().min(1).max(64) })

  function mayChange(request: FastifyRequest, id: string): void {
    if (!roster.get(id)) throw new VigieError({ code: 'NOT_FOUND', message: `No technician ${id}` })
    const principal = request.principal
    if (principal?.role === 'technician' && principal.technician !== id) {
      throw new VigieError({
        code: 'AUTH_FORBIDDEN',
        message: 'A technician updates only their own position and availability',
      })
    }
  }

  routes.get(
    '/api/technicians',
    {
      schema: {
        tags: ['technicians'],
        summary: 'Technicians with live position and availability (phone and email masked)',
        response: { 200: listSchema(technicianViewSchema), 401: errorResponseSchema },
      },
    },
    async () => ({
      items: (await roster.list()).map((t) => ({
        id: t.id,
        name: t.name,
        phone: maskPhone(t.phone),
        email: t.email ? maskEmail(t.email) : null,
        language: t.language,
        skills: t.skills,
        position: t.position,
        available: t.availableNow,
      })),
      next: null,
    }),
  )

  routes.put(
    '/api/technicians/:id/location',
    {
      config: { access: ['dispatcher', 'technician'] },
      schema: {
        tags: ['technicians'],
        summary: 'Where the technician is now (used for the next dispatch)',
        params: byId,
        body: locationSchema,
        response: {
          204: z.null(),
          400: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      mayChange(request, request.params.id)
      await roster.setLocation(request.params.id, request.body)
      return reply.status(204).send(null)
    },
  )

  routes.put(
    '/api/technicians/:id/availability',
    {
      config: { access: ['dispatcher', 'technician'] },
      schema: {
        tags: ['technicians'],
        summary: 'Whether the technician takes offers now',
        params: byId,
        body: z.strictObject({ available: z.boolean() }),
        response: {
          204: z.null(),
          400: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      mayChange(request, request.params.id)
      await roster.setAvailable(request.params.id, request.body.available)
      return reply.status(204).send(null)
    },
  )
}
