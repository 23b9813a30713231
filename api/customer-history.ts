import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { maskEmail, maskPhone, VigieError } from '../domain/index.ts'
import {
  type CustomerBook,
  type CustomerHistory,
  type CustomerHistoryEntry,
  customerHistoryEntrySchema,
} from '../notifier/index.ts'
import { cursorSchema, limitSchema, nextCursor, scoredPosition } from './pagination.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

// A message's address is personal data: shown whole to admins only, as the customer routes do.
const masked = (entry: CustomerHistoryEntry): CustomerHistoryEntry =>
  entry.kind === 'message'
    ? { ...entry, to: entry.channel === 'email' ? maskEmail(entry.to) : maskPhone(entry.to) }
    : entry

/**
 * DESIGN.md § Contract added by wave 2, GET /api/customers/:id/history (issue 18): one timeline, newest
 * first, of the tickets that concerned a customer, the messages sent to them with their outcome, their
 * answers and their contacts with support, read through the customer's history index.
 */
export function registerCustomerHistoryRoutes(
  app: FastifyInstance,
  { customers, history }: { customers: Pick<CustomerBook, 'get'>; history: CustomerHistory },
): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/customers/:id/history',
    {
      config: { access: ['dispatcher'] },
      schema: {
        tags: ['customers'],
        summary:
          "A customer's timeline, newest first: tickets, messages with channel and outcome, answers, contacts with support; page with cursor",
        params: z.object({ id: z.string().min(1).max(64) }),
        querystring: z.strictObject({ limit: limitSchema, cursor: cursorSchema(scoredPosition) }),
        response: {
          200: listSchema(customerHistoryEntrySchema),
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { id } = request.params
      if (!(await customers.get(id)))
        throw new VigieError({ code: 'NOT_FOUND', message: `No customer ${id}` })
      const { limit, cursor } = request.query
      const page = await history.page(id, { limit, after: cursor })
      const unmasked = request.principal?.role === 'admin'
      return { items: unmasked ? page.items : page.items.map(masked), next: nextCursor(page.next) }
    },
  )
}
