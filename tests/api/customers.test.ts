import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createReadiness, hashApiKey } from '../../api/index.ts'
import { loadConfig } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import { type CustomerBook, createCustomerBook } from '../../notifier/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
const keys = {
  viewer: 'viewer-key-customers-012',
  dispatcher: 'dispatcher-key-customers-0',
  admin: 'admin-key-customers-0123',
}
const as = (key: string) => ({ authorization: `Bearer ${key}` })
let app: FastifyInstance
let redis: Redis
let prefix = ''
let book: CustomerBook

const newcomer = {
  id: 'cust-newcomer',
  name: 'Newcomer café',
  language: 'fr',
  contacts: [{ sms: '+33600000199' }, { email: 'bonjour@newcomer.example' }],
  subscribes: { zones: ['t2-lounges'] },
  quietHours: '22:00-07:00',
}

beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  prefix = opened.prefix
  book = createCustomerBook({ redis, prefix, customers: site.customers })
  await book.seed()
  app = await buildApi({
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    apiKeys: [
      { name: 'wall', keyHash: hashApiKey(keys.viewer), role: 'viewer' },
      { name: 'console', keyHash: hashApiKey(keys.dispatcher), role: 'dispatcher' },
    ],
    adminKey: keys.admin,
    readiness: createReadiness(),
    world: site,
    customers: book,
  })
  await app.ready()
})
afterAll(async () => {
  await app.close()
  await redis.quit()
})

describe('customers API', () => {
  it("lists the site file's customers, contacts masked but for admins", async () => {
    const seen = await app.inject({ url: '/api/customers?limit=2', headers: as(keys.viewer) })
    expect(seen.statusCode).toBe(200)
    const page = seen.json()
    expect(page.items.map((c: { id: string }) => c.id)).toEqual([
      'cust-aurora-airlines',
      'cust-compagnie-azur',
    ])
    expect(page.next).toEqual(expect.any(String))
    expect(page.items[1].contacts[0]).toEqual({ channel: 'sms', to: expect.stringMatching(/^\+33•+04$/) })
    const admin = await app.inject({ url: '/api/customers/cust-skylounge', headers: as(keys.admin) })
    expect(admin.json()).toMatchObject({
      contacts: [
        { channel: 'sms', to: '+33600000101' },
        { channel: 'email', to: 'ops@skylounge.example' },
      ],
      subscribes: { zones: ['t2-lounges'], sites: [], devices: [] },
      quietHours: '22:00-07:00',
    })
  })

  it('pages every customer once, through the id index, one created through the API included', async () => {
    await book.create({
      ...site.customers[0],
      id: 'cust-0-paged',
      subscribes: { sites: ['cdg-t2'] },
    } as never)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res = await app.inject({
        url: `/api/customers?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        headers: as(keys.viewer),
      })
      const page: { items: { id: string }[]; next: string | null } = res.json()
      seen.push(...page.items.map((c) => c.id))
      cursor = page.next
    } while (cursor)
    expect(seen).toEqual((await book.list()).map((c) => c.id).sort())
    expect(seen).toContain('cust-0-paged')
    await book.remove('cust-0-paged')
  })

  it('lets only admins add, replace and remove customers', async () => {
    for (const key of [keys.viewer, keys.dispatcher]) {
      const refused = await app.inject({
        method: 'POST',
        url: '/api/customers',
        headers: as(key),
        payload: newcomer,
      })
      expect(refused.statusCode).toBe(403)
      expect(refused.json().error.code).toBe('AUTH_FORBIDDEN')
    }
    const created = await app.inject({
      method: 'POST',
      url: '/api/customers',
      headers: as(keys.admin),
      payload: newcomer,
    })
    expect(created.statusCode).toBe(201)
    expect(created.json()).toMatchObject({ id: 'cust-newcomer', language: 'fr', quietHours: '22:00-07:00' })
    const again = await app.inject({
      method: 'POST',
      url: '/api/customers',
      headers: as(keys.admin),
      payload: newcomer,
    })
    expect(again.statusCode).toBe(409)

    const moved = { ...newcomer, subscribes: { devices: ['door-gate-1'] } }
    const replaced = await app.inject({
      method: 'PUT',
      url: '/api/customers/cust-newcomer',
      headers: as(keys.admin),
      payload: moved,
    })
    expect(replaced.statusCode).toBe(200)
    expect((await book.get('cust-newcomer'))?.subscribes).toEqual({ devices: ['door-gate-1'] })

    const removed = await app.inject({
      method: 'DELETE',
      url: '/api/customers/cust-newcomer',
      headers: as(keys.admin),
    })
    expect(removed.statusCode).toBe(204)
    const gone = await app.inject({ url: '/api/customers/cust-newcomer', headers: as(keys.viewer) })
    expect(gone.statusCode).toBe(404)
  })

  it('refuses a bad customer with the field at fault, and a subscription to nothing that exists', async () => {
    const badPhone = await app.inject({
      method: 'POST',
      url: '/api/customers',
      headers: as(keys.admin),
      payload: { ...newcomer, id: 'cust-bad', contacts: [{ sms: '0612' }] },
    })
    expect(badPhone.statusCode).toBe(400)
    expect(badPhone.json().error.code).toBe('VALIDATION_FAILED')
    expect(JSON.stringify(badPhone.json().error.details)).toContain('contacts')

    const nowhere = await app.inject({
      method: 'POST',
      url: '/api/customers',
      headers: as(keys.admin),
      payload: {
        ...newcomer,
        id: 'cust-nowhere',
        subscribes: { zones: ['t9-moon'], devices: ['door-ghost'] },
      },
    })
    expect(nowhere.statusCode).toBe(400)
    expect(nowhere.json().error.message).toBe(
      'Subscribed to what does not exist: zone t9-moon, device door-ghost',
    )

    const wrongId = await app.inject({
      method: 'PUT',
      url: '/api/customers/cust-skylounge',
      headers: as(keys.admin),
      payload: newcomer,
    })
    expect(wrongId.statusCode).toBe(400)

    // Each subscription is a set written with the customer in one script: 5,000 of them would hold Redis.
    const everything = await app.inject({
      method: 'POST',
      url: '/api/customers',
      headers: as(keys.admin),
      payload: {
        ...newcomer,
        id: 'cust-everything',
        subscribes: { devices: Array.from({ length: 5000 }, (_, i) => `door-${i}`) },
      },
    })
    expect(everything.statusCode).toBe(400)
    expect(JSON.stringify(everything.json().error)).toContain(
      'at most 1000 devices; subscribe to a zone or site instead',
    )
    const gone = await app.inject({ url: '/api/customers/cust-everything', headers: as(keys.viewer) })
    expect(gone.statusCode).toBe(404)
  })

  it("keeps the API's changes and deletions when the site file seeds the book again at the next start", async () => {
    const changed = { ...newcomer, id: 'cust-skylounge', name: 'Sky Lounge (renamed)' }
    await app.inject({
      method: 'PUT',
      url: '/api/customers/cust-skylounge',
      headers: as(keys.admin),
      payload: changed,
    })
    await app.inject({
      method: 'DELETE',
      url: '/api/customers/cust-tarmac-services',
      headers: as(keys.admin),
    })
    await createCustomerBook({ redis, prefix, customers: site.customers }).seed()
    expect((await book.get('cust-skylounge'))?.name).toBe('Sky Lounge (renamed)')
    expect(await book.get('cust-tarmac-services')).toBeNull()
    expect((await book.get('cust-salon-horizon'))?.name).toBe('Salon Horizon')
  })
})
