import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { type SiteFile, type Webhook, webhookSchema } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import { unknownEventPatterns, type WebhookAdmin, webhookAttemptSchema } from '../notifier/index.ts'
import { cursorSchema, keyPart, limitSchema, nextCursor, pageByKey, streamPosition } from './pagination.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

// The secret is write-only: no answer carries it.
const webhookViewSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  sites: z.array(z.string()).nullable(),
  origin: z.enum(['site', 'api']).meta({ description: 'site: from the site file, read-only here' }),
  paused: z.boolean(),
  failingSince: z.string().nullable().meta({ description: 'When its receiver began failing (no 2xx)' }),
})
type WebhookView = z.infer<typeof webhookViewSchema>

// A password in the URL would be logged and listed with it: receivers check the signature instead.
const webhookBodySchema = webhookSchema.refine((w) => {
  // zod runs this after a failed url check too: a URL that does not parse is refused there already.
  if (!URL.canParse(w.url)) return true
  const url = new URL(w.url)
  return url.username === '' && url.password === ''
}, 'no user name or password in the URL: the signature authenticates vigie')

/**
 * Issue 18: webhooks out, admins only. Those of the site file are listed and read-only (409); those made
 * here live in Redis. GET never returns a secret.
 */
export function registerWebhookRoutes(
  app: FastifyInstance,
  { webhooks, world }: { webhooks: WebhookAdmin; world?: Pick<SiteFile, 'sites'> },
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const admin = { access: ['admin'] as const }
  const byId = z.strictObject({ id: z.string().min(1).max(64) })
  const notFound = (id: string) => new VigieError({ code: 'NOT_FOUND', message: `No webhook ${id}` })
  const readOnly = (id: string) =>
    new VigieError({ code: 'CONFLICT', message: `Webhook ${id} comes from the site file: change it there` })
  const errors = {
    400: errorResponseSchema,
    401: errorResponseSchema,
    403: errorResponseSchema,
    404: errorResponseSchema,
    409: errorResponseSchema,
  }

  async function view(webhook: Webhook, origin: 'site' | 'api'): Promise<WebhookView> {
    const { failingSince, pausedAt } = await webhooks.health.state(webhook.id)
    return {
      id: webhook.id,
      url: webhook.url,
      events: webhook.events,
      sites: webhook.sites ?? null,
      origin,
      paused: pausedAt !== null,
      failingSince: failingSince === null ? null : new Date(failingSince).toISOString(),
    }
  }

  async function found(id: string) {
    const hit = await webhooks.registry.get(id)
    if (!hit) throw notFound(id)
    return hit
  }

  // A webhook for an event type or a site that does not exist would silently never fire.
  function check(webhook: Webhook) {
    const problems = [
      ...unknownEventPatterns(webhook.events).map((p) => ({
        path: 'body.events',
        message: `no event type "${p}"`,
      })),
      ...(webhook.sites ?? [])
        .filter((id) => world && !world.sites.some((s) => s.id === id))
        .map((id) => ({ path: 'body.sites', message: `no site "${id}"` })),
    ]
    if (problems.length > 0)
      throw new VigieError({
        code: 'VALIDATION_FAILED',
        message: problems.map((p) => p.message).join('; '),
        details: problems,
      })
  }

  routes.get(
    '/api/webhooks',
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Webhooks out, the site file’s and the API’s, by id (no secret); page with cursor',
        querystring: z.strictObject({ limit: limitSchema, cursor: cursorSchema(z.tuple([keyPart])) }),
        response: { 200: listSchema(webhookViewSchema), ...errors },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query
      const page = pageByKey(await webhooks.registry.all(), ({ webhook }) => [webhook.id], {
        limit,
        after: cursor,
      })
      return { items: await Promise.all(page.items.map((w) => view(w.webhook, w.origin))), next: page.next }
    },
  )

  routes.get(
    '/api/webhooks/:id',
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'One webhook (no secret)',
        params: byId,
        response: { 200: webhookViewSchema, ...errors },
      },
    },
    async (request) => {
      const { webhook, origin } = await found(request.params.id)
      return view(webhook, origin)
    },
  )

  routes.post(
    '/api/webhooks',
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Adds a webhook (the site file format): the next matching events are POSTed to it',
        body: webhookBodySchema,
        response: { 201: webhookViewSchema, ...errors },
      },
    },
    async (request, reply) => {
      check(request.body)
      if (!(await webhooks.registry.create(request.body)))
        throw new VigieError({ code: 'CONFLICT', message: `Webhook ${request.body.id} exists already` })
      return reply.status(201).send(await view(request.body, 'api'))
    },
  )

  routes.put(
    '/api/webhooks/:id',
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Replaces a webhook made through the API (secret included); the site file’s answer 409',
        params: byId,
        body: webhookBodySchema,
        response: { 200: webhookViewSchema, ...errors },
      },
    },
    async (request) => {
      if (request.body.id !== request.params.id)
        throw new VigieError({ code: 'VALIDATION_FAILED', message: 'The body id must be the path id' })
      if ((await found(request.params.id)).origin === 'site') throw readOnly(request.params.id)
      check(request.body)
      if (!(await webhooks.registry.replace(request.body))) throw notFound(request.params.id)
      return view(request.body, 'api')
    },
  )

  routes.delete(
    '/api/webhooks/:id',
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Removes a webhook made through the API: what it has queued is dropped',
        params: byId,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      if ((await found(request.params.id)).origin === 'site') throw readOnly(request.params.id)
      if (!(await webhooks.registry.remove(request.params.id))) throw notFound(request.params.id)
      return reply.status(204).send(null)
    },
  )

  routes.get(
    '/api/webhooks/:id/deliveries',
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'The webhook’s newest attempts (status or error, latency), newest first; page with cursor',
        params: byId,
        querystring: z.strictObject({ limit: limitSchema, cursor: cursorSchema(streamPosition) }),
        response: { 200: listSchema(webhookAttemptSchema), ...errors },
      },
    },
    async (request) => {
      await found(request.params.id)
      const { limit, cursor } = request.query
      const page = await webhooks.attempts.page(request.params.id, { limit, before: cursor })
      return { items: page.items, next: nextCursor(page.next) }
    },
  )

  routes.post(
    '/api/webhooks/:id/deliveries/:delivery/redeliver',
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Sends a delivery again (same X-Vigie-Delivery), after what its ticket has queued',
        params: byId.extend({ delivery: z.string().regex(/^[0-9a-f]{32}$/, 'a delivery id') }),
        body: z.strictObject({}).nullish(),
        response: { 202: z.object({ delivery: z.string(), queued: z.boolean() }), ...errors },
      },
    },
    async (request, reply) => {
      const { id, delivery } = request.params
      await found(id)
      if (!(await webhooks.redeliver(id, delivery)))
        throw new VigieError({ code: 'NOT_FOUND', message: `No delivery ${delivery} kept for webhook ${id}` })
      return reply.status(202).send({ delivery, queued: true })
    },
  )

  routes.post(
    '/api/webhooks/:id/resume',
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Resumes a paused webhook: what was held goes out, each ticket’s in order',
        params: byId,
        body: z.strictObject({}).nullish(),
        response: { 200: z.object({ resumed: z.boolean() }), ...errors },
      },
    },
    async (request) => {
      await found(request.params.id)
      return { resumed: await webhooks.resume(request.params.id) }
    },
  )
}
