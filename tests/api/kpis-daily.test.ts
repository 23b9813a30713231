import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createReadiness, hashApiKey } from '../../api/index.ts'
import { loadConfig } from '../../config/index.ts'
import { createIncidentStore, createTicketStore, ruleKeys } from '../../rules/index.ts'
import { createLogger } from '../../service/index.ts'
import { createManualClock } from '../support/manual-clock.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
const viewer = 'viewer-key-kpis-daily-0123456789'
const min = 60_000
// Today, for the API, is 2026-11-03 (UTC): its tickets so far make a partial last day.
const clock = createManualClock({ start: Date.parse('2026-11-03T15:00:00Z') })
let app: FastifyInstance
let redis: Redis
const ticketIds: string[] = []
let keys: ReturnType<typeof ruleKeys>

type Day = { day: string; tickets: number } & Record<string, unknown>
const emptyFigures = {
  tickets: 0,
  timeToFirstNoticeMinutes: null,
  timeToAcknowledgeMinutes: null,
  timeToResolveMinutes: null,
  slaMetPercent: null,
  firstVisitFixPercent: null,
  resolvedBeforeCustomerContactPercent: null,
  csatPercent: null,
  csatAnswers: 0,
  npsScore: null,
  npsAnswers: 0,
  cesMean: null,
  cesAnswers: 0,
}

/**
 * Tickets on two days: 2026-11-01 (A resolved in 12 min with a notice and a 5, B still open) at cdg-t2, and
 * 2026-11-03 (C acknowledged in 3 min, resolved in 40) at cdg-t2 and (D) at another site.
 */
beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  keys = ruleKeys(opened.prefix)
  const incidents = createIncidentStore({ redis, keys })
  const tickets = createTicketStore({ redis, keys, sla: site.sla })
  const rule = site.rules.find((r) => r.id === 'lounge-too-hot')
  if (!rule) throw new Error('the demo has lounge-too-hot')
  const open = async (device: string, at: number, where = 'cdg-t2') => {
    const incident = await incidents.raise(
      { rule, correlationKey: `lounge-too-hot:${device}`, site: where, zone: null, device },
      at,
      true,
    )
    const { ticket } = await tickets.openFor(incident, at)
    await incidents.clear(incident.correlationKey, at, false)
    ticketIds.push(ticket.id)
    return ticket.id
  }
  const day1 = Date.parse('2026-11-01T08:00:00Z')
  const a = await open('temp-a', day1)
  await tickets.note(a, 'ticket.notified', 'notifier', day1 + 2 * min, 'sms to cust-a (notice)')
  await tickets.act(a, 'ack', 'tech-a', day1 + 5 * min)
  await tickets.act(a, 'resolve', 'tech-a', day1 + 12 * min)
  await tickets.note(a, 'ticket.survey_answered', 'customer', day1 + 20 * min, 'csat:5')
  await open('temp-b', day1 + 14 * 60 * min)

  const day3 = Date.parse('2026-11-03T09:30:00Z')
  const c = await open('temp-c', day3)
  await tickets.act(c, 'ack', 'tech-c', day3 + 3 * min)
  await tickets.act(c, 'resolve', 'tech-c', day3 + 40 * min)
  await open('temp-d', day3 + 60 * min, 'elsewhere')

  app = await buildApi({
    clock,
    log: createLogger({ level: 'silent' }),
    apiKeys: [{ name: 'wall', keyHash: hashApiKey(viewer), role: 'viewer' }],
    readiness: createReadiness(),
    tickets,
  })
  await app.ready()
})
afterAll(async () => {
  await app?.close()
  await redis?.quit()
})

const get = async (url: string, key: string | null = viewer) =>
  app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} })

