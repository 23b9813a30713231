import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ruleKeys } from '../../rules/index.ts'
import { openClient } from '../../service/index.ts'
import { testRedisUrl } from '../support/redis.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

// Issue 15, bounded growth: 300 comments made one ticket 613 kB and every event carried the whole ticket.
const site = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices: [{ id: temp-1, kind: temperature, site: s1, secret: "secret-temp-1", location: { lat: 49.0, lon: 2.57 } }]
technicians: [{ id: tech-1, name: One, phone: "+33600000001", skills: [hvac], location: { lat: 49.001, lon: 2.57 } }]
rules: [{ id: too-hot, match: { kind: temperature }, condition: { field: celsius, above: 30, clearBelow: 28 }, severity: major, skill: hvac }]
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`

type Entry = { type: string; by: string; detail: string | null }
type TicketView = {
  id: string
  status: string
  incidents: string[]
  incidentCount?: number
  folded?: Record<string, number>
  timeline: Entry[]
}
type StreamEvent = {
  type: string
  id: string
  bytes: number
  folded?: boolean
  ticket: Record<string, unknown>
}

let world: TestService
let redis: Redis
let ticket: TicketView

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1])

/** The ticket's events on the stream, with each entry's size (the sum of its fields' lengths, in bytes). */
async function eventsOf(id: string): Promise<StreamEvent[]> {
  const found: StreamEvent[] = []
  let from = '-'
  for (;;) {
    const entries = await redis.xrange(ruleKeys(world.prefix).events, from, '+', 'COUNT', 200)
    for (const [entryId, fields] of entries) {
      const event = JSON.parse(fields[1] ?? '{}') as Omit<StreamEvent, 'bytes'>
      const bytes = fields.reduce((sum, field) => sum + Buffer.byteLength(field), 0)
      if (event.id === id) found.push({ ...event, bytes })
      from = `(${entryId}`
    }
    if (entries.length < 200) return found
  }
}

async function post(path: string, body: unknown) {
  const res = await fetch(`${world.publicUrl}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer test-service-admin-key-0123456', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } }
}

beforeAll(async () => {
  world = await startTestService({ site })
  redis = await openClient(testRedisUrl(), 5000)
  await world.publish('temp-1', { type: 'temperature', celsius: 31 })
  const { items } = await waitFor(
    async () => {
      const page = await world.api<{ items: { id: string; status: string }[] }>('/api/tickets?device=temp-1')
      return page.items[0]?.status === 'assigned' ? page : undefined
    },
    { what: 'the ticket of temp-1, offered to tech-1' },
  )
  ticket = await world.api<TicketView>(`/api/tickets/${items[0]?.id}`)
})

afterAll(async () => {
  await redis?.quit()
  await world?.close()
})

