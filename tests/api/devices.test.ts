import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildApi, createReadiness, hashApiKey } from '../../api/index.ts'
import type { DeviceKind } from '../../domain/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createIngest, type Ingest } from '../../ingest/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

const keys = { admin: 'admin-key-0123456789abcdef', dispatcher: 'dispatcher-key-0123456789' }
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })
const asAdmin = bearer(keys.admin)

let redis: Redis
let prefix: string
let ingest: Ingest
let app: FastifyInstance

beforeEach(async () => {
  ;({ redis, prefix } = await openTestRedis())
  const log = createLogger({ level: 'silent' })
  ingest = createIngest({
    clock: systemClock,
    redis,
    settings: {
      redisPrefix: prefix,
      logShards: 4,
      readingsRetention: 1000,
      deviceReadingsRetention: 100,
      deadLetterRetention: 100,
    },
    log,
  })
  app = await buildApi({
    clock: systemClock,
    log,
    apiKeys: [{ name: 'console', keyHash: hashApiKey(keys.dispatcher), role: 'dispatcher' }],
    adminKey: keys.admin,
    readiness: createReadiness(),
    ingest,
  })
  await app.ready()
})

afterEach(async () => {
  await app.close()
  await redis.quit()
})

const door = { id: 'door-gate-12', kind: 'door', site: 'cdg-t2', zone: 't2-gates', name: 'Gate 12 door' }

function provision(device: Record<string, unknown>, headers = asAdmin) {
  return app.inject({ method: 'POST', url: '/api/devices', headers, payload: device })
}

function feed(deviceId: string, kind: DeviceKind, payload: unknown, receivedAt: number) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload)
  return ingest.accept({
    topic: `devices/${deviceId}/telemetry`,
    payload: Buffer.from(body),
    receivedAt,
    kind,
  })
}

/** Everything stored under the test's prefix, read value by value (DUMP may compress a string). */
async function storedText(): Promise<string> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    for (const key of batch) {
      const type = await redis.type(key)
      const value =
        type === 'hash'
          ? await redis.hgetall(key)
          : type === 'set'
            ? await redis.smembers(key)
            : type === 'zset'
              ? await redis.zrange(key, 0, -1, 'WITHSCORES')
              : type === 'stream'
                ? await redis.xrange(key, '-', '+')
                : type === 'list'
                  ? await redis.lrange(key, 0, -1)
                  : await redis.get(key)
      found.push(key, JSON.stringify(value))
    }
  } while (cursor !== '0')
  return found.join('\n')
}

describe('POST /api/devices', () => {
  it('answers 201 with the device and a secret that authenticates and is stored only hashed', async () => {
    const res = await provision({ ...door, location: { lat: 49.0041, lon: 2.5702 } })
    expect(res.statusCode).toBe(201)
    const { device, secret } = res.json()
    expect(device).toEqual({
      ...door,
      location: { lat: 49.0041, lon: 2.5702 },
      links: null,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    })
    expect(secret).toMatch(/^vgs_[\w-]{49}$/)
    expect(await ingest.registry.authenticate(door.id, secret)).toMatchObject({ id: door.id, kind: 'door' })
    expect(await ingest.registry.authenticate(door.id, `${secret}x`)).toBeNull()

    const stored = await storedText()
    expect(stored).toContain(`${prefix}device:${door.id}`)
    // An issued secret holds 256 random bits: one keyed hash stores it as safely as scrypt would.
    expect(stored).toContain('hmac-sha256$')
    expect(stored).not.toContain(secret)
  })

  it('refuses an id that exists with 409, and keeps the first secret', async () => {
    const { secret } = (await provision(door)).json()
    const again = await provision({ ...door, name: 'Impostor' })
    expect(again.statusCode).toBe(409)
    expect(again.json()).toEqual({ error: { code: 'CONFLICT', message: `Device ${door.id} already exists` } })
    expect(await ingest.registry.authenticate(door.id, secret)).toMatchObject({ name: door.name })
  })

  it('is for admins only', async () => {
    const res = await provision(door, bearer(keys.dispatcher))
    expect(res.statusCode).toBe(403)
    expect(res.json()).toEqual({
      error: { code: 'AUTH_FORBIDDEN', message: 'Role dispatcher may not do this' },
    })
    expect(await ingest.registry.get(door.id)).toBeNull()
  })

  it('answers a bad body with 400 VALIDATION_FAILED naming each problem, a secret included', async () => {
    const res = await provision({ id: 'bad id!', kind: 'toaster', site: 'cdg-t2', secret: 'chosen-by-me' })
    expect(res.statusCode).toBe(400)
    const { error } = res.json()
    expect(error.code).toBe('VALIDATION_FAILED')
    expect(error.message).toBe('Invalid body')
    expect(error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'body',
      'body.id',
      'body.kind',
    ])
    expect(await ingest.registry.list()).toEqual([])
  })
})

