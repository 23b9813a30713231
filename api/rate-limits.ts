import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import type { Redis } from 'ioredis'
import { z } from 'zod'
import type { Settings } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import { apiRedisKeys } from './keys.ts'

export type RateLimitSettings = Pick<
  Settings,
  'rateLimitWindow' | 'rateLimitAuthFailures' | 'rateLimitHeavy' | 'rateLimitLists'
>

/** Where the counts live: in Redis they hold across every process of a deployment. */
export type RateLimitStore = { redis: Redis; prefix: string }

/** Failed key checks counted per address; past the limit, the address is refused until its window ends. */
export type AuthFailures = {
  /** Throws RATE_LIMITED (429, with Retry-After) when the caller's address is past its failures. */
  refuseIfBlocked: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  /** Runs a key check; a refusal is counted against the caller's address, then thrown. */
  check: <T>(request: FastifyRequest, verify: () => T) => Promise<T>
}

// Routes that compute over every ticket or replay readings on each call.
const heavyRoutes = new Set([
  'GET /api/kpis',
  'GET /api/kpis/daily',
  'POST /api/rules/dry-run',
  'GET /metrics',
])

/** An IPv6 caller is its /64, which one host usually holds whole. */
export const addressOf = (request: FastifyRequest): string => normalizeIP(request.ip)

function costOf(route: RouteOptions): 'heavy' | 'list' | undefined {
  // fastify answers HEAD with the GET handler, so it costs the same.
  const methods = [route.method].flat().map((method) => (method === 'HEAD' ? 'GET' : method))
  if (methods.some((method) => heavyRoutes.has(`${method} ${route.url}`))) return 'heavy'
  // A list takes ?limit= (pagination.ts), up to 1,000 items a call.
  const query = route.schema?.querystring
  if (methods.includes('GET') && query instanceof z.ZodObject && 'limit' in query.shape) return 'list'
  return undefined
}

/**
 * @fastify/rate-limit with its state in Redis: the heavy routes and the lists get a budget per API key (per
 * address when public), and failed key checks a budget per address (issue 15). Register before the routes.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  { settings, store }: { settings: RateLimitSettings; store?: RateLimitStore },
): Promise<AuthFailures> {
  const perCaller = (request: FastifyRequest) =>
    request.principal ? `key:${request.principal.name}` : `address:${addressOf(request)}`
  const limited = (message: string) => new VigieError({ code: 'RATE_LIMITED', message })

  // Runs before the plugin's own onRoute hook, which reads config.rateLimit.
  app.addHook('onRoute', (route) => {
    const cost = costOf(route)
    if (!cost || route.config?.rateLimit !== undefined) return
    const max = cost === 'heavy' ? settings.rateLimitHeavy : settings.rateLimitLists
    route.config = {
      ...route.config,
      rateLimit: { max, timeWindow: settings.rateLimitWindow, keyGenerator: perCaller },
    }
  })
  await app.register(rateLimit, {
    global: false,
    // With global off, these parameters serve only createRateLimit() below: the failed key checks.
    max: settings.rateLimitAuthFailures,
    timeWindow: settings.rateLimitWindow,
    keyGenerator: (request) => `auth-failures:${addressOf(request)}`,
    ...(store ? { redis: store.redis, nameSpace: apiRedisKeys(store.prefix).rateLimit } : {}),
    // Redis down: let requests through rather than refuse every one.
    skipOnError: true,
    errorResponseBuilder: (_request, context) => limited(`Too many requests; retry in ${context.after}`),
  })
  const failures = app.createRateLimit()

  return {
    refuseIfBlocked: async (request, reply) => {
      const state = await failures(request, { increment: false })
      if (state.isAllowed || state.remaining > 0) return
      void reply.header('retry-after', state.ttlInSeconds)
      throw limited(`Too many refused keys from this address; retry in ${state.ttlInSeconds} s`)
    },
    check: async (request, verify) => {
      try {
        return verify()
      } catch (error) {
        await failures(request)
        throw error
      }
    },
  }
}
