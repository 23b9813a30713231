import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { VigieError } from '../domain/index.ts'
import { type IncidentStore, incidentSchema } from '../rules/index.ts'
import { cursorSchema, limitSchema, pageOf, scoredPosition } from './pagination.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

/** Incidents as the rule workers opened them, newest first. */
export function registerIncidentRoutes(
  app: FastifyInstance,
  incidents: Pick<IncidentStore, 'list' | 'get'>,
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>()

  routes.get(
    '/api/incidents',
    {
      schema: {
        tags: ['incidents'],
        summary: 'Incidents, newest first; page on with cursor=next',
        querystring: z.object({ limit: limitSchema, cursor: cursorSchema(scoredPosition) }),
        response: { 200: listSchema(incidentSchema), 400: errorResponseSchema, 401: errorResponseSchema },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query
      // An incident's score in the sorted set is its opening time.
      return pageOf(await incidents.list(limit + 1, cursor), limit, (i) => [Date.parse(i.openedAt), i.id])
    },
  )

  routes.get(
    '/api/incidents/:id',
    {
      schema: {
        tags: ['incidents'],
        summary: 'One incident',
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 200: incidentSchema, 401: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const incident = await incidents.get(request.params.id)
      if (!incident) throw new VigieError({ code: 'NOT_FOUND', message: `No incident ${request.params.id}` })
      return incident
    },
  )
}
