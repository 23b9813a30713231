import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../config/index.ts'
import { isVigieError } from '../../domain/index.ts'
import {
  computeKpis,
  createTicketStore,
  type Incident,
  ruleKeys,
  type Ticket,
  type TicketEvent,
  type TicketStore,
  ticketEventSchema,
} from '../../rules/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
// Half the cap is where automatic repeats start to fold: 10 entries, or 2 kB.
const cap = { maxEntries: 20, maxBytes: 4096 }
const t0 = Date.parse('2026-12-01T08:00:00Z')

let redis: Redis
let keys: ReturnType<typeof ruleKeys>
let tickets: TicketStore

const incident = (n: number): Incident => ({
  id: `inc-${n}`,
  correlationKey: 'too-hot:temp-1',
  rule: 'too-hot',
  severity: 'major',
  site: 'cdg-t2',
  zone: 't2-gates',
  device: 'temp-1',
  status: 'active',
  openedAt: new Date(t0 + n).toISOString(),
  updatedAt: new Date(t0 + n).toISOString(),
  clearedAt: null,
  count: 1,
  lastValue: 31,
})

async function newTicket(): Promise<Ticket> {
  return (await tickets.openFor(incident(0), t0)).ticket
}

/** The ticket's events on the stream, parsed by the schema the notifier reads them with. */
async function eventsOf(id: string): Promise<(TicketEvent & { bytes: number })[]> {
  return (await redis.xrange(keys.events, '-', '+'))
    .map(([, fields]) => ({
      raw: fields[1] ?? '',
      event: ticketEventSchema.parse(JSON.parse(fields[1] ?? '')),
    }))
    .filter(({ event }) => event.id === id)
    .map(({ raw, event }) => ({ ...event, bytes: Buffer.byteLength(raw) }))
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) =>
      isVigieError(error) ? { code: error.code, status: error.status, message: error.message } : error,
  )

beforeEach(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  keys = ruleKeys(opened.prefix)
  tickets = createTicketStore({ redis, keys, sla: site.sla, timelineCap: cap })
})
afterEach(async () => {
  await redis.quit()
})

