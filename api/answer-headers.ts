import type { FastifyInstance } from 'fastify'

const apiPaths = new Set(['/metrics', '/healthz', '/readyz'])

/**
 * API answers, refusals included, are never sniffed as another type nor kept by a cache (issue 15). The
 * console's files and the technician page set their own.
 */
export function registerAnswerHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? ''
    if (path.startsWith('/api/') || apiPaths.has(path))
      void reply.headers({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' })
  })
}
