import type { FastifyInstance } from 'fastify'
import { maskPersonalText } from '../domain/index.ts'

const quietPaths = new Set(['/healthz', '/readyz', '/metrics'])

/** One line per request instead of fastify's two; probes only at debug; tokens in /t/ links never logged. */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    const line = {
      method: request.method,
      url: maskPersonalText(request.url.replace(/^\/t\/[^/?]+/, '/t/[redacted]')),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      ...(request.principal ? { key: request.principal.name } : {}),
    }
    if (quietPaths.has(path)) request.log.debug(line, 'request')
    else request.log.info(line, 'request')
  })
}