async function daily(query: string): Promise<{ site: string | null; days: Day[] }> {
  const res = await get(`/api/kpis/daily?${query}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

/** /api/kpis over one UTC day, without its echo of the query. */
async function kpisOfDay(day: string, site?: string) {
  const to = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString()
  const res = await get(`/api/kpis?from=${day}T00:00:00Z&to=${to}${site ? `&site=${site}` : ''}`)
  expect(res.statusCode, res.body).toBe(200)
  const { from: _from, to: _to, site: _site, ...figures } = res.json()
  return figures
}

describe('GET /api/kpis/daily', () => {
  it('gives each day the figures /api/kpis gives over it, ending with today, oldest first', async () => {
    const answer = await daily('days=5')
    expect(answer.site).toBeNull()
    expect(answer.days.map((d) => d.day)).toEqual([
      '2026-10-30',
      '2026-10-31',
      '2026-11-01',
      '2026-11-02',
      '2026-11-03',
    ])
    const [oct30, oct31, nov1, nov2, nov3] = answer.days
    for (const empty of [oct30, oct31, nov2]) expect(empty).toEqual({ day: empty?.day, ...emptyFigures })
    expect(nov1).toEqual({ day: '2026-11-01', ...(await kpisOfDay('2026-11-01')) })
    expect(nov1).toMatchObject({
      tickets: 2,
      timeToFirstNoticeMinutes: { p50: 2, p90: 2, count: 1 },
      timeToResolveMinutes: { p50: 12, p90: 12, count: 1 },
      csatPercent: 100,
      csatAnswers: 1,
    })
    // Today so far, both sites.
    expect(nov3).toEqual({ day: '2026-11-03', ...(await kpisOfDay('2026-11-03')) })
    expect(nov3).toMatchObject({ tickets: 2, timeToAcknowledgeMinutes: { p50: 3, p90: 3, count: 1 } })
  })

  it('reads one site when asked', async () => {
    const answer = await daily('days=3&site=elsewhere')
    expect(answer.site).toBe('elsewhere')
    expect(answer.days.map((d) => [d.day, d.tickets])).toEqual([
      ['2026-11-01', 0],
      ['2026-11-02', 0],
      ['2026-11-03', 1],
    ])
    expect(answer.days[2]).toEqual({ day: '2026-11-03', ...(await kpisOfDay('2026-11-03', 'elsewhere')) })
    const nobody = await daily('site=nowhere')
    expect(nobody.days.every((d) => d.tickets === 0 && d.slaMetPercent === null)).toBe(true)
  })

  it('covers the last 30 days by default, and moves on with the clock', async () => {
    const answer = await daily('')
    expect(answer.days).toHaveLength(30)
    expect(answer.days[0]?.day).toBe('2026-10-05')
    expect(answer.days.at(-1)?.day).toBe('2026-11-03')
    expect(answer.days.reduce((n, d) => n + d.tickets, 0)).toBe(4)
    expect((await daily('days=90')).days).toHaveLength(90)
    clock.advance(9 * 3_600_000)
    const tomorrow = await daily('days=2')
    expect(tomorrow.days.map((d) => [d.day, d.tickets])).toEqual([
      ['2026-11-03', 2],
      ['2026-11-04', 0],
    ])
  })

  it('refuses hostile queries with a clear 400, and a caller without a key with a 401', async () => {
    for (const days of ['0', '91', '-1', '1.5', 'abc', '', '1e9', 'Infinity', '30&days=2'])
      expect((await get(`/api/kpis/daily?days=${days}`)).json().error, days).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [expect.objectContaining({ path: 'querystring.days' })],
      })
    for (const site of ['', 'x'.repeat(65), 'a&site=b'])
      expect((await get(`/api/kpis/daily?site=${site}`)).statusCode, site).toBe(400)
    expect((await get('/api/kpis/daily')).statusCode).toBe(200)
    expect((await get('/api/kpis/daily', null)).statusCode).toBe(401)
    expect((await get('/api/kpis/daily', 'not-a-key-0123456789')).statusCode).toBe(401)
  })

  it('is in the OpenAPI document', async () => {
    const doc = (await get('/docs/json', null)).json() as {
      paths: Record<string, { get?: { parameters?: { name: string }[] } }>
    }
    expect(doc.paths['/api/kpis/daily']?.get?.parameters?.map((p) => p.name).sort()).toEqual(['days', 'site'])
  })

  it('reads the kept sums, not the tickets: with the tickets gone, the days stand', async () => {
    const before = await daily('days=5')
    await redis.del(...ticketIds.map(keys.ticket))
    expect(await daily('days=5')).toEqual(before)
  })
})
