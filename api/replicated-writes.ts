import type { FastifyInstance } from 'fastify'

const reads = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Acknowledged means replicated (issue 17): a request that may have written (any method but GET, HEAD and
 * OPTIONS, answered below 400) gets its answer only once Redis replicas hold what the API's connection
 * wrote; too few replicas answer 503 instead, and the caller sends it again (Twilio does; our writes dedupe).
 */
export function registerReplicatedWrites(app: FastifyInstance, replicated: () => Promise<void>): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (reads.has(request.method) || reply.statusCode >= 400) return payload
    await replicated()
    return payload
  })
}
