// Issue 18: a customer's history keeps its newest entries only, trimmed in the write that adds one.

import type { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { loadConfig } from '../../config/index.ts'
import { createCustomerHistory, createNotificationStore, notificationKeys } from '../../notifier/index.ts'
import { createTicketIntake, createTicketStore, ruleKeys } from '../../rules/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
let redis: Redis
let prefix = ''

beforeAll(async () => {
  ;({ redis, prefix } = await openTestRedis())
})
afterAll(async () => {
  await redis.quit()
})

it('keeps the newest entries of a customer up to its bound, and reads them newest first', async () => {
  const keys = ruleKeys(prefix)
  const tickets = createTicketStore({ redis, keys, sla: site.sla })
  const intake = createTicketIntake({ keys, tickets, sla: site.sla, historyMax: 3 })
  const start = Date.parse('2026-12-01T10:00:00Z')
  const opened: string[] = []
  for (let i = 0; i < 4; i++) {
    const { ticket } = await intake.open(
      {
        site: 'cdg-t2',
        zone: null,
        device: null,
        title: `call ${i}`,
        severity: 'minor',
        reporter: { name: 'Caller', customer: 'cust-1' },
        externalRef: { source: 'crm', id: `CASE-${i}` },
      },
      'desk',
      start + i * 60_000,
    )
    opened.push(ticket.id)
  }
  expect(await redis.zcard(keys.customerHistory('cust-1'))).toBe(3)
  const history = createCustomerHistory({
    redis,
    keys: notificationKeys(prefix),
    notifications: createNotificationStore({ redis, keys: notificationKeys(prefix) }),
    tickets,
  })
  const page = await history.page('cust-1', { limit: 10 })
  // Each report writes two entries (the ticket and the contact): the last report's two, then one of the third's.
  expect(page.items.map((e) => [e.kind, e.at])).toEqual([
    ['ticket', '2026-12-01T10:03:00.000Z'],
    ['customer-contact', '2026-12-01T10:03:00.000Z'],
    [expect.any(String), '2026-12-01T10:02:00.000Z'],
  ])
  expect(page.items[0]).toMatchObject({
    kind: 'ticket',
    reported: true,
    ticket: { id: opened[3], title: 'call 3' },
  })
  expect((await history.page('cust-2', { limit: 10 })).items).toEqual([])
})
