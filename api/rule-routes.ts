import type { FastifyInstance, FastifyReply } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { SiteFile } from '../config/index.ts'
import type { Clock } from '../domain/index.ts'
import { createDryRunThread } from './dry-run-thread.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

type World = Pick<SiteFile, 'sites' | 'devices' | 'rules'>

const incidentSchema = z.object({
  rule: z.string(),
  correlationKey: z.string(),
  site: z.string(),
  zone: z.string().nullable(),
  device: z.string().nullable(),
  severity: z.enum(['critical', 'major', 'minor', 'info']),
  openedAt: z.string(),
  updates: z.number().int(),
  clearedAt: z.string().nullable(),
})

/** DESIGN.md § HTTP API, rules part: the rules in force, and a dry run with no side effects. */
export function registerRuleRoutes(
  app: FastifyInstance,
  { world, clock }: { world: World; clock: Clock },
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  // Off the event loop: a big site's replay takes longer than the loop's 50 ms budget (issue 16).
  const thread = createDryRunThread({ world })
  app.addHook('onClose', thread.close)

  routes.get(
    '/api/rules',
    {
      schema: {
        tags: ['rules'],
        summary: 'The rules in force, with durations in milliseconds and conditions normalised',
        response: { 200: listSchema(z.record(z.string(), z.unknown())), 401: errorResponseSchema },
      },
    },
    async () => ({ items: world.rules, next: null }),
  )

  // The body stays text here and is parsed in the thread: JSON.parse of 1 MiB would hold the loop itself.
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    )
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/rules/dry-run',
      {
        schema: {
          tags: ['rules'],
          summary:
            'Replays up to 100,000 readings (a 1 MiB body: { readings: [{ device, ts, ...payload }], until? }) through the rules in a worker thread and lists the incidents that would open; writes nothing; 503 past 30 s',
          response: {
            200: z.object({
              incidents: z.array(incidentSchema),
              rejected: z.array(z.object({ index: z.number().int(), reason: z.string() })),
            }),
            400: errorResponseSchema,
            401: errorResponseSchema,
          },
        },
      },
      // Sent as the thread wrote it: validating and serializing thousands of incidents here held the loop 70 ms.
      async (request, reply) => {
        const json = await thread.run(String(request.body ?? ''), clock.now())
        // The plain reply, and a serializer for this answer only: its body is JSON text already.
        return (reply as FastifyReply)
          .type('application/json; charset=utf-8')
          .serializer((payload: unknown) => String(payload))
          .send(json)
      },
    )
  })
}
