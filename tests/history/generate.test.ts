import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { settingsSchema } from '../../config/index.ts'
import { airportRules, generateYear, type HistoryWorld, openStages } from '../../history/index.ts'
import { type Notification, notificationSchema } from '../../notifier/index.ts'
import { computeKpis, type Ticket, ticketSchema, ticketStatuses } from '../../rules/index.ts'
import { openTestRedis } from '../support/redis.ts'

const end = Date.UTC(2026, 10, 30, 17, 0)
const yearMs = 365 * 86_400_000
const size = { tickets: 1000, devices: 200, technicians: 40, customers: 200 }
const settings = (redisPrefix: string) => ({
  ...settingsSchema.parse({}),
  redisPrefix,
  logShards: 2,
  readingsRetention: 1000,
  deviceReadingsRetention: 100,
})

let redis: Redis
let world: HistoryWorld
let again: HistoryWorld
let tickets: Ticket[] = []
const notifications: Notification[] = []

async function everyTicket(w: HistoryWorld): Promise<Ticket[]> {
  const all: Ticket[] = []
  let after: Parameters<HistoryWorld['stores']['tickets']['page']>[0]['after']
  do {
    const page = await w.stores.tickets.page({ limit: 500, after })
    all.push(...page.items)
    after = page.next ?? undefined
  } while (after)
  return all
}

beforeAll(async () => {
  const first = await openTestRedis()
  redis = first.redis
  world = await generateYear({ redis, settings: settings(first.prefix), size, seed: 'issue-16', end })
  tickets = (await everyTicket(world)).map((t) => ticketSchema.parse(t))
  for (const ticket of tickets)
    notifications.push(
      ...(await world.stores.notifications.ofTicket(ticket.id)).map((n) => notificationSchema.parse(n)),
    )
  const second = await openTestRedis()
  again = await generateYear({
    redis: second.redis,
    settings: settings(second.prefix),
    size,
    seed: 'issue-16',
    end,
  })
  await second.redis.quit()
}, 300_000)

afterAll(async () => {
  await world?.close()
  await again?.close()
  await redis?.quit()
})

