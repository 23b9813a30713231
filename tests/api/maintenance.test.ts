import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createReadiness, hashApiKey } from '../../api/index.ts'
import { loadConfig } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createMaintenanceWindows, type MaintenanceWindows, ruleKeys } from '../../rules/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
const keys = { viewer: 'viewer-key-maintenance-01', dispatcher: 'dispatcher-key-maintenance' }
const as = (key: string) => ({ authorization: `Bearer ${key}` })
let app: FastifyInstance
let redis: Redis
let maintenance: MaintenanceWindows

beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  maintenance = createMaintenanceWindows({ clock: systemClock, redis, keys: ruleKeys(opened.prefix) })
  app = await buildApi({
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    apiKeys: [
      { name: 'wall', keyHash: hashApiKey(keys.viewer), role: 'viewer' },
      { name: 'console', keyHash: hashApiKey(keys.dispatcher), role: 'dispatcher' },
    ],
    readiness: createReadiness(),
    world: site,
    maintenance,
  })
  await app.ready()
})
afterAll(async () => {
  await app.close()
  await redis.quit()
})

const create = (body: unknown, key = keys.dispatcher) =>
  app.inject({ method: 'POST', url: '/api/maintenance-windows', headers: as(key), payload: body as object })

describe('maintenance windows API', () => {
  it('opens a window, lists it, shows it and ends it', async () => {
    const created = await create({
      scope: { site: 'cdg-t2', zone: 't2-lounges' },
      minutes: 90,
      reason: 'HVAC service',
    })
    expect(created.statusCode).toBe(201)
    const window = created.json()
    expect(window).toMatchObject({
      scope: { site: 'cdg-t2', zone: 't2-lounges' },
      reason: 'HVAC service',
      createdBy: 'console',
    })
    expect(Date.parse(window.endsAt) - Date.parse(window.startsAt)).toBe(90 * 60_000)

    const listed = await app.inject({
      method: 'GET',
      url: '/api/maintenance-windows?active=true',
      headers: as(keys.viewer),
    })
    expect(listed.json().items.map((w: { id: string }) => w.id)).toContain(window.id)
    const one = await app.inject({
      method: 'GET',
      url: `/api/maintenance-windows/${window.id}`,
      headers: as(keys.viewer),
    })
    expect(one.json()).toEqual(window)

    const ended = await app.inject({
      method: 'DELETE',
      url: `/api/maintenance-windows/${window.id}`,
      headers: as(keys.dispatcher),
    })
    expect(ended.statusCode).toBe(204)
    const gone = await app.inject({
      method: 'GET',
      url: `/api/maintenance-windows/${window.id}`,
      headers: as(keys.viewer),
    })
    expect(gone.statusCode).toBe(404)
    expect(gone.json().error.code).toBe('NOT_FOUND')
  })

  it('refuses an unknown zone, a window that ends before it starts, and both endsAt and minutes', async () => {
    const zone = await create({ scope: { site: 'cdg-t2', zone: 'nowhere' }, minutes: 5, reason: 'x' })
    expect(zone.statusCode).toBe(400)
    expect(zone.json().error.message).toBe('Unknown zone nowhere')
    const backwards = await create({
      scope: { site: 'cdg-t2' },
      startsAt: new Date(Date.now() + 3_600_000).toISOString(),
      endsAt: new Date(Date.now() + 60_000).toISOString(),
      reason: 'x',
    })
    expect(backwards.statusCode).toBe(400)
    const both = await create({
      scope: { site: 'cdg-t2' },
      minutes: 5,
      endsAt: new Date().toISOString(),
      reason: 'x',
    })
    expect(both.statusCode).toBe(400)
    expect(both.json().error.code).toBe('VALIDATION_FAILED')
  })

  it('lets a viewer read but not open or end a window', async () => {
    const refused = await create({ scope: { site: 'cdg-t2' }, minutes: 5, reason: 'x' }, keys.viewer)
    expect(refused.statusCode).toBe(403)
  })
})

describe('which window covers a place', () => {
  it('covers its site, zone or device only, only between its start and end, and prunes ended ones', async () => {
    const now = Date.now()
    const zone = await maintenance.create({
      scope: { site: 's9', zone: 'z1' },
      startsAt: now - 1000,
      endsAt: now + 60_000,
      reason: 'zone work',
      createdBy: 'test',
    })
    const device = await maintenance.create({
      scope: { site: 's9', device: 'd2' },
      startsAt: now + 30_000,
      endsAt: now + 90_000,
      reason: 'device work',
      createdBy: 'test',
    })
    const inZone = { site: 's9', zone: 'z1', device: 'd1' }
    const elsewhere = { site: 's9', zone: 'z2', device: 'd2' }
    expect((await maintenance.covering(inZone, now))?.id).toBe(zone.id)
    expect(await maintenance.covering({ ...inZone, site: 's8' }, now)).toBeNull()
    expect(await maintenance.covering(elsewhere, now)).toBeNull()
    expect((await maintenance.covering(elsewhere, now + 40_000))?.id).toBe(device.id)
    expect(await maintenance.covering(inZone, now + 60_000)).toBeNull()

    // A late reading sent during a window that has since ended is still covered by it, for a day.
    const ended = await maintenance.create({
      scope: { site: 's9' },
      startsAt: now - 2000,
      endsAt: now - 1,
      reason: 'ended',
      createdBy: 'test',
    })
    expect(await maintenance.covering(inZone, now - 1500)).toMatchObject({ id: ended.id })
    expect((await maintenance.list({ site: 's9' })).map((w) => w.id)).toEqual([zone.id, device.id])
    const old = await maintenance.create({
      scope: { site: 's9' },
      startsAt: now - 90_000_000,
      endsAt: now - 86_400_001,
      reason: 'long ago',
      createdBy: 'test',
    })
    expect(await maintenance.covering(inZone, now - 89_000_000)).toBeNull()
    expect(await maintenance.get(old.id)).toBeNull()
  })
})