describe('hostile input: bounded growth of tickets and their events', () => {
  it('300 long comments on one ticket: the ticket stays small, the comments past the cap are refused, each event is small', async () => {
    const memoryBefore = await usedMemory()
    const answers = []
    for (let n = 0; n < 300; n++)
      answers.push(
        await post(`/api/tickets/${ticket.id}/comment`, { text: `${n} `.padEnd(2000, 'spam, still spam ') }),
      )
    const accepted = answers.filter((a) => a.status === 200).length
    const refused = answers.filter((a) => a.status !== 200)
    const documentBytes = await redis.strlen(ruleKeys(world.prefix).ticket(ticket.id))
    const comments = (await eventsOf(ticket.id)).filter((e) => e.type === 'ticket.commented')
    const eventBytes = comments.reduce((sum, e) => sum + e.bytes, 0)
    const memoryGrowth = (await usedMemory()) - memoryBefore
    console.info(
      `300 comments: ${accepted} accepted, ${refused.length} refused; ticket ${(documentBytes / 1000).toFixed(1)} kB; ` +
        `their events ${(eventBytes / 1e6).toFixed(2)} MB (largest ${(Math.max(...comments.map((e) => e.bytes)) / 1000).toFixed(1)} kB); ` +
        `Redis used_memory ${memoryGrowth >= 0 ? '+' : ''}${(memoryGrowth / 1e6).toFixed(1)} MB`,
    )

    expect(documentBytes).toBeLessThan(64_000)
    for (const event of comments) expect(event.bytes).toBeLessThan(4_000)
    expect(comments).toHaveLength(accepted)
    expect(accepted).toBeGreaterThan(10)
    expect(refused.length).toBe(300 - accepted)
    // Refused from the first one past the cap, each with the reason and the setting to change.
    expect(answers.slice(accepted).every((a) => a.status === 409)).toBe(true)
    expect(refused[0]?.body.error?.code).toBe('TICKET_TIMELINE_FULL')
    expect(refused[0]?.body.error?.message).toMatch(/timeline is full.*TICKET_TIMELINE_MAX/)
    const stored = await world.api<TicketView>(`/api/tickets/${ticket.id}`)
    expect(stored.timeline.filter((e) => e.type === 'ticket.commented')).toHaveLength(accepted)
  })

  it('a full timeline still records every change of status', async () => {
    const acked = await world.api<TicketView>(`/api/tickets/${ticket.id}/ack`, { method: 'POST' })
    expect(acked.status).toBe('acknowledged')
    expect(acked.timeline.at(-1)).toMatchObject({ type: 'ticket.acknowledged' })
    const [event] = (await eventsOf(ticket.id)).filter((e) => e.type === 'ticket.acknowledged')
    expect(event).toMatchObject({ from: 'assigned', to: 'acknowledged', ticket: { status: 'acknowledged' } })
    expect(Object.keys(event?.ticket ?? {})).not.toContain('timeline')
  })

  it("a flapping device's incident joins are folded into a count on the ticket, and still go out as events", async () => {
    const flaps = 40
    const readings = Array.from({ length: flaps }, () => [
      { type: 'temperature', celsius: 27 },
      { type: 'temperature', celsius: 31 },
    ]).flat()
    await world.publish('temp-1', ...readings)
    // Each join goes out as an event whatever the ticket keeps of it.
    const joins = await waitFor(
      async () => {
        const found = (await eventsOf(ticket.id)).filter((e) => e.type === 'ticket.incident_joined')
        return found.length === flaps ? found : undefined
      },
      { what: `${flaps} incident_joined events on the stream`, timeoutMs: 20_000 },
    )
    const flapped = await world.api<TicketView>(`/api/tickets/${ticket.id}`)
    console.info(
      `${flaps} flaps: incidents array ${flapped.incidents.length}, incident_joined entries on the timeline ` +
        `${flapped.timeline.filter((e) => e.type === 'ticket.incident_joined').length}, folded ${JSON.stringify(flapped.folded)}; ` +
        `join events ${(joins.reduce((sum, e) => sum + e.bytes, 0) / 1e6).toFixed(2)} MB`,
    )
    expect(flapped.folded?.['ticket.incident_joined']).toBe(flaps)
    expect(flapped.incidentCount).toBe(flaps + 1)
    expect(flapped.folded?.['ticket.incident_cleared']).toBe(flaps)
    expect(flapped.incidents.length).toBeLessThanOrEqual(10)
    expect(flapped.incidents[0]).toBe(ticket.incidents[0])
    expect(flapped.timeline.some((e) => e.type === 'ticket.incident_joined')).toBe(false)
    expect(joins.every((e) => e.folded === true && e.bytes < 4_000)).toBe(true)
    expect(joins.at(-1)?.ticket).toMatchObject({ counts: { incidents: flaps + 1 } })
    expect(await redis.strlen(ruleKeys(world.prefix).ticket(ticket.id))).toBeLessThan(64_000)
  })
})

describe('TICKET_TIMELINE_MAX', () => {
  it('caps short comments by count, as the setting says', async () => {
    const small = await startTestService({ site, env: { TICKET_TIMELINE_MAX: '30' } })
    try {
      await small.publish('temp-1', { type: 'temperature', celsius: 31 })
      const { items } = await waitFor(
        async () => {
          const page = await small.api<{ items: { id: string }[] }>('/api/tickets?device=temp-1')
          return page.items.length > 0 ? page : undefined
        },
        { what: 'the ticket of temp-1' },
      )
      const id = items[0]?.id ?? ''
      const statuses: number[] = []
      for (let n = 0; n < 40; n++) {
        const res = await fetch(`${small.publicUrl}/api/tickets/${id}/comment`, {
          method: 'POST',
          headers: {
            authorization: 'Bearer test-service-admin-key-0123456',
            'content-type': 'application/json',
          },
          body: JSON.stringify({ text: `short ${n}` }),
        })
        statuses.push(res.status)
      }
      const stored = await small.api<TicketView>(`/api/tickets/${id}`)
      expect(stored.timeline).toHaveLength(30)
      const accepted = stored.timeline.filter((e) => e.type === 'ticket.commented').length
      expect(statuses).toEqual([...Array(accepted).fill(200), ...Array(40 - accepted).fill(409)])
    } finally {
      await small.close()
    }
  })
})
