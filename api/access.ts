import type { FastifyInstance } from 'fastify'
import type { Role } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import type { ApiKeyVerifier, Principal } from './api-key-auth.ts'
import type { AuthFailures } from './rate-limits.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'public' needs no key; a role list admits those roles (and admin); absent admits any valid key. */
    access?: 'public' | readonly Role[]
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

/**
 * Browsers cannot set headers on a WebSocket: they offer the key as a subprotocol, `['vigie', key]`,
 * which no log line records (a query string would be).
 */
export function keyOfWebSocket(headers: Record<string, string | string[] | undefined>): string | undefined {
  const offered = headers['sec-websocket-protocol']
  if (typeof offered !== 'string' || headers.upgrade !== 'websocket') return undefined
  const [name, key] = offered.split(',').map((part) => part.trim())
  return name === 'vigie' && key ? `Bearer ${key}` : undefined
}

/**
 * Checks the API key of every request, unknown routes included, before anything else runs; an address past
 * its failed checks of the window is refused, its good keys too (issue 15).
 */
export function registerAccessControl(
  app: FastifyInstance,
  verify: ApiKeyVerifier,
  failures: AuthFailures,
): void {
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.access
    if (access === 'public') return
    await failures.refuseIfBlocked(request, reply)
    const principal = await failures.check(request, () => verify(request.headers.authorization))
    request.principal = principal
    if (Array.isArray(access) && principal.role !== 'admin' && !access.includes(principal.role)) {
      throw new VigieError({ code: 'AUTH_FORBIDDEN', message: `Role ${principal.role} may not do this` })
    }
  })
}
