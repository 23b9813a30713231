import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { maskEmail, maskPhone } from '../domain/index.ts'
import {
  type NotificationStore,
  notificationSchema,
  phoneOfAddress,
  whatsappAddress,
} from '../notifier/index.ts'
import { cursorSchema, limitSchema, nextCursor, scoredPosition } from './pagination.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

/** DESIGN.md § HTTP API: notifications, with the recipient's address masked. */
export function registerNotificationRoutes(app: FastifyInstance, notifications: NotificationStore): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary:
          "A ticket's notifications oldest first, or without ticket the latest of all newest first: channel, recipient (masked), status, attempts",
        querystring: z.object({
          ticket: z.string().min(1).max(64).optional(),
          limit: limitSchema,
          cursor: cursorSchema(scoredPosition),
        }),
        response: { 200: listSchema(notificationSchema), 400: errorResponseSchema, 401: errorResponseSchema },
      },
    },
    async (request) => {
      const { ticket, limit, cursor } = request.query
      const page = await notifications.page({ ticket, limit, after: cursor })
      return {
        items: page.items.map((n) => ({
          ...n,
          to:
            n.channel === 'email'
              ? maskEmail(n.to)
              : n.channel === 'whatsapp'
                ? whatsappAddress(maskPhone(phoneOfAddress(n.to)))
                : maskPhone(n.to),
        })),
        next: nextCursor(page.next),
      }
    },
  )
}