describe('GET /api/devices/:id', () => {
  it('answers 404 with the error shape for an unknown device', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/devices/nobody',
      headers: bearer(keys.dispatcher),
    })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No device nobody' } })
  })

  it('shows online, lastSeen, the latest readings and the dead-letter count, never the secret hash', async () => {
    const { secret } = (await provision(door)).json()
    const fresh = (
      await app.inject({ method: 'GET', url: `/api/devices/${door.id}`, headers: asAdmin })
    ).json()
    expect(fresh).toMatchObject({
      online: false,
      lastSeen: null,
      statusAt: null,
      latest: null,
      latestByType: {},
    })

    const t0 = Date.parse('2030-01-01T08:00:00.000Z')
    await ingest.accept({
      topic: `devices/${door.id}/status`,
      payload: Buffer.from('online'),
      receivedAt: t0,
    })
    expect(await feed(door.id, 'door', { type: 'heartbeat', battery: 90 }, t0 + 1000)).toBe('appended')
    expect(await feed(door.id, 'door', { type: 'door', open: true, badge: 'b-7' }, t0 + 2000)).toBe(
      'appended',
    )
    expect(await feed(door.id, 'door', { type: 'temperature', celsius: 20 }, t0 + 3000)).toBe('dead-letter')

    const res = await app.inject({
      method: 'GET',
      url: `/api/devices/${door.id}`,
      headers: bearer(keys.dispatcher),
    })
    expect(res.statusCode).toBe(200)
    const doorReading = {
      device: door.id,
      type: 'door',
      open: true,
      badge: 'b-7',
      ts: '2030-01-01T08:00:02.000Z',
    }
    expect(res.json()).toEqual({
      ...door,
      location: null,
      links: null,
      createdAt: fresh.createdAt,
      online: true,
      statusAt: '2030-01-01T08:00:00.000Z',
      lastSeen: '2030-01-01T08:00:02.000Z',
      latest: doorReading,
      latestByType: {
        door: doorReading,
        heartbeat: { device: door.id, type: 'heartbeat', battery: 90, ts: '2030-01-01T08:00:01.000Z' },
      },
      deadLetters: 1,
    })
    expect(res.body).not.toContain('hmac-sha256')
    expect(res.body).not.toContain(secret)
  })
})

