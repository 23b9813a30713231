import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { maskEmail, maskPhone } from '../domain/index.ts'
import { type NotificationStore, notificationSchema } from '../notifier/index.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

/** DESIGN.md § HTTP API: a ticket's notifications, with the recipient's address masked. */
export function registerNotificationRoutes(app: FastifyInstance, notifications: NotificationStore): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: "A ticket's notifications: channel, recipient (masked), status, attempts",
        querystring: z.object({ ticket: z.string().min(1).max(64) }),
        response: { 200: listSchema(notificationSchema), 400: errorResponseSchema, 401: errorResponseSchema },
      },
    },
    async (request) => ({
      items: (await notifications.ofTicket(request.query.ticket)).map((n) => ({
        ...n,
        to: n.channel === 'email' ? maskEmail(n.to) : maskPhone(n.to),
      })),
      next: null,
    }),
  )
}
