import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { readingSchema, VigieError } from '../domain/index.ts'
import { type DeviceRecord, deadLetterSchema, type Ingest } from '../ingest/index.ts'
import {
  type DeviceView,
  deviceDetailSchema,
  deviceIdSchema,
  deviceViewSchema,
  newDeviceSchema,
} from './device-schemas.ts'
import { cursorSchema, limitSchema, nextCursor, streamPosition } from './pagination.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

const byId = z.object({ id: deviceIdSchema })

/** DESIGN.md § HTTP API, devices part: provisioning, state, readings and dead letters. */
export function registerDeviceRoutes(app: FastifyInstance, ingest: Ingest): void {
  const routes = app.withTypeProvider<ZodTypeProvider>()

  async function find(id: string): Promise<DeviceRecord> {
    const record = await ingest.registry.get(id)
    if (!record) throw new VigieError({ code: 'NOT_FOUND', message: `No device ${id}` })
    return record
  }

  routes.post(
    '/api/devices',
    {
      config: { access: ['admin'] },
      schema: {
        tags: ['devices'],
        summary: 'Provision a device; the answer holds its MQTT secret, shown this once only',
        // Site and zone are not checked against the site file: the API has no list of sites yet.
        body: newDeviceSchema,
        response: {
          201: z.object({ device: deviceViewSchema, secret: z.string() }),
          409: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const { device, secret } = await ingest.registry.add(request.body)
      return reply.status(201).send({ device: toView(device), secret })
    },
  )

  routes.get(
    '/api/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'Every device, by id; page on with cursor=next',
        querystring: z.object({ limit: limitSchema, cursor: cursorSchema(deviceIdSchema) }),
        response: { 200: listSchema(deviceViewSchema), 400: errorResponseSchema },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query
      const page = await ingest.registry.page({ limit, after: cursor })
      return { items: page.items.map(toView), next: nextCursor(page.next) }
    },
  )

  routes.get(
    '/api/devices/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'A device with its online status, last contact and latest readings',
        params: byId,
        response: { 200: deviceDetailSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const { id } = request.params
      const [record, state, deadLetters] = await Promise.all([
        find(id),
        ingest.states.get(id),
        ingest.deadLetters.count(id),
      ])
      return { ...toView(record), ...state, deadLetters }
    },
  )

  routes.get(
    '/api/devices/:id/readings',
    {
      schema: {
        tags: ['devices'],
        summary: "A device's recent readings, newest first; page on with cursor=next",
        params: byId,
        querystring: z.object({ limit: limitSchema, cursor: cursorSchema(streamPosition) }),
        response: { 200: listSchema(readingSchema), 400: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const { id } = request.params
      const { limit, cursor } = request.query
      await find(id)
      const page = await ingest.readings.page(id, { limit, before: cursor })
      return { items: page.items, next: nextCursor(page.next) }
    },
  )

  routes.get(
    '/api/dead-letters',
    {
      schema: {
        tags: ['devices'],
        summary: 'Bad input kept with its reason, newest first; one device or all',
        // No 404 for an unknown device: messages from ids nobody provisioned are dead letters too.
        querystring: z.object({
          device: deviceIdSchema.optional(),
          limit: limitSchema,
          cursor: cursorSchema(streamPosition),
        }),
        response: { 200: listSchema(deadLetterSchema), 400: errorResponseSchema },
      },
    },
    async (request) => {
      const { device, limit, cursor } = request.query
      const page = await ingest.deadLetters.page({ device, limit, before: cursor })
      return { items: page.items, next: nextCursor(page.next) }
    },
  )
}

function toView({ id, kind, site, zone, name, location, links, createdAt }: DeviceRecord): DeviceView {
  return {
    id,
    kind,
    site,
    zone: zone ?? null,
    name: name ?? null,
    location: location ?? null,
    links: links ?? null,
    createdAt,
  }
}
