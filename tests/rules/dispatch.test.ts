import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Device, loadConfig, ruleSchema, type Technician } from '../../config/index.ts'
import { createIngest, type Ingest, shardOf } from '../../ingest/index.ts'
import { createRuleWorker, type Ticket, vigieEventSchema } from '../../rules/index.ts'
import { createLogger, openClient } from '../../service/index.ts'
import { createManualClock, type ManualClock } from '../support/manual-clock.ts'
import { openTestRedis, testRedisUrl } from '../support/redis.ts'
import { waitFor } from '../support/wait-for.ts'

const { site } = loadConfig({ env: {} })
const door: Device = {
  id: 'door-9',
  kind: 'door',
  site: 'cdg-t2',
  zone: 't2-gates',
  location: { lat: 49.0, lon: 2.57 },
  secret: 'secret-door-9',
}
// 0.001° of latitude is about 111 m: A is nearest but lacks the skill, then B, then C.
const technician = (id: string, lat: number, skills: string[]): Technician => ({
  id,
  name: id,
  phone: '+33600000042',
  language: 'en',
  skills,
  location: { lat, lon: 2.57 },
  available: true,
})
const technicians = [
  technician('tech-a', 49.001, ['hvac']),
  technician('tech-b', 49.003, ['security']),
  technician('tech-c', 49.006, ['security', 'hvac']),
]
const rule = ruleSchema.parse({
  id: 'door-forced',
  match: { kind: 'door' },
  condition: { unauthorised: true },
  severity: 'critical',
  skill: 'security',
})

let redis: Redis
let ingest: Ingest
let worker: ReturnType<typeof createRuleWorker>
let workerRedis: Redis
let prefix = ''
// Offers expire when the test moves the clock, not after minutes of the wall clock.
let clock: ManualClock

beforeEach(async () => {
  clock = createManualClock()
  const opened = await openTestRedis()
  redis = opened.redis
  prefix = opened.prefix
  const settings = {
    redisPrefix: opened.prefix,
    logShards: 2,
    readingsRetention: 1000,
    deviceReadingsRetention: 100,
    deadLetterRetention: 100,
  }
  ingest = createIngest({ clock, redis, settings, log: createLogger({ level: 'silent' }) })
  await ingest.registry.seed([door])
  workerRedis = await openClient(testRedisUrl(), 5000)
  worker = createRuleWorker({
    clock,
    redis: workerRedis,
    prefix: opened.prefix,
    rules: [rule],
    sites: site.sites,
    deviceOf: (id) => ingest.registry.get(id),
    log: {
      shards: 2,
      shardKey: ingest.keys.shard,
      shardOf: (id) => shardOf(id, 2),
      lastSeenKey: ingest.keys.lastSeen,
      devicesVersionKey: ingest.keys.devicesVersion,
    },
    logger: createLogger({ level: 'silent' }),
    technicians,
    dispatch: { ...site.dispatch, offerTimeout: 5 * 60_000, maxOffers: 2 },
    sla: site.sla,
    autoResolveAfterClear: 60_000,
    blockMs: 50,
  })
  worker.start()
})
afterEach(async () => {
  await worker.close()
  await workerRedis.quit()
  await redis.quit()
})

async function forcedDoorTicket(): Promise<Ticket> {
  await ingest.accept({
    topic: 'devices/door-9/telemetry',
    payload: Buffer.from(JSON.stringify({ type: 'door', open: true })),
    receivedAt: clock.now(),
  })
  const [ticket] = await waitFor(
    async () => {
      const list = await worker.tickets.list({ limit: 1 })
      return list[0]?.offer ? list : undefined
    },
    { what: 'the first offer' },
  )
  if (!ticket) throw new Error('no ticket')
  return ticket
}

const offers = (ticket: Ticket | null) =>
  (ticket?.timeline ?? []).filter((e) => e.type === 'ticket.offered').map((e) => e.detail)

describe('dispatch', () => {
  it('skips the nearest technician without the skill and offers the nearest qualified one, with an ETA', async () => {
    const ticket = await forcedDoorTicket()
    expect(ticket).toMatchObject({ status: 'assigned', assignee: 'tech-b', offer: { technician: 'tech-b' } })
    // 333 m at the demo's 5 km/h walking speed is 4 minutes.
    expect(offers(ticket)).toEqual([expect.stringMatching(/^tech-b 0\.33 km, ETA 4 min$/)])
  })

  it('moves the offer on after a decline, and escalates when the last one expires unanswered', async () => {
    const ticket = await forcedDoorTicket()
    const declined = await worker.dispatcher.decline(ticket.id, 'tech-b', clock.now())
    expect(declined).toMatchObject({ status: 'assigned', assignee: 'tech-c' })
    expect(offers(declined).map((o) => o?.split(' ')[0])).toEqual(['tech-b', 'tech-c'])

    clock.advance(5 * 60_000)

    const escalated = await waitFor(
      async () => {
        const t = await worker.tickets.get(ticket.id)
        return t?.timeline.some((e) => e.type === 'ticket.escalated') ? t : undefined
      },
      { what: 'the escalation after the offer timeout' },
    )
    expect(escalated).toMatchObject({ status: 'open', assignee: null, offer: null })
    expect(escalated.timeline.map((e) => e.type)).toEqual([
      'ticket.created',
      'ticket.offered',
      'ticket.declined',
      'ticket.offered',
      'ticket.offer_expired',
      'ticket.escalated',
    ])
    expect(escalated.timeline.at(-1)?.detail).toBe('2 offers without an answer; to Duty manager')

    // The engage step sees the same story on the events stream, typed, with each status move.
    const events = (await redis.xrange(`${prefix}events`, '-', '+')).map(([, fields]) =>
      vigieEventSchema.parse(JSON.parse(fields[1] ?? '')),
    )
    expect(
      events.map((e) => (e.type.startsWith('ticket.') && 'from' in e ? [e.type, e.from, e.to] : [e.type])),
    ).toEqual([
      ['incident.opened'],
      ['ticket.created', null, 'open'],
      ['ticket.offered', 'open', 'assigned'],
      ['ticket.declined', 'assigned', 'open'],
      ['ticket.offered', 'open', 'assigned'],
      ['ticket.offer_expired', 'assigned', 'open'],
      ['ticket.escalated', 'open', 'open'],
    ])
    expect(events[2]).toMatchObject({
      id: ticket.id,
      ticket: { offer: { technician: 'tech-b', etaMinutes: 4 } },
    })
  })

  it('acknowledges the ticket when the offered technician accepts, and the offer no longer expires', async () => {
    const ticket = await forcedDoorTicket()
    // Someone the offer is not for can neither accept nor decline it (issue 15).
    const notYours = { code: 'CONFLICT', message: expect.stringContaining('no longer offered to you') }
    await expect(worker.dispatcher.accept(ticket.id, 'tech-c', clock.now())).rejects.toMatchObject(notYours)
    await expect(worker.dispatcher.decline(ticket.id, 'tech-c', clock.now())).rejects.toMatchObject(notYours)
    expect(ticket.offer?.code).toMatch(/^[0-9A-Z]{3}$/)
    expect(await redis.smembers(`${prefix}offers-of:tech-b`)).toEqual([ticket.id])
    const accepted = await worker.dispatcher.accept(ticket.id, 'tech-b', clock.now())
    expect(accepted).toMatchObject({ status: 'acknowledged', assignee: 'tech-b', offer: null })
    expect(await redis.zrange(`${prefix}offer-timers`, 0, -1)).toEqual([])
    expect(await redis.smembers(`${prefix}offers-of:tech-b`)).toEqual([])
  })
})
