import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createReadiness, hashApiKey } from '../../api/index.ts'
import { loadConfig } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createIncidentStore, createTicketStore, ruleKeys, type Ticket } from '../../rules/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
const keys = {
  viewer: 'viewer-key-tickets-0123',
  dispatcher: 'dispatcher-key-tickets-01',
  tech: 'tech-key-tickets-0123456',
}
const as = (key: string) => ({ authorization: `Bearer ${key}` })
let app: FastifyInstance
let redis: Redis
let ticket: Ticket

beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  const ruleKeySet = ruleKeys(opened.prefix)
  const incidents = createIncidentStore({ redis, keys: ruleKeySet })
  const tickets = createTicketStore({ redis, keys: ruleKeySet, sla: site.sla })
  const rule = site.rules.find((r) => r.id === 'door-forced')
  if (!rule) throw new Error('the demo has door-forced')
  const place = {
    rule,
    correlationKey: 'door-forced:door-gate-1',
    site: 'cdg-t2',
    zone: 't2-gates',
    device: 'door-gate-1',
  }
  const incident = await incidents.raise(place, Date.now(), true)
  ;({ ticket } = await tickets.openFor(incident, Date.now()))
  app = await buildApi({
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    apiKeys: [
      { name: 'wall', keyHash: hashApiKey(keys.viewer), role: 'viewer' },
      { name: 'console', keyHash: hashApiKey(keys.dispatcher), role: 'dispatcher' },
      { name: 'amina-phone', keyHash: hashApiKey(keys.tech), role: 'technician', technician: 'tech-amina' },
    ],
    readiness: createReadiness(),
    incidents,
    tickets,
  })
  await app.ready()
})
afterAll(async () => {
  await app.close()
  await redis.quit()
})

describe('tickets API', () => {
  it('lists tickets without timelines and shows one with its timeline', async () => {
    const list = await app.inject({
      method: 'GET',
      url: '/api/tickets?status=open&device=door-gate-1',
      headers: as(keys.viewer),
    })
    expect(list.statusCode).toBe(200)
    expect(list.json().items).toEqual([
      expect.objectContaining({ id: ticket.id, status: 'open', severity: 'critical' }),
    ])
    expect(list.json().items[0].timeline).toBeUndefined()
    const one = await app.inject({
      method: 'GET',
      url: `/api/tickets/${ticket.id}`,
      headers: as(keys.viewer),
    })
    expect(one.json().timeline).toEqual([
      expect.objectContaining({ type: 'ticket.created', by: 'telemetry' }),
    ])
    const none = await app.inject({ method: 'GET', url: '/api/tickets/nope', headers: as(keys.viewer) })
    expect(none.statusCode).toBe(404)
  })

  it('lets a dispatcher act, not a viewer, nor a technician on a ticket that is not theirs', async () => {
    const viewer = await app.inject({
      method: 'POST',
      url: `/api/tickets/${ticket.id}/ack`,
      headers: as(keys.viewer),
      payload: {},
    })
    expect(viewer.statusCode).toBe(403)
    const tech = await app.inject({
      method: 'POST',
      url: `/api/tickets/${ticket.id}/ack`,
      headers: as(keys.tech),
      payload: {},
    })
    expect(tech.statusCode).toBe(403)
    expect(tech.json().error.message).toBe('A technician acts on their own tickets only')
    const ack = await app.inject({
      method: 'POST',
      url: `/api/tickets/${ticket.id}/ack`,
      headers: as(keys.dispatcher),
      payload: { note: 'on it' },
    })
    expect(ack.statusCode).toBe(200)
    expect(ack.json().status).toBe('acknowledged')
    expect(ack.json().timeline.at(-1)).toMatchObject({
      type: 'ticket.acknowledged',
      by: 'console',
      detail: 'on it',
    })
  })

  it('answers an illegal move with 409 and the current status, and keeps comments on the timeline', async () => {
    const decline = await app.inject({
      method: 'POST',
      url: `/api/tickets/${ticket.id}/decline`,
      headers: as(keys.dispatcher),
      payload: {},
    })
    expect(decline.statusCode).toBe(409)
    expect(decline.json().error).toMatchObject({ code: 'CONFLICT', details: { status: 'acknowledged' } })
    const empty = await app.inject({
      method: 'POST',
      url: `/api/tickets/${ticket.id}/comment`,
      headers: as(keys.dispatcher),
      payload: {},
    })
    expect(empty.statusCode).toBe(400)
    const comment = await app.inject({
      method: 'POST',
      url: `/api/tickets/${ticket.id}/comment`,
      headers: as(keys.dispatcher),
      payload: { text: 'camera 4 shows the door ajar' },
    })
    expect(comment.json().timeline.at(-1)).toMatchObject({
      type: 'ticket.commented',
      detail: 'camera 4 shows the door ajar',
    })
    const resolve = await app.inject({
      method: 'POST',
      url: `/api/tickets/${ticket.id}/resolve`,
      headers: as(keys.dispatcher),
      payload: {},
    })
    expect(resolve.json()).toMatchObject({ status: 'resolved', resolvedAt: expect.any(String) })
  })
})
