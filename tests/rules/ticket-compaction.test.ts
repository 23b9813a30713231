import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../config/index.ts'
import {
  compactFinishedTickets,
  createIncidentStore,
  createTicketStore,
  ruleKeys,
} from '../../rules/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
const t0 = Date.parse('2026-01-05T08:00:00Z')
const min = 60_000
const day = 86_400_000

describe('compacting old finished tickets', () => {
  it('folds their automatic repeats, keeps what the KPIs read, and leaves open and recent tickets alone', async () => {
    const { redis, prefix } = await openTestRedis()
    const keys = ruleKeys(prefix)
    const tickets = createTicketStore({ redis, keys, sla: site.sla })
    const incidents = createIncidentStore({ redis, keys })
    const rule = site.rules.find((r) => r.id === 'lounge-too-hot')
    if (!rule) throw new Error('the demo site has lounge-too-hot')
    const story = async (device: string, at: number, finish: boolean) => {
      const incident = await incidents.raise(
        { rule, correlationKey: `lounge-too-hot:${device}`, site: 'cdg-t2', zone: null, device },
        at,
        true,
      )
      const { ticket } = await tickets.openFor(incident, at)
      for (let n = 1; n <= 12; n++)
        await tickets.note(ticket.id, 'ticket.notified', 'notifier', at + n * min, `sms to c-${n} (notice)`)
      await tickets.note(ticket.id, 'ticket.customer_contacted', 'desk', at + 20 * min, 'called')
      await tickets.note(ticket.id, 'ticket.customer_contacted', 'desk', at + 21 * min, 'called again')
      await tickets.act(ticket.id, 'ack', 'tech-a', at + 25 * min)
      await tickets.note(ticket.id, 'ticket.commented', 'tech-a', at + 26 * min, 'fan belt')
      if (finish) {
        await tickets.act(ticket.id, 'resolve', 'tech-a', at + 50 * min)
        await tickets.note(ticket.id, 'ticket.survey_answered', 'customer', at + 90 * min, '4')
        await tickets.act(ticket.id, 'close', 'dispatch', at + 100 * min)
      }
      return ticket.id
    }
    const old = await story('temp-1', t0, true)
    const oldOpen = await story('temp-2', t0 + min, false)
    const recent = await story('temp-3', t0 + 100 * day, true)
    const before = {
      kpis: await tickets.kpis({}),
      old: await tickets.get(old),
      oldOpen: await tickets.get(oldOpen),
      recent: await tickets.get(recent),
    }

    const compact = () => compactFinishedTickets({ redis, keys, tickets, createdBefore: t0 + 90 * day })
    expect(await compact()).toBe(1)
    const after = await tickets.get(old)
    expect(after?.timeline.map((e) => e.type)).toEqual([
      'ticket.created',
      'ticket.notified',
      'ticket.customer_contacted',
      'ticket.acknowledged',
      'ticket.commented',
      'ticket.resolved',
      'ticket.survey_answered',
      'ticket.closed',
    ])
    expect(after?.folded).toEqual({ 'ticket.notified': 11, 'ticket.customer_contacted': 1 })
    expect(JSON.stringify(after).length).toBeLessThan((JSON.stringify(before.old).length * 2) / 3)
    expect(await tickets.kpis({})).toEqual(before.kpis)
    expect(await tickets.get(oldOpen)).toEqual(before.oldOpen)
    expect(await tickets.get(recent)).toEqual(before.recent)
    // Where the last sweep stopped: nothing left to do.
    expect(await compact()).toBe(0)
    await redis.quit()
  })
})