describe('GET /api/devices/:id/readings', () => {
  it('lists readings newest first, up to the limit, and pages on from next', async () => {
    await provision(door)
    const t0 = Date.parse('2030-01-01T08:00:00.000Z')
    for (let seq = 1; seq <= 5; seq++)
      await feed(door.id, 'door', { type: 'door', open: seq % 2 === 1, seq }, t0 + seq)

    const url = `/api/devices/${door.id}/readings`
    const three = await app.inject({ method: 'GET', url: `${url}?limit=3`, headers: bearer(keys.dispatcher) })
    expect(three.statusCode).toBe(200)
    expect(three.json()).toEqual({
      items: [5, 4, 3].map((seq) => ({
        device: door.id,
        type: 'door',
        open: seq % 2 === 1,
        seq,
        ts: new Date(t0 + seq).toISOString(),
      })),
      next: expect.any(String),
    })
    const rest = await app.inject({
      method: 'GET',
      url: `${url}?limit=3&cursor=${three.json().next}`,
      headers: bearer(keys.dispatcher),
    })
    expect(rest.json().items.map((r: { seq: number }) => r.seq)).toEqual([2, 1])
    expect(rest.json().next).toBeNull()
    const all = (await app.inject({ method: 'GET', url, headers: asAdmin })).json()
    expect(all.items.map((r: { seq: number }) => r.seq)).toEqual([5, 4, 3, 2, 1])
  })

  it('refuses a limit outside 1..1000 and answers 404 for an unknown device', async () => {
    await provision(door)
    for (const limit of ['0', '1001', 'ten']) {
      const res = await app.inject({
        method: 'GET',
        url: `/api/devices/${door.id}/readings?limit=${limit}`,
        headers: asAdmin,
      })
      expect([res.statusCode, res.json().error.code]).toEqual([400, 'VALIDATION_FAILED'])
    }
    const unknown = await app.inject({ method: 'GET', url: '/api/devices/nobody/readings', headers: asAdmin })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().error.code).toBe('NOT_FOUND')
  })
})

describe('GET /api/dead-letters', () => {
  it("lists bad input newest first, everyone's or one device's", async () => {
    await provision(door)
    await provision({ id: 'temp-lounge-9', kind: 'temperature', site: 'cdg-t2' })
    const t0 = Date.parse('2030-01-01T08:00:00.000Z')
    await feed(door.id, 'door', '{"type":"door"', t0)
    await feed('temp-lounge-9', 'temperature', { type: 'temperature', celsius: 900 }, t0 + 1)
    await feed(door.id, 'door', { type: 'door', open: 'yes' }, t0 + 2)

    const res = await app.inject({
      method: 'GET',
      url: `/api/dead-letters?device=${door.id}`,
      headers: asAdmin,
    })
    expect(res.statusCode).toBe(200)
    const { items, next } = res.json()
    expect(next).toBeNull()
    expect(items).toEqual([
      {
        device: door.id,
        topic: `devices/${door.id}/telemetry`,
        reason: expect.stringContaining('open'),
        receivedAt: '2030-01-01T08:00:00.002Z',
        payload: '{"type":"door","open":"yes"}',
      },
      {
        device: door.id,
        topic: `devices/${door.id}/telemetry`,
        reason: expect.stringMatching(/^not JSON/),
        receivedAt: '2030-01-01T08:00:00.000Z',
        payload: '{"type":"door"',
      },
    ])

    const everyone = (
      await app.inject({ method: 'GET', url: '/api/dead-letters?limit=2', headers: asAdmin })
    ).json()
    expect(everyone.items.map((l: { device: string }) => l.device)).toEqual([door.id, 'temp-lounge-9'])
  })
})

describe('GET /api/devices', () => {
  it('lists every device by id, with no secrets', async () => {
    await provision({ id: 'temp-lounge-9', kind: 'temperature', site: 'cdg-t2' })
    await provision(door)
    const res = await app.inject({ method: 'GET', url: '/api/devices', headers: bearer(keys.dispatcher) })
    expect(res.statusCode).toBe(200)
    const { items, next } = res.json()
    expect(next).toBeNull()
    expect(items.map((d: { id: string }) => d.id)).toEqual([door.id, 'temp-lounge-9'])
    expect(items[1]).toEqual({
      id: 'temp-lounge-9',
      kind: 'temperature',
      site: 'cdg-t2',
      zone: null,
      name: null,
      location: null,
      links: null,
      createdAt: expect.any(String),
    })
    expect(res.body).not.toContain('hmac-sha256')
  })

  it('documents the device routes in OpenAPI', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json' })
    expect(Object.keys(res.json().paths)).toEqual(
      expect.arrayContaining([
        '/api/devices',
        '/api/devices/{id}',
        '/api/devices/{id}/readings',
        '/api/dead-letters',
      ]),
    )
  })
})
