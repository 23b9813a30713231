import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { locationSchema, technicianSchema } from '../config/index.ts'
import { maskEmail, maskPhone, VigieError } from '../domain/index.ts'
import type { TechnicianRoster } from '../rules/index.ts'
import { cursorSchema, keyPart, limitSchema, pageByKey } from './pagination.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

const technicianViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  phone: z.string(),
  email: z.string().nullable(),
  language: z.string(),
  skills: z.array(z.string()),
  shift: z.object({ days: z.array(z.string()), hours: z.string() }).nullable(),
  position: locationSchema.nullable(),
  available: z.boolean(),
})

type Listed = Awaited<ReturnType<TechnicianRoster['list']>>[number]

/** Phone and email are personal data: masked for every role but admin. */
const view = (t: Listed, unmasked: boolean): z.infer<typeof technicianViewSchema> => ({
  id: t.id,
  name: t.name,
  phone: unmasked ? t.phone : maskPhone(t.phone),
  email: t.email ? (unmasked ? t.email : maskEmail(t.email)) : null,
  language: t.language,
  skills: t.skills,
  shift: t.shift ? { days: t.shift.days, hours: t.shift.hours.text } : null,
  position: t.position,
  available: t.availableNow,
})

/** DESIGN.md § HTTP API: technicians CRUD, live position and availability; a technician moves only themself. */
export function registerTechnicianRoutes(app: FastifyInstance, roster: TechnicianRoster): void {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const byId = z.object({ id: z.string().min(1).max(64) })

  const notFound = (id: string) => new VigieError({ code: 'NOT_FOUND', message: `No technician ${id}` })

  async function mayChange(request: FastifyRequest, id: string): Promise<void> {
    if (!(await roster.get(id))) throw notFound(id)
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
        summary:
          'Technicians by id with live position and availability (phone and email masked); page on with cursor=next',
        querystring: z.object({ limit: limitSchema, cursor: cursorSchema(z.tuple([keyPart])) }),
        response: {
          200: listSchema(technicianViewSchema),
          400: errorResponseSchema,
          401: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query
      const page = pageByKey(await roster.list(), (t) => [t.id], { limit, after: cursor })
      return { items: page.items.map((t) => view(t, request.principal?.role === 'admin')), next: page.next }
    },
  )

  routes.get(
    '/api/technicians/:id',
    {
      schema: {
        tags: ['technicians'],
        summary: 'One technician with live position and availability (contact details masked but for admins)',
        params: byId,
        response: { 200: technicianViewSchema, 401: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const found = (await roster.list()).find((t) => t.id === request.params.id)
      if (!found) throw notFound(request.params.id)
      return view(found, request.principal?.role === 'admin')
    },
  )

  routes.post(
    '/api/technicians',
    {
      config: { access: ['dispatcher'] },
      schema: {
        tags: ['technicians'],
        summary: 'Adds a technician (the site file format); dispatch offers them work at once',
        body: technicianSchema,
        response: {
          201: technicianViewSchema,
          400: errorResponseSchema,
          403: errorResponseSchema,
          409: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      if (!(await roster.create(request.body)))
        throw new VigieError({ code: 'CONFLICT', message: `Technician ${request.body.id} exists already` })
      const created = (await roster.list()).find((t) => t.id === request.body.id)
      return reply
        .status(201)
        .send(view(created ?? { ...request.body, position: null, availableNow: true }, false))
    },
  )

  routes.put(
    '/api/technicians/:id',
    {
      config: { access: ['dispatcher'] },
      schema: {
        tags: ['technicians'],
        summary: 'Replaces a technician (skills, shift, contact); their live position and availability stay',
        params: byId,
        body: technicianSchema,
        response: {
          200: technicianViewSchema,
          400: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
        },
      },
    },
    async (request) => {
      if (request.body.id !== request.params.id)
        throw new VigieError({ code: 'VALIDATION_FAILED', message: 'The body id must be the path id' })
      if (!(await roster.replace(request.body))) throw notFound(request.params.id)
      const replaced = (await roster.list()).find((t) => t.id === request.params.id)
      if (!replaced) throw notFound(request.params.id)
      return view(replaced, false)
    },
  )

  routes.delete(
    '/api/technicians/:id',
    {
      config: { access: ['dispatcher'] },
      schema: {
        tags: ['technicians'],
        summary: 'Removes a technician: no new offers (one already out expires as usual)',
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
      if (!(await roster.remove(request.params.id))) throw notFound(request.params.id)
      return reply.status(204).send(null)
    },
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
      await mayChange(request, request.params.id)
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
      await mayChange(request, request.params.id)
      await roster.setAvailable(request.params.id, request.body.available)
      return reply.status(204).send(null)
    },
  )
}
