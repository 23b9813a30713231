import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createReadiness, hashApiKey } from '../../api/index.ts'
import { loadConfig } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createIncidentStore, createTicketStore, ruleKeys } from '../../rules/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
const viewer = 'viewer-key-kpis-0123456789'
const t0 = Date.parse('2026-11-01T10:00:00Z')
const min = 60_000
let app: FastifyInstance
let redis: Redis

/**
 * A history whose figures are known by hand: A critical (SLA 15 m), B and C major (1 h), D A's repeat.
 *   A: notice +2, ack +5, on site +10, resolved +12 (SLA met), survey 5; D opens 3 h later on its key.
 *   B: notice +4, ack +10, customer called +30, resolved +70 (SLA missed), survey 3.
 *   C: ack +3, resolved +20 (SLA met).
 */
beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  const keys = ruleKeys(opened.prefix)
  const incidents = createIncidentStore({ redis, keys })
  const tickets = createTicketStore({ redis, keys, sla: site.sla })
  const rule = (id: string) => {
    const found = site.rules.find((r) => r.id === id)
    if (!found) throw new Error(`the demo has ${id}`)
    return found
  }
  const open = async (ruleId: string, device: string, at: number) => {
    const incident = await incidents.raise(
      { rule: rule(ruleId), correlationKey: `${ruleId}:${device}`, site: 'cdg-t2', zone: null, device },
      at,
      true,
    )
    const { ticket } = await tickets.openFor(incident, at)
    await incidents.clear(incident.correlationKey, at, false)
    return ticket.id
  }
  const a = await open('door-forced', 'door-gate-1', t0)
  await tickets.note(a, 'ticket.notified', 'notifier', t0 + 2 * min, 'sms to cust-a (notice)')
  await tickets.act(a, 'ack', 'tech-a', t0 + 5 * min)
  await tickets.act(a, 'on-site', 'tech-a', t0 + 10 * min)
  await tickets.act(a, 'resolve', 'tech-a', t0 + 12 * min)
  await tickets.note(a, 'ticket.survey_answered', 'customer', t0 + 20 * min, '5')

  const b = await open('lounge-too-hot', 'temp-lounge-1', t0 + 60 * min)
  await tickets.note(b, 'ticket.notified', 'notifier', t0 + 64 * min, 'email to cust-b (notice)')
  await tickets.note(b, 'ticket.notified', 'notifier', t0 + 62 * min, 'sms to tech-b (offer)')
  await tickets.act(b, 'ack', 'tech-b', t0 + 70 * min)
  await tickets.note(b, 'ticket.customer_contacted', 'desk', t0 + 90 * min, 'called the hotline')
  await tickets.act(b, 'resolve', 'tech-b', t0 + 130 * min)
  await tickets.note(b, 'ticket.survey_answered', 'customer', t0 + 140 * min, '3')

  const c = await open('lounge-too-hot', 'temp-lounge-2', t0 + 120 * min)
  await tickets.act(c, 'ack', 'tech-c', t0 + 123 * min)
  await tickets.act(c, 'resolve', 'tech-c', t0 + 140 * min)

  await open('door-forced', 'door-gate-1', t0 + 180 * min)

  app = await buildApi({
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    apiKeys: [{ name: 'wall', keyHash: hashApiKey(viewer), role: 'viewer' }],
    readiness: createReadiness(),
    tickets,
  })
  await app.ready()
})
afterAll(async () => {
  await app.close()
  await redis.quit()
})

const kpis = async (query: string) =>
  app.inject({ method: 'GET', url: `/api/kpis?${query}`, headers: { authorization: `Bearer ${viewer}` } })

describe('KPIs', () => {
  it('computes each figure of a known history', async () => {
    const res = await kpis('from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&site=cdg-t2')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      from: '2026-11-01T00:00:00Z',
      to: '2026-11-02T00:00:00Z',
      site: 'cdg-t2',
      tickets: 4,
      // Only customer messages count as a notice: B's first is at +4, not its technician's SMS at +2.
      timeToFirstNoticeMinutes: { p50: 2, p90: 4, count: 2 },
      timeToAcknowledgeMinutes: { p50: 5, p90: 10, count: 3 },
      timeToResolveMinutes: { p50: 20, p90: 70, count: 3 },
      slaMetPercent: 66.7,
      firstVisitFixPercent: 66.7,
      resolvedBeforeCustomerContactPercent: 66.7,
      csatPercent: 50,
      csatAnswers: 2,
      npsScore: null,
      npsAnswers: 0,
      cesMean: null,
      cesAnswers: 0,
    })
  })

  it("keeps D's tickets out of a window that ends before it, yet still counts A as revisited", async () => {
    const res = await kpis('from=2026-11-01T00:00:00Z&to=2026-11-01T12:30:00Z')
    expect(res.json()).toMatchObject({ tickets: 3, firstVisitFixPercent: 66.7 })
    const other = await kpis('site=elsewhere')
    expect(other.json()).toMatchObject({
      tickets: 0,
      slaMetPercent: null,
      timeToResolveMinutes: null,
      csatAnswers: 0,
    })
  })

  it('refuses a window that is not a date', async () => {
    const res = await kpis('from=yesterday')
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('VALIDATION_FAILED')
  })
})
