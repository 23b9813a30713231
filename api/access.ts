import type { FastifyInstance } from 'fastify'
import type { Role } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import type { ApiKeyVerifier, Principal } from './api-key-auth.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'public' needs no key; a role list admits those roles (and admin); absent admits any valid key. */
    access?: 'public' | readonly Role[]
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

/** Checks the API key of every request, unknown routes included, before anything else runs. */
export function registerAccessControl(app: FastifyInstance, verify: ApiKeyVerifier): void {
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access
    if (access === 'public') return
    const principal = verify(request.headers.authorization)
    request.principal = principal
    if (Array.isArray(access) && principal.role !== 'admin' && !access.includes(principal.role)) {
      throw new VigieError({ code: 'AUTH_FORBIDDEN', message: `Role ${principal.role} may not do this` })
    }
  })
}
