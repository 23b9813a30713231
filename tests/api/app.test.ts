import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { buildApi, createReadiness, hashApiKey } from '../../api/index.ts'
import { systemClock, VigieError } from '../../domain/index.ts'
import { createLogger, openClient } from '../../service/index.ts'
import { openTestRedis, testRedisUrl } from '../support/redis.ts'

const keys = {
  admin: 'admin-key-0123456789abcdef',
  dispatcher: 'dispatcher-key-0123456789',
  viewer: 'viewer-key-0123456789ab',
}
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

let app: FastifyInstance
let redis: Redis
let downClient: Redis | undefined

beforeAll(async () => {
  ;({ redis } = await openTestRedis())
  const readiness = createReadiness()
  readiness.add('redis', async () => (await redis.ping()) === 'PONG')
  // A second check the test can turn off by closing its client, as when Redis goes away.
  readiness.add('queue', async () => (downClient ? (await downClient.ping()) === 'PONG' : true))
  app = await buildApi({
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    apiKeys: [
      { name: 'console', keyHash: hashApiKey(keys.dispatcher), role: 'dispatcher' },
      { name: 'wallboard', keyHash: hashApiKey(keys.viewer), role: 'viewer' },
    ],
    adminKey: keys.admin,
    readiness,
    bodyLimit: 1024,
  })
  const routes = app.withTypeProvider<ZodTypeProvider>()
  routes.post(
    '/api/test/echo',
    {
      config: { access: ['dispatcher'] },
      schema: { body: z.strictObject({ name: z.string().min(2), count: z.number().int() }) },
    },
    async (request) => ({ ok: true, name: request.body.name }),
  )
  routes.get('/api/test/conflict', async () => {
    throw new VigieError({ code: 'CONFLICT', message: 'Ticket is resolved', details: { status: 'resolved' } })
  })
  routes.get('/api/test/crash', async () => {
    throw new Error('database password is hunter2')
  })
  await app.ready()
})

afterAll(async () => {
  await app.close()
  await redis.quit()
})

describe('health', () => {
  it('answers /healthz without a key', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ok' })
  })

  it('answers /readyz 200 when every check is up, 503 naming the one that is down', async () => {
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({ status: 'ready', checks: { redis: 'up', queue: 'up' } })

    downClient = await openClient(testRedisUrl(), 5000)
    downClient.disconnect()
    const notReady = await app.inject({ method: 'GET', url: '/readyz' })
    downClient = undefined
    expect(notReady.statusCode).toBe(503)
    expect(notReady.json()).toEqual({
      error: { code: 'NOT_READY', message: 'Not ready: queue down' },
      checks: { redis: 'up', queue: 'down' },
    })
  })
})

describe('API keys', () => {
  it('refuses a request without a key with 401 and the error shape', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/test/echo', payload: { name: 'ab', count: 1 } })
    expect(res.statusCode).toBe(401)
    expect(res.json()).toEqual({
      error: { code: 'AUTH_MISSING_KEY', message: 'An API key is required: Authorization: Bearer <key>' },
    })
  })

  it('refuses a wrong key with 401', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/test/conflict', headers: bearer('not-a-key') })
    expect(res.statusCode).toBe(401)
    expect(res.json().error.code).toBe('AUTH_INVALID_KEY')
  })

  it('refuses a role the route does not admit with 403', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/test/echo',
      headers: bearer(keys.viewer),
      payload: { name: 'ab', count: 1 },
    })
    expect(res.statusCode).toBe(403)
    expect(res.json()).toEqual({ error: { code: 'AUTH_FORBIDDEN', message: 'Role viewer may not do this' } })
  })

  it('admits the role the route names, and admin everywhere', async () => {
    for (const key of [keys.dispatcher, keys.admin]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/test/echo',
        headers: bearer(key),
        payload: { name: 'ab', count: 1 },
      })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ ok: true, name: 'ab' })
    }
  })

  it('hides unknown routes from callers without a key', async () => {
    const anonymous = await app.inject({ method: 'GET', url: '/api/nothing-here' })
    expect(anonymous.statusCode).toBe(401)
    const known = await app.inject({ method: 'GET', url: '/api/nothing-here', headers: bearer(keys.viewer) })
    expect(known.statusCode).toBe(404)
    expect(known.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No route GET /api/nothing-here' } })
  })
})

describe('errors', () => {
  it('answers a body that fails its schema with 400 and each problem', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/test/echo',
      headers: bearer(keys.dispatcher),
      payload: { name: 'a', count: 1.5, extra: true },
    })
    expect(res.statusCode).toBe(400)
    const { error } = res.json()
    expect(error.code).toBe('VALIDATION_FAILED')
    expect(error.message).toBe('Invalid body')
    expect(error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'body',
      'body.count',
      'body.name',
    ])
  })

  it('answers malformed JSON with 400, too large with 413, wrong type with 415', async () => {
    const base = {
      method: 'POST' as const,
      url: '/api/test/echo',
      headers: { ...bearer(keys.dispatcher), 'content-type': 'application/json' },
    }
    const malformed = await app.inject({ ...base, payload: '{"name":' })
    expect([malformed.statusCode, malformed.json().error.code]).toEqual([400, 'BAD_REQUEST'])
    const large = await app.inject({ ...base, payload: JSON.stringify({ name: 'x'.repeat(2000), count: 1 }) })
    expect([large.statusCode, large.json().error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE'])
    const text = await app.inject({
      ...base,
      headers: { ...base.headers, 'content-type': 'text/plain' },
      payload: 'hi',
    })
    expect([text.statusCode, text.json().error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE'])
  })

  it('passes a VigieError through with its status, message and details', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/test/conflict', headers: bearer(keys.viewer) })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toEqual({
      error: { code: 'CONFLICT', message: 'Ticket is resolved', details: { status: 'resolved' } },
    })
  })

  it('answers an unexpected failure with 500 and says nothing of its cause', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/test/crash', headers: bearer(keys.viewer) })
    expect(res.statusCode).toBe(500)
    expect(res.json()).toEqual({ error: { code: 'INTERNAL', message: 'Internal error' } })
  })
})

describe('OpenAPI', () => {
  it('is served at /docs without a key and lists the routes', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json' })
    expect(res.statusCode).toBe(200)
    expect(Object.keys(res.json().paths)).toEqual(
      expect.arrayContaining(['/healthz', '/readyz', '/api/test/echo']),
    )
  })
})
