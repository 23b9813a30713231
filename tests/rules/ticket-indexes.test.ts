import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, type Technician } from '../../config/index.ts'
import {
  computeKpis,
  createDispatcher,
  createTechnicianRoster,
  createTicketStore,
  type Incident,
  ruleKeys,
  type Ticket,
  type TicketStore,
} from '../../rules/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
const t0 = Date.parse('2026-01-01T00:00:00Z')
const min = 60_000

const incidentAt = (n: number, at: number, key = `door-forced:door-${n}`): Incident => ({
  id: `incident-${n}`,
  correlationKey: key,
  rule: 'door-forced',
  severity: 'critical',
  site: 'cdg-t2',
  zone: 't2-gates',
  device: `door-${n % 500}`,
  status: 'active',
  openedAt: new Date(at).toISOString(),
  updatedAt: new Date(at).toISOString(),
  clearedAt: null,
  count: 1,
  lastValue: null,
})

/** Runs `task` for 0..count-1, `width` at a time. */
async function inParallel(count: number, width: number, task: (i: number) => Promise<unknown>) {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++)
    }),
  )
}

describe('a year of tickets read through indexes', () => {
  const total = 100_000
  let redis: Redis
  let tickets: TicketStore
  let dispatcher: ReturnType<typeof createDispatcher>
  const old: string[] = []

  beforeAll(async () => {
    const opened = await openTestRedis()
    redis = opened.redis
    const keys = ruleKeys(opened.prefix)
    tickets = createTicketStore({ redis, keys, sla: site.sla })
    // A is 30 m nearer than B: equally near for dispatch, so the lighter load goes first.
    const tech = (id: string, lat: number): Technician => ({
      id,
      name: id,
      phone: '+33600000042',
      language: 'en',
      skills: ['security'],
      location: { lat, lon: 2.57 },
      available: true,
    })
    const roster = createTechnicianRoster({
      redis,
      keys,
      technicians: [tech('tech-a', 49.0), tech('tech-b', 49.0003)],
    })
    await roster.seed()
    dispatcher = createDispatcher({
      redis,
      keys,
      tickets,
      roster,
      world: { sites: site.sites, rules: site.rules, dispatch: site.dispatch },
      placeOf: async () => ({ lat: 49.0, lon: 2.57 }),
    })
    // A year: 100,000 tickets, one every five minutes; tech-a took the 30 oldest and resolved 5 of them.
    await inParallel(total, 64, async (n) => {
      const at = t0 + n * 5 * min
      const { ticket } = await tickets.openFor(incidentAt(n, at), at)
      if (n < 30) old[n] = ticket.id
    })
    for (const [n, id] of old.entries()) {
      await dispatcher.accept(id, 'tech-a', t0 + n * 5 * min + min, null, { override: true })
      if (n < 5) await tickets.act(id, 'resolve', 'tech-a', t0 + n * 5 * min + 30 * min)
    }
  }, 300_000)
  afterAll(async () => {
    await redis.quit()
  })

  it('balances loads over every ticket, not the newest 10,000: the new ticket goes to the lighter B', async () => {
    const at = t0 + total * 5 * min
    const { ticket } = await tickets.openFor(incidentAt(total, at), at)
    const offered = await dispatcher.dispatch(ticket.id, at)
    expect(offered?.offer?.technician).toBe('tech-b')
  })

  it('lists the 25 acknowledged tickets of a year ago on the first page of status=acknowledged', async () => {
    const page = await tickets.page({ limit: 50, status: 'acknowledged' })
    expect(page.items.map((t) => t.id).sort()).toEqual(old.slice(5).sort())
    expect(page.next).toBeNull()
  })

  it('counts open tickets and loads from kept counters', async () => {
    expect((await tickets.loads()).get('tech-a')).toBe(25)
    expect(await tickets.counts()).toMatchObject({ 'status:acknowledged': 25, 'status:resolved': 5 })
  })
})

describe('KPIs from kept sums', () => {
  let redis: Redis
  let tickets: TicketStore
  const all: Ticket[] = []

  // Minutes under 100 in seconds, above in whole hundreds: where the sums' three digits are exact.
  const offset = (n: number, scale: number) =>
    n % 3 === 0 ? ((n * 7919) % 5940) * 1000 + 60_000 : (1 + (n % scale)) * 100 * min

  beforeAll(async () => {
    const opened = await openTestRedis()
    redis = opened.redis
    tickets = createTicketStore({ redis, keys: ruleKeys(opened.prefix), sla: site.sla })
    // 400 tickets over ten days on 40 keys, so keys repeat: some within a week of a resolution.
    for (let n = 0; n < 400; n++) {
      const at = t0 + n * 37 * min
      const created = await tickets.openFor(incidentAt(n, at, `door-forced:door-${n % 40}`), at)
      if (!created.created) continue
      const id = created.ticket.id
      if (n % 5 !== 4)
        await tickets.note(id, 'ticket.notified', 'notifier', at + offset(n, 3), 'sms to c (notice)')
      if (n % 4 !== 3) await tickets.act(id, 'ack', 'tech-a', at + offset(n + 1, 2))
      if (n % 9 === 8) await tickets.note(id, 'ticket.customer_contacted', 'desk', at + offset(n + 2, 4))
      if (n % 6 !== 5) await tickets.act(id, 'resolve', 'tech-a', at + offset(n + 3, 9))
      else await tickets.act(id, 'cancel', 'tech-a', at + min)
      if (n % 3 === 1)
        await tickets.note(id, 'ticket.survey_answered', 'customer', at + 999 * min, `${1 + (n % 5)}`)
    }
    let after: [number, string] | undefined
    for (;;) {
      const page = await tickets.page({ limit: 100, after })
      all.push(...page.items)
      if (!page.next) break
      after = [page.next[0], page.next[1]]
    }
  }, 60_000)
  afterAll(async () => {
    await redis.quit()
  })

  const ranges: [string, number | undefined, number | undefined][] = [
    ['every ticket', undefined, undefined],
    ['whole days', t0 + 86_400_000, t0 + 5 * 86_400_000],
    ['ragged edges', t0 + 86_400_000 * 2.37, t0 + 86_400_000 * 8.61],
    ['one partial hour', t0 + 3.2 * 3_600_000, t0 + 3.9 * 3_600_000],
  ]
  it.each(ranges)('equal those computed from every timeline: %s', async (_name, from, to) => {
    const chosen = all.filter((t) => {
      const created = Date.parse(t.createdAt)
      return created >= (from ?? -Infinity) && created < (to ?? Infinity)
    })
    expect(chosen.length).toBeGreaterThan(0)
    expect(await tickets.kpis({ from, to })).toEqual(computeKpis(chosen, all))
    expect(await tickets.kpis({ from, to, site: 'elsewhere' })).toMatchObject({ tickets: 0 })
  })
})
