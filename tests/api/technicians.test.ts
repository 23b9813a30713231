import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createReadiness, hashApiKey } from '../../api/index.ts'
import { loadConfig } from '../../config/index.ts'
import { createTechnicianRoster, ruleKeys } from '../../rules/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
const keys = { dispatcher: 'dispatcher-key-techs-0123', amina: 'amina-key-techs-012345678' }
const as = (key: string) => ({ authorization: `Bearer ${key}` })
let app: FastifyInstance
let redis: Redis

beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  const roster = createTechnicianRoster({
    redis,
    keys: ruleKeys(opened.prefix),
    technicians: site.technicians,
  })
  await roster.seed()
  app = await buildApi({
    log: createLogger({ level: 'silent' }),
    apiKeys: [
      { name: 'console', keyHash: hashApiKey(keys.dispatcher), role: 'dispatcher' },
      { name: 'amina-phone', keyHash: hashApiKey(keys.amina), role: 'technician', technician: 'tech-amina' },
    ],
    readiness: createReadiness(),
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
})
