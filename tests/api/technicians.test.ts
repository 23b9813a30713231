import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createReadiness, hashApiKey } from '../../api/index.ts'
import { loadConfig } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import {
  createDispatcher,
  createIncidentStore,
  createTechnicianRoster,
  createTicketStore,
  type Dispatcher,
  type IncidentStore,
  ruleKeys,
  type TicketStore,
} from '../../rules/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
const keys = {
  dispatcher: 'dispatcher-key-techs-0123',
  amina: 'amina-key-techs-012345678',
  admin: 'admin-key-techs-0123456789',
}
const as = (key: string) => ({ authorization: `Bearer ${key}` })
let app: FastifyInstance
let redis: Redis
let prefix = ''
let incidents: IncidentStore
let tickets: TicketStore
let dispatcher: Dispatcher
// Every ticket of these tests is at this spot: a technician created right there is the nearest.
const spot = { lat: 49.0101, lon: 2.5601 }

beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  prefix = opened.prefix
  const roster = createTechnicianRoster({
    redis,
    keys: ruleKeys(opened.prefix),
    technicians: site.technicians,
  })
  await roster.seed()
  const ruleKeySet = ruleKeys(opened.prefix)
  incidents = createIncidentStore({ redis, keys: ruleKeySet })
  tickets = createTicketStore({ redis, keys: ruleKeySet, sla: site.sla })
  dispatcher = createDispatcher({
    redis,
    keys: ruleKeySet,
    tickets,
    roster,
    world: site,
    placeOf: async () => spot,
  })
  app = await buildApi({
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    apiKeys: [
      { name: 'console', keyHash: hashApiKey(keys.dispatcher), role: 'dispatcher' },
      { name: 'amina-phone', keyHash: hashApiKey(keys.amina), role: 'technician', technician: 'tech-amina' },
    ],
    readiness: createReadiness(),
    adminKey: keys.admin,
    roster,
  })
  await app.ready()
})
afterAll(async () => {
  await app.close()
  await redis.quit()
})

const list = async () =>
  (await app.inject({ method: 'GET', url: '/api/technicians', headers: as(keys.dispatcher) })).json().items

