import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../config/index.ts'
import {
  createIncidentStore,
  createTicketStore,
  ensureTicketIndexes,
  ruleKeys,
  ticketIndexVersion,
} from '../../rules/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
const t0 = Date.parse('2026-03-01T08:00:00Z')
const min = 60_000

/** Stores over a fresh prefix, and a door forced then closed: its ticket's id. */
async function doorTickets() {
  const { redis, prefix } = await openTestRedis()
  const keys = ruleKeys(prefix)
  const tickets = createTicketStore({ redis, keys, sla: site.sla })
  const incidents = createIncidentStore({ redis, keys })
  const rule = site.rules.find((r) => r.id === 'door-forced')
  if (!rule) throw new Error('the demo site has door-forced')
  const open = async (device: string, at: number) => {
    const incident = await incidents.raise(
      { rule, correlationKey: `door-forced:${device}`, site: 'cdg-t2', zone: null, device },
      at,
      true,
    )
    const { ticket } = await tickets.openFor(incident, at)
    await incidents.clear(incident.correlationKey, at, false)
    return ticket.id
  }
  return { redis, prefix, keys, tickets, open }
}

describe('a deployment that predates the ticket indexes', () => {
  it('builds them once from its tickets on start: lists, loads, counters and KPIs as if kept all along', async () => {
    const { redis, prefix, keys, tickets, open } = await doorTickets()
    const a = await open('door-1', t0)
    await tickets.note(a, 'ticket.notified', 'notifier', t0 + 3 * min, 'sms to c (notice)')
    await tickets.act(a, 'ack', 'tech-a', t0 + 5 * min)
    await tickets.act(a, 'resolve', 'tech-a', t0 + 40 * min)
    const b = await open('door-1', t0 + 120 * min) // a's repeat within the week
    await tickets.update(b, (t) => ({ ...t, assignee: 'tech-b' }))
    await tickets.act(b, 'ack', 'tech-b', t0 + 125 * min)
    await open('door-2', t0 + 200 * min)
    const kept = {
      kpis: await tickets.kpis({}),
      loads: await tickets.loads(),
      counts: await tickets.counts(),
      acknowledged: (await tickets.page({ limit: 10, status: 'acknowledged' })).items.map((t) => t.id),
    }
    expect(kept.kpis).toMatchObject({ tickets: 3, firstVisitFixPercent: 0 })

    // What the older version left: documents without revisitedBy and none of the derived keys.
    const derived = [keys.ticketCounts, keys.technicianLoads, keys.ticketSites, keys.ticketIndexVersion]
    for (const pattern of [`${prefix}kpi:*`, `${prefix}tickets-by:*`])
      derived.push(...(await redis.keys(pattern)))
    await redis.del(...derived)
    const doc = JSON.parse((await redis.get(keys.ticket(a))) ?? '{}')
    delete doc.revisitedBy
    await redis.set(keys.ticket(a), JSON.stringify(doc))
    expect(await tickets.kpis({})).toMatchObject({ tickets: 0 })

    const logger = createLogger({ level: 'silent' })
    expect(await ensureTicketIndexes({ redis, keys, tickets, logger })).toEqual({ built: 3 })
    expect({
      kpis: await tickets.kpis({}),
      loads: await tickets.loads(),
      counts: await tickets.counts(),
      acknowledged: (await tickets.page({ limit: 10, status: 'acknowledged' })).items.map((t) => t.id),
    }).toEqual(kept)
    expect(await redis.get(keys.ticketIndexVersion)).toBe(ticketIndexVersion)
    // Built once: a second start (or another process) leaves them alone.
    expect(await ensureTicketIndexes({ redis, keys, tickets, logger })).toBeNull()
    expect(await tickets.counts()).toEqual(kept.counts)
    await redis.quit()
  })

  it('leaves indexes the stores kept alone when only the mark of their layout is missing', async () => {
    const { redis, keys, tickets, open } = await doorTickets()
    await open('door-1', t0)
    const kept = await tickets.counts()
    // A history written through the stores (vigie history generate) before any vigie started on it.
    await redis.del(keys.ticketIndexVersion)
    expect(
      await ensureTicketIndexes({ redis, keys, tickets, logger: createLogger({ level: 'silent' }) }),
    ).toBeNull()
    expect(await tickets.counts()).toEqual(kept)
    expect(await redis.get(keys.ticketIndexVersion)).toBe(ticketIndexVersion)
    await redis.quit()
  })

  it('is built by one of two processes starting together, and rebuilt whole after a builder died halfway', async () => {
    const { redis, prefix, keys, tickets, open } = await doorTickets()
    const a = await open('door-1', t0)
    await tickets.act(a, 'ack', 'tech-a', t0 + 5 * min)
    await open('door-2', t0 + 10 * min)
    const derived = async () => ({
      loads: await tickets.loads(),
      counts: await tickets.counts(),
      kpis: await tickets.kpis({}),
    })
    const kept = await derived()
    const strip = async () => {
      const derived = [keys.ticketCounts, keys.technicianLoads, keys.ticketSites, keys.ticketIndexVersion]
      for (const pattern of [`${prefix}kpi:*`, `${prefix}tickets-by:*`, `${prefix}offers-of:*`])
        derived.push(...(await redis.keys(pattern)))
      await redis.del(...derived)
    }
    const logger = createLogger({ level: 'silent' })
    const ensure = () => ensureTicketIndexes({ redis, keys, tickets, logger, claimMs: 2000, pollMs: 20 })

    await strip()
    // Each answers only once the indexes are there: the one that did not build waited for the other.
    const settled = () =>
      ensure().then(async (built) => ({ built, mark: await redis.get(keys.ticketIndexVersion) }))
    const both = await Promise.all([settled(), settled()])
    expect(both.map((r) => r.mark)).toEqual([ticketIndexVersion, ticketIndexVersion])
    expect(both.filter((r) => r.built !== null).map((r) => r.built)).toEqual([{ built: 2 }])
    expect(await derived()).toEqual(kept)

    // A builder that died after writing part of the counters: its claim lapses, its mark stays.
    await strip()
    await redis.hincrby(keys.ticketCounts, 'status:acknowledged', 7)
    await redis.set(keys.ticketIndexBuildMark, '1')
    await redis.set(keys.ticketIndexBuildLease, 'a-process-now-dead', 'PX', 150)
    expect(await ensure()).toEqual({ built: 2 })
    expect(await derived()).toEqual(kept)
    expect(await redis.exists(keys.ticketIndexBuildMark)).toBe(0)

    // An earlier vigie's claim: the version key itself, 'building', without a lifetime.
    await strip()
    await redis.hincrby(keys.ticketCounts, 'status:acknowledged', 7)
    await redis.set(keys.ticketIndexVersion, 'building')
    expect(await ensure()).toEqual({ built: 2 })
    expect(await derived()).toEqual(kept)
    await redis.quit()
  })
})
