import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Readiness } from './readiness.ts'

const checksSchema = z.record(z.string(), z.enum(['up', 'down']))

export function registerHealthRoutes(app: FastifyInstance, readiness: Readiness): void {
  const routes = app.withTypeProvider<ZodTypeProvider>()

  routes.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'The process is alive',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  )

  routes.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Ready once every role this process runs is working (503 naming those that are not)',
        response: {
          200: z.object({ status: z.literal('ready'), checks: checksSchema }),
          503: z.object({
            error: z.object({ code: z.literal('NOT_READY'), message: z.string() }),
            checks: checksSchema,
          }),
        },
      },
    },
    async (_request, reply) => {
      const { ready, checks } = await readiness.check()
      if (ready) return { status: 'ready' as const, checks }
      const down = Object.keys(checks).filter((name) => checks[name] === 'down')
      return reply.status(503).send({
        error: { code: 'NOT_READY' as const, message: `Not ready: ${down.join(', ')} down` },
        checks,
      })
    },
  )
}