describe('a year of the big airport', () => {
  it('holds every ticket, over the 365 days before its end, read back through the ticket store', () => {
    expect(tickets).toHaveLength(size.tickets)
    expect(world.summary.tickets).toBe(size.tickets)
    const created = tickets.map((t) => Date.parse(t.createdAt)).sort((a, b) => a - b)
    expect(created[0]).toBeGreaterThanOrEqual(end - yearMs)
    expect(created.at(-1)).toBeLessThanOrEqual(end)
    // Spread over the year: a ticket in its first fortnight and one in its last day.
    expect(created[0]).toBeLessThan(end - yearMs + 14 * 86_400_000)
    expect(created.at(-1)).toBeGreaterThan(end - 86_400_000)
  })

  it('has every status, every rule and severity, and 0.3 % of the tickets (one per open stage at least) still open at the end', () => {
    expect(new Set(tickets.map((t) => t.status))).toEqual(new Set(ticketStatuses))
    expect(new Set(tickets.map((t) => t.rule))).toEqual(new Set(airportRules.map((r) => r.id)))
    expect(new Set(tickets.map((t) => t.severity))).toEqual(new Set(['critical', 'major', 'minor', 'info']))
    const open = tickets.filter((t) => (openStages as readonly string[]).includes(t.status))
    expect(open).toHaveLength(Math.max(openStages.length, Math.round(size.tickets * 0.003)))
    expect(new Set(open.map((t) => t.status))).toEqual(new Set(openStages))
    const counted = Object.fromEntries(
      ticketStatuses.map((s) => [s, tickets.filter((t) => t.status === s).length]),
    )
    expect(world.summary.byStatus).toEqual(counted)
  })

  it('writes timelines as the stores write them: in order, from the incident to the last status', () => {
    for (const t of tickets) {
      const times = t.timeline.map((e) => Date.parse(e.at))
      expect(times).toEqual([...times].sort((a, b) => a - b))
      expect(t.timeline[0]).toMatchObject({ type: 'ticket.created', at: t.createdAt })
      expect(times.at(-1)).toBeLessThanOrEqual(end)
      const has = (type: string) => t.timeline.some((e) => e.type === type)
      expect(t.resolvedAt !== null).toBe(t.status === 'resolved' || t.status === 'closed')
      if (t.status === 'closed') expect(has('ticket.resolved') && has('ticket.closed')).toBe(true)
      if (t.status === 'cancelled') expect(has('ticket.cancelled')).toBe(true)
      if (t.status === 'on_site') expect(has('ticket.on_site')).toBe(true)
      // An offer still out at the end has not run out: its timer would fire after the year ends.
      if (t.status === 'assigned') expect(Date.parse(t.offer?.expiresAt ?? '')).toBeGreaterThan(end)
      else expect(t.offer).toBeNull()
    }
    const types = new Set(tickets.flatMap((t) => t.timeline.map((e) => e.type)))
    for (const type of [
      'ticket.offered',
      'ticket.declined',
      'ticket.offer_expired',
      'ticket.escalated',
      'ticket.acknowledged',
      'ticket.en_route',
      'ticket.commented',
      'ticket.customer_contacted',
      'ticket.survey_answered',
      'ticket.incident_joined',
      'ticket.incident_cleared',
      'ticket.incident_suppressed',
      'ticket.notified',
      'ticket.notification_failed',
    ])
      expect(types).toContain(type)
    const answers = tickets.flatMap((t) => t.timeline.filter((e) => e.type === 'ticket.survey_answered'))
    expect(new Set(answers.map((e) => e.detail))).toEqual(new Set(['1', '2', '3', '4', '5']))
  })

  it('keeps the indexes production keeps: a pending offer is among its technician’s offers', async () => {
    const pending = tickets.filter((t) => t.status === 'assigned')
    expect(pending.length).toBeGreaterThan(0)
    for (const t of pending) {
      const held = await world.stores.tickets.offersOf(t.offer?.technician ?? '')
      expect(held.map((h) => h.id)).toContain(t.id)
    }
  })

  it('records notifications of every kind and outcome, and times the KPIs read from the timelines', async () => {
    expect(notifications).toHaveLength(world.summary.notifications.total)
    expect(new Set(notifications.map((n) => n.template))).toEqual(
      new Set(['notice', 'eta', 'all-clear', 'survey', 'offer', 'offer-call', 'escalation']),
    )
    expect(new Set(notifications.map((n) => n.status))).toEqual(new Set(['sent', 'delivered', 'failed']))
    expect(new Set(notifications.map((n) => n.channel))).toEqual(new Set(['sms', 'voice', 'email']))
    const outcomes = await world.stores.notifications.outcomes()
    expect(outcomes.delivered).toBe(notifications.filter((n) => n.status === 'delivered').length)
    const kpis = computeKpis(tickets)
    expect(kpis.timeToAcknowledgeMinutes?.p50).toBeLessThan(3)
    expect(kpis.timeToFirstNoticeMinutes?.p50).toBeLessThan(2)
    expect(kpis.csatAnswers).toBeGreaterThan(0)
  })

  it('fills the readings log through ingest, each device with its readings', async () => {
    expect(world.summary.readings).toBe(2000)
    // The fleet reports in turn: the last device sent the year's last reading.
    const recent = await world.stores.ingest.readings.recent(world.site.devices.at(-1)?.id ?? '', 3)
    expect(recent).toHaveLength(3)
    expect(Date.parse(recent[0]?.ts ?? '')).toBe(end)
  })

  it('is the same year for the same seed', () => {
    expect(again.summary).toEqual(world.summary)
  })

  it('refuses a prefix that already holds tickets', async () => {
    await expect(
      generateYear({ redis, settings: settings(world.prefix), size: { ...size, tickets: 10 }, end }),
    ).rejects.toMatchObject({ code: 'CONFLICT' })
  })
})