describe("a ticket's timeline cap", () => {
  it('takes comments up to TICKET_TIMELINE_MAX entries, then refuses the next with TICKET_TIMELINE_FULL and writes nothing', async () => {
    const ticket = await newTicket()
    for (let n = 1; n < cap.maxEntries; n++)
      await tickets.note(ticket.id, 'ticket.commented', 'ops', t0 + n, `c${n}`)
    const full = await tickets.get(ticket.id)
    expect(full?.timeline).toHaveLength(cap.maxEntries)
    const [doc, stream] = [await redis.get(keys.ticket(ticket.id)), await redis.xlen(keys.events)]

    const refused = await refusal(tickets.note(ticket.id, 'ticket.commented', 'ops', t0 + 99, 'one too many'))
    expect(refused).toMatchObject({ code: 'TICKET_TIMELINE_FULL', status: 409 })
    expect((refused as { message: string }).message).toMatch(
      /timeline is full \(20 entries.*TICKET_TIMELINE_MAX 20/,
    )
    expect(await redis.get(keys.ticket(ticket.id))).toBe(doc)
    expect(await redis.xlen(keys.events)).toBe(stream)
  })

  it('refuses a comment that would take the timeline past TICKET_TIMELINE_MAX_BYTES, whatever the count', async () => {
    const ticket = await newTicket()
    const long = 'x'.repeat(1500)
    await tickets.note(ticket.id, 'ticket.commented', 'ops', t0 + 1, long)
    await tickets.note(ticket.id, 'ticket.commented', 'ops', t0 + 2, long)
    expect(await refusal(tickets.note(ticket.id, 'ticket.commented', 'ops', t0 + 3, long))).toMatchObject({
      code: 'TICKET_TIMELINE_FULL',
    })
    // A short one still fits.
    const after = await tickets.note(ticket.id, 'ticket.commented', 'ops', t0 + 4, 'short')
    expect(after.timeline.map((e) => e.detail?.length)).toEqual([expect.any(Number), 1500, 1500, 5])
    expect(Buffer.byteLength(JSON.stringify(after.timeline))).toBeLessThanOrEqual(cap.maxBytes)
  })

  it('keeps every change of status past the cap, and the first customer contact; refuses a second contact', async () => {
    const ticket = await newTicket()
    for (let n = 1; n < cap.maxEntries; n++)
      await tickets.note(ticket.id, 'ticket.commented', 'ops', t0 + n, `c${n}`)
    const contacted = await tickets.note(ticket.id, 'ticket.customer_contacted', 'desk', t0 + 100, 'called')
    expect(contacted.timeline.at(-1)).toMatchObject({ type: 'ticket.customer_contacted' })
    expect(
      await refusal(tickets.note(ticket.id, 'ticket.customer_contacted', 'desk', t0 + 101, 'again')),
    ).toMatchObject({ code: 'TICKET_TIMELINE_FULL' })
    await tickets.act(ticket.id, 'ack', 'tech-1', t0 + 200, 'x'.repeat(2000))
    const resolved = await tickets.act(ticket.id, 'resolve', 'tech-1', t0 + 300)
    expect(resolved.timeline.slice(-3).map((e) => e.type)).toEqual([
      'ticket.customer_contacted',
      'ticket.acknowledged',
      'ticket.resolved',
    ])
    // The KPIs still read what they need off the capped timeline.
    const kpis = computeKpis([resolved])
    expect(kpis.timeToAcknowledgeMinutes?.count).toBe(1)
    expect(kpis.resolvedBeforeCustomerContactPercent).toBe(0)
    const moves = (await eventsOf(ticket.id)).filter((e) => e.from !== e.to)
    expect(moves.map((e) => [e.type, e.from, e.to])).toEqual([
      ['ticket.created', null, 'open'],
      ['ticket.acknowledged', 'open', 'acknowledged'],
      ['ticket.resolved', 'acknowledged', 'resolved'],
    ])
  })

  it('folds automatic repeats into counts from half the cap, keeps the first customer notice, and still sends every event', async () => {
    const ticket = await newTicket()
    for (let n = 1; n < cap.maxEntries / 2; n++)
      await tickets.note(ticket.id, 'ticket.notified', 'notifier', t0 + n, `sms to tech-1 (offer)`)
    expect((await tickets.get(ticket.id))?.timeline).toHaveLength(cap.maxEntries / 2)
    for (let n = 0; n < 25; n++) {
      await tickets.note(ticket.id, 'ticket.notified', 'notifier', t0 + 100 + n, `sms to tech-1 (offer)`)
      await tickets.note(ticket.id, 'ticket.notification_failed', 'notifier', t0 + 200 + n, 'voice to tech-1')
    }
    const notice = await tickets.note(
      ticket.id,
      'ticket.notified',
      'notifier',
      t0 + 300,
      'sms to cust-1 (notice)',
    )
    await tickets.note(ticket.id, 'ticket.notified', 'notifier', t0 + 301, 'sms to cust-1 (eta)')
    // Comments still have the other half.
    const commented = await tickets.note(
      ticket.id,
      'ticket.commented',
      'ops',
      t0 + 400,
      'still room for people',
    )

    expect(notice.timeline.at(-1)?.detail).toBe('sms to cust-1 (notice)')
    expect(commented.timeline).toHaveLength(cap.maxEntries / 2 + 2)
    expect(commented.folded).toEqual({ 'ticket.notified': 26, 'ticket.notification_failed': 25 })
    expect(computeKpis([commented]).timeToFirstNoticeMinutes?.count).toBe(1)
    const events = await eventsOf(ticket.id)
    expect(events.filter((e) => e.type.startsWith('ticket.notif'))).toHaveLength(
      cap.maxEntries / 2 - 1 + 50 + 2,
    )
    expect(events.filter((e) => e.folded)).toHaveLength(51)
    expect(events.at(-1)?.ticket.counts).toEqual({
      timeline: cap.maxEntries / 2 + 2,
      offers: 0,
      incidents: 1,
    })
    expect(events.at(-1)?.ticket.folded).toEqual(commented.folded)
  })

  it('lists the first incident and the latest 9 of a flapping device, and counts them all', async () => {
    const ticket = await newTicket()
    for (let n = 1; n < 15; n++) await tickets.openFor(incident(n), t0 + n)
    const flapped = await tickets.get(ticket.id)
    expect(flapped?.incidents).toEqual(['inc-0', ...Array.from({ length: 9 }, (_, i) => `inc-${i + 6}`)])
    expect(flapped?.incidentCount).toBe(15)
    expect(flapped?.timeline.filter((e) => e.type === 'ticket.incident_joined')).toHaveLength(9)
    expect(flapped?.folded).toEqual({ 'ticket.incident_joined': 5 })
    const joins = (await eventsOf(ticket.id)).filter((e) => e.type === 'ticket.incident_joined')
    expect(joins.map((e) => e.detail)).toEqual(Array.from({ length: 14 }, (_, i) => `inc-${i + 1}`))
    expect(joins.at(-1)?.ticket.counts.incidents).toBe(15)
  })
})

describe('ticket events', () => {
  it('carry their change and the ticket without its timeline, small whatever the ticket size', async () => {
    const ticket = await newTicket()
    for (let n = 1; n < 3; n++)
      await tickets.note(ticket.id, 'ticket.commented', 'ops', t0 + n, 'y'.repeat(1500))
    const [created, , last] = await eventsOf(ticket.id)
    expect(created).toMatchObject({ type: 'ticket.created', from: null, to: 'open', folded: false })
    expect(last).toMatchObject({
      type: 'ticket.commented',
      id: ticket.id,
      by: 'ops',
      detail: 'y'.repeat(1500),
      from: 'open',
      to: 'open',
      ticket: {
        id: ticket.id,
        status: 'open',
        device: 'temp-1',
        counts: { timeline: 3, offers: 0, incidents: 1 },
      },
    })
    expect(Object.keys(last?.ticket ?? {})).not.toContain('timeline')
    expect(Object.keys(last?.ticket ?? {})).not.toContain('incidents')
    expect(last?.bytes).toBeLessThan(2500)
  })

  it('written before the cap with the whole ticket, still read, as its summary', () => {
    const whole: Ticket = {
      id: 't-old',
      correlationKey: 'too-hot:temp-1',
      incidents: ['inc-0'],
      rule: 'too-hot',
      device: 'temp-1',
      site: 'cdg-t2',
      zone: null,
      severity: 'major',
      status: 'assigned',
      assignee: 'tech-1',
      offer: { technician: 'tech-1', expiresAt: new Date(t0).toISOString() },
      createdAt: new Date(t0).toISOString(),
      slaDueAt: new Date(t0).toISOString(),
      resolvedAt: null,
      timeline: [
        { at: new Date(t0).toISOString(), type: 'ticket.created', by: 'telemetry', detail: null },
        { at: new Date(t0).toISOString(), type: 'ticket.offered', by: 'dispatch', detail: 'tech-1' },
      ],
    }
    const old = {
      type: 'ticket.offered',
      id: 't-old',
      correlationKey: whole.correlationKey,
      at: whole.createdAt,
    }
    const event = ticketEventSchema.parse({
      ...old,
      by: 'dispatch',
      detail: 'tech-1',
      from: 'open',
      to: 'assigned',
      ticket: whole,
    })
    expect(event.folded).toBe(false)
    expect(event.ticket).toMatchObject({
      id: 't-old',
      offer: { technician: 'tech-1' },
      counts: { timeline: 2, offers: 1, incidents: 1 },
    })
    expect(Object.keys(event.ticket)).not.toContain('timeline')
  })
})
