import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createReadiness, hashApiKey } from '../../api/index.ts'
import { loadConfig } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import {
  computeKpis,
  createIncidentStore,
  createTicketStore,
  ruleKeys,
  type Ticket,
} from '../../rules/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
const viewer = 'viewer-key-kpis-nps-0123456789'
const t0 = Date.parse('2026-11-03T09:00:00Z')
const min = 60_000
let app: FastifyInstance
let redis: Redis
let built: Ticket[] = []

/**
 * Answers whose figures are known by hand, spread over three tickets as three customers gave them:
 *   NPS  10, 9, 9 (promoters), 8, 7 (passives), 6, 0 (detractors): (3 − 2) / 7 = 14.3.
 *   CES  7, 6, 2, 4: 19 / 4 = 4.75.
 *   CSAT "5" (written before issue 18, no kind), csat:4, csat:2: 2 of 3 = 66.7 %.
 *   Not answers, skipped: nps:11, ces:0, "seven".
 */
const answers = [
  ['nps:10', 'nps:6', 'ces:7', '5', 'nps:11'],
  ['nps:9', 'nps:8', 'ces:6', 'csat:4', 'ces:0'],
  ['nps:9', 'nps:7', 'nps:0', 'ces:2', 'ces:4', 'csat:2', 'seven'],
]

beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  const keys = ruleKeys(opened.prefix)
  const incidents = createIncidentStore({ redis, keys })
  const tickets = createTicketStore({ redis, keys, sla: site.sla })
  const rule = site.rules.find((r) => r.id === 'lounge-too-hot')
  if (!rule) throw new Error('the demo has lounge-too-hot')
  for (const [n, details] of answers.entries()) {
    const at = t0 + n * 60 * min
    const incident = await incidents.raise(
      { rule, correlationKey: `lounge-too-hot:temp-${n}`, site: 'cdg-t2', zone: null, device: `temp-${n}` },
      at,
      true,
    )
    const { ticket } = await tickets.openFor(incident, at)
    await tickets.act(ticket.id, 'ack', 'tech-a', at + 5 * min)
    await tickets.act(ticket.id, 'resolve', 'tech-a', at + 20 * min)
    for (const [i, detail] of details.entries())
      await tickets.note(ticket.id, 'ticket.survey_answered', 'customer', at + (30 + i) * min, detail)
    const stored = await tickets.get(ticket.id)
    if (stored) built.push(stored)
  }
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
  built = []
  await app?.close()
  await redis?.quit()
})

const kpis = async (query: string) =>
  (
    await app.inject({
      method: 'GET',
      url: `/api/kpis?${query}`,
      headers: { authorization: `Bearer ${viewer}` },
    })
  ).json()

const expected = {
  npsScore: 14.3,
  npsAnswers: 7,
  cesMean: 4.75,
  cesAnswers: 4,
  csatPercent: 66.7,
  csatAnswers: 3,
}

describe('NPS and CES', () => {
  it('computes them from the timelines', () => {
    expect(built).toHaveLength(3)
    expect(computeKpis(built)).toMatchObject(expected)
  })

  it('serves the same from the kept sums of a whole day', async () => {
    expect(await kpis('from=2026-11-03T00:00:00Z&to=2026-11-04T00:00:00Z')).toMatchObject({
      tickets: 3,
      ...expected,
    })
  })

  it('serves the same from partial hours read ticket by ticket', async () => {
    expect(await kpis('from=2026-11-03T08:30:00Z&to=2026-11-03T11:30:00Z')).toMatchObject(expected)
  })

  it('counts one ticket alone: one promoter and one detractor of two is 0; one CES answer is its own mean', async () => {
    expect(await kpis('from=2026-11-03T09:00:00Z&to=2026-11-03T10:00:00Z')).toMatchObject({
      tickets: 1,
      npsScore: 0,
      npsAnswers: 2,
      cesMean: 7,
      cesAnswers: 1,
      csatPercent: 100,
      csatAnswers: 1,
    })
  })

  it('answers null with no answers of a kind, and counts of 0', async () => {
    expect(await kpis('from=2026-11-05T00:00:00Z&to=2026-11-06T00:00:00Z')).toMatchObject({
      npsScore: null,
      npsAnswers: 0,
      cesMean: null,
      cesAnswers: 0,
    })
  })
})
