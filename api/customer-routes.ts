import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { type Customer, customerSchema, type SiteFile } from '../config/index.ts'
import { maskEmail, maskPhone, VigieError } from '../domain/index.ts'
import type { CustomerBook } from '../notifier/index.ts'
import { cursorSchema, encodeCursor, keyPart, limitSchema } from './pagination.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

const customerViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  language: z.string(),
  contacts: z.array(z.object({ channel: z.enum(['sms', 'voice', 'email', 'whatsapp']), to: z.string() })),
  subscribes: z.object({
    sites: z.array(z.string()),
    zones: z.array(z.string()),
    devices: z.array(z.string()),
  }),
  quietHours: z.string().nullable(),
})

/** Contacts are personal data: masked for every role but admin. */
const view = (c: Customer, unmasked: boolean): z.infer<typeof customerViewSchema> => ({
  id: c.id,
  name: c.name,
  language: c.language,
  contacts: c.contacts.map((contact) =>
    'email' in contact
      ? { channel: 'email' as const, to: unmasked ? contact.email : maskEmail(contact.email) }
      : 'sms' in contact
        ? { channel: 'sms' as const, to: unmasked ? contact.sms : maskPhone(contact.sms) }
        : 'whatsapp' in contact
          ? { channel: 'whatsapp' as const, to: unmasked ? contact.whatsapp : maskPhone(contact.whatsapp) }
          : { channel: 'voice' as const, to: unmasked ? contact.voice : maskPhone(contact.voice) },
  ),
  subscribes: {
    sites: c.subscribes.sites ?? [],
    zones: c.subscribes.zones ?? [],
    devices: c.subscribes.devices ?? [],
  },
  quietHours: c.quietHours?.text ?? null,
})

/**
 * DESIGN.md § HTTP API: customers CRUD. Everyone reads (contacts masked); only admins add, change or remove
 * a customer, since that decides who is told about incidents.
 */
export function registerCustomerRoutes(
  app: FastifyInstance,
  {
    customers,
    world,
    deviceExists,
  }: {
    customers: CustomerBook
    world: Pick<SiteFile, 'sites'>
    deviceExists: (id: string) => Promise<boolean>
  },
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const byId = z.object({ id: z.string().min(1).max(64) })
  const notFound = (id: string) => new VigieError({ code: 'NOT_FOUND', message: `No customer ${id}` })
  const admin = { access: ['admin'] as const }

  // A subscription to nothing that exists would silently tell the customer nothing: refuse it.
  async function checkSubscriptions(customer: Customer): Promise<void> {
    const { sites = [], zones = [], devices = [] } = customer.subscribes
    const zoneIds = new Set(world.sites.flatMap((s) => s.zones.map((z) => z.id)))
    const unknown = [
      ...sites.filter((id) => !world.sites.some((s) => s.id === id)).map((id) => `site ${id}`),
      ...zones.filter((id) => !zoneIds.has(id)).map((id) => `zone ${id}`),
    ]
    for (const id of devices) if (!(await deviceExists(id))) unknown.push(`device ${id}`)
    if (unknown.length > 0)
      throw new VigieError({
        code: 'VALIDATION_FAILED',
        message: `Subscribed to what does not exist: ${unknown.join(', ')}`,
        details: unknown.map((what) => ({ path: 'body.subscribes', message: `no ${what}` })),
      })
  }

  routes.get(
    '/api/customers',
    {
      schema: {
        tags: ['customers'],
        summary:
          'Customers by id with what they subscribe to (contacts masked but for admins); page with cursor',
        // Strict: a client paging with a parameter we do not read (after=) would get page one forever.
        querystring: z.strictObject({ limit: limitSchema, cursor: cursorSchema(z.tuple([keyPart])) }),
        response: { 200: listSchema(customerViewSchema), 400: errorResponseSchema, 401: errorResponseSchema },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query
      const page = await customers.page({ limit, after: cursor?.[0] })
      const last = page.items.at(-1)
      return {
        items: page.items.map((c) => view(c, request.principal?.role === 'admin')),
        next: page.more && last ? encodeCursor([last.id]) : null,
      }
    },
  )

  routes.get(
    '/api/customers/:id',
    {
      schema: {
        tags: ['customers'],
        summary: 'One customer (contacts masked but for admins)',
        params: byId,
        response: { 200: customerViewSchema, 401: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const found = await customers.get(request.params.id)
      if (!found) throw notFound(request.params.id)
      return view(found, request.principal?.role === 'admin')
    },
  )

  routes.post(
    '/api/customers',
    {
      config: admin,
      schema: {
        tags: ['customers'],
        summary: 'Adds a customer (the site file format); they hear about the next matching incident',
        body: customerSchema,
        response: {
          201: customerViewSchema,
          400: errorResponseSchema,
          403: errorResponseSchema,
          409: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      await checkSubscriptions(request.body)
      if (!(await customers.create(request.body)))
        throw new VigieError({ code: 'CONFLICT', message: `Customer ${request.body.id} exists already` })
      return reply.status(201).send(view(request.body, true))
    },
  )

  routes.put(
    '/api/customers/:id',
    {
      config: admin,
      schema: {
        tags: ['customers'],
        summary: 'Replaces a customer: contacts, language, subscriptions and quiet hours',
        params: byId,
        body: customerSchema,
        response: {
          200: customerViewSchema,
          400: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
        },
      },
    },
    async (request) => {
      if (request.body.id !== request.params.id)
        throw new VigieError({ code: 'VALIDATION_FAILED', message: 'The body id must be the path id' })
      await checkSubscriptions(request.body)
      if (!(await customers.replace(request.body))) throw notFound(request.params.id)
      return view(request.body, true)
    },
  )

  routes.delete(
    '/api/customers/:id',
    {
      config: admin,
      schema: {
        tags: ['customers'],
        summary: 'Removes a customer: no further notices (one already queued is still sent)',
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
      if (!(await customers.remove(request.params.id))) throw notFound(request.params.id)
      return reply.status(204).send(null)
    },
  )
}