describe('technicians API', () => {
  it('lists technicians with their position, availability, and masked contact details', async () => {
    const amina = (await list()).find((t: { id: string }) => t.id === 'tech-amina')
    expect(amina).toMatchObject({ phone: '+33•••••••01', available: true, skills: expect.any(Array) })
    expect(amina.email).toMatch(/^a•••@/)
    expect(amina.position.lat).toBeCloseTo(
      site.technicians.find((t) => t.id === 'tech-amina')?.location?.lat ?? 0,
      4,
    )
  })

  it('takes a live position and availability from the technician or a dispatcher', async () => {
    const moved = await app.inject({
      method: 'PUT',
      url: '/api/technicians/tech-amina/location',
      headers: as(keys.amina),
      payload: { lat: 49.01, lon: 2.58 },
    })
    expect(moved.statusCode).toBe(204)
    const away = await app.inject({
      method: 'PUT',
      url: '/api/technicians/tech-amina/availability',
      headers: as(keys.dispatcher),
      payload: { available: false },
    })
    expect(away.statusCode).toBe(204)
    const amina = (await list()).find((t: { id: string }) => t.id === 'tech-amina')
    expect(amina.position.lat).toBeCloseTo(49.01, 4)
    expect(amina.available).toBe(false)
  })

  it('refuses another technician, an unknown one and a bad position', async () => {
    const other = site.technicians.find((t) => t.id !== 'tech-amina')?.id
    const forbidden = await app.inject({
      method: 'PUT',
      url: `/api/technicians/${other}/location`,
      headers: as(keys.amina),
      payload: { lat: 49, lon: 2.5 },
    })
    expect(forbidden.statusCode).toBe(403)
    const unknown = await app.inject({
      method: 'PUT',
      url: '/api/technicians/nobody/availability',
      headers: as(keys.dispatcher),
      payload: { available: true },
    })
    expect(unknown.statusCode).toBe(404)
    const bad = await app.inject({
      method: 'PUT',
      url: '/api/technicians/tech-amina/location',
      headers: as(keys.dispatcher),
      payload: { lat: 123, lon: 2 },
    })
    expect(bad.statusCode).toBe(400)
  })

  it('creates, reads, replaces and deletes a technician, and dispatch follows each change at once', async () => {
    const rule = site.rules.find((r) => r.id === 'door-forced')
    if (!rule) throw new Error('the demo has door-forced')
    let n = 0
    const offerFor = async () => {
      n++
      const incident = await incidents.raise(
        {
          rule,
          correlationKey: `door-forced:door-crud-${n}`,
          site: 'cdg-t2',
          zone: 't2-gates',
          device: `door-crud-${n}`,
        },
        Date.now(),
        true,
      )
      const { ticket } = await tickets.openFor(incident, Date.now())
      return (await dispatcher.dispatch(ticket.id, Date.now()))?.offer?.technician
    }
    const zoe = {
      id: 'tech-zoe',
      name: 'Zoé N.',
      phone: '+33600000077',
      email: 'zoe@example.com',
      language: 'fr',
      skills: ['security'],
      location: spot,
    }
    const refused = await app.inject({
      method: 'POST',
      url: '/api/technicians',
      headers: as(keys.amina),
      payload: zoe,
    })
    expect(refused.statusCode).toBe(403)
    const created = await app.inject({
      method: 'POST',
      url: '/api/technicians',
      headers: as(keys.dispatcher),
      payload: zoe,
    })
    expect(created.statusCode).toBe(201)
    expect(created.json()).toMatchObject({
      id: 'tech-zoe',
      phone: '+33•••••••77',
      available: true,
      shift: null,
    })
    const again = await app.inject({
      method: 'POST',
      url: '/api/technicians',
      headers: as(keys.dispatcher),
      payload: zoe,
    })
    expect(again.statusCode).toBe(409)
    const bad = await app.inject({
      method: 'POST',
      url: '/api/technicians',
      headers: as(keys.dispatcher),
      payload: { ...zoe, id: 'tech-bad', skills: [] },
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.code).toBe('VALIDATION_FAILED')
    expect(await offerFor()).toBe('tech-zoe')

    const admin = await app.inject({
      method: 'GET',
      url: '/api/technicians/tech-zoe',
      headers: as(keys.admin),
    })
    expect(admin.json()).toMatchObject({ phone: '+33600000077', email: 'zoe@example.com' })

    // Without the skill, she is skipped; her live position stayed where it was.
    const replaced = await app.inject({
      method: 'PUT',
      url: '/api/technicians/tech-zoe',
      headers: as(keys.dispatcher),
      payload: { ...zoe, skills: ['hvac'], location: { lat: 48, lon: 2 } },
    })
    expect(replaced.statusCode).toBe(200)
    expect(replaced.json()).toMatchObject({
      skills: ['hvac'],
      position: { lat: expect.closeTo(spot.lat, 4) },
    })
    expect(await offerFor()).not.toBe('tech-zoe')

    await app.inject({
      method: 'PUT',
      url: '/api/technicians/tech-zoe',
      headers: as(keys.dispatcher),
      payload: zoe,
    })
    expect(await offerFor()).toBe('tech-zoe')
    const deleted = await app.inject({
      method: 'DELETE',
      url: '/api/technicians/tech-zoe',
      headers: as(keys.dispatcher),
    })
    expect(deleted.statusCode).toBe(204)
    expect(await offerFor()).not.toBe('tech-zoe')
    const gone = await app.inject({
      method: 'GET',
      url: '/api/technicians/tech-zoe',
      headers: as(keys.dispatcher),
    })
    expect(gone.statusCode).toBe(404)
    expect((await list()).map((t: { id: string }) => t.id)).not.toContain('tech-zoe')
  })

  it('seeds the site file again at a restart, but not over what the API changed or deleted', async () => {
    const amina = site.technicians.find((t) => t.id === 'tech-amina')
    if (!amina) throw new Error('the demo has tech-amina')
    const put = await app.inject({
      method: 'PUT',
      url: '/api/technicians/tech-amina',
      headers: as(keys.dispatcher),
      payload: { ...amina, shift: undefined, skills: ['electrical'] },
    })
    expect(put.statusCode).toBe(200)
    const other = site.technicians.find((t) => t.id !== 'tech-amina')
    if (!other) throw new Error('the demo has more technicians')
    await app.inject({ method: 'DELETE', url: `/api/technicians/${other.id}`, headers: as(keys.dispatcher) })
    await createTechnicianRoster({ redis, keys: ruleKeys(prefix), technicians: site.technicians }).seed()
    const ids = (await list()).map((t: { id: string }) => t.id)
    expect(ids).not.toContain(other.id)
    expect((await list()).find((t: { id: string }) => t.id === 'tech-amina').skills).toEqual(['electrical'])
  })
})
