import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { type FailedWorkLog, failedWorkSchema } from '../streams/index.ts'
import { cursorSchema, limitSchema, nextCursor, streamPosition } from './pagination.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

/** Issue 16: the stream entries vigie gave up on, with their reason, for whoever runs it. */
export function registerFailedWorkRoutes(app: FastifyInstance, failedWork: FailedWorkLog): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/failed-work',
    {
      // Entries hold what devices and events said, contacts included: admins only.
      config: { access: ['admin'] },
      schema: {
        tags: ['operations'],
        summary: 'Readings and events given up after their retries, with the reason, newest first',
        querystring: z.object({ limit: limitSchema, cursor: cursorSchema(streamPosition) }),
        response: {
          200: listSchema(failedWorkSchema),
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query
      const page = await failedWork.page({ limit, before: cursor })
      return { items: page.items, next: nextCursor(page.next) }
    },
  )
}
