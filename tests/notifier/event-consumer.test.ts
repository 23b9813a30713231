import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEventConsumer, type NotificationRequest } from '../../notifier/index.ts'
import { type TicketEvent, ticketEventSchema } from '../../rules/index.ts'
import { createLogger, openClient } from '../../service/index.ts'
import { createFailedWorkLog, type FailedWorkLog, streamKeys } from '../../streams/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { waitFor } from '../support/wait-for.ts'

const log = createLogger({ level: 'silent' })
let redis: Redis
let url: string
let eventsKey: string
let failedWork: FailedWorkLog
const closers: (() => Promise<void>)[] = []

beforeEach(async () => {
  const opened = await openTestRedis()
  ;({ redis, url } = opened)
  eventsKey = `${opened.prefix}events`
  failedWork = createFailedWorkLog({ redis, keys: streamKeys(opened.prefix) })
})
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
  await redis.quit()
})

/** A `ticket.created` event of ticket `id`, as the route step writes it. */
const created = (id: string): TicketEvent => {
  const at = new Date().toISOString()
  return ticketEventSchema.parse({
    type: 'ticket.created',
    id,
    correlationKey: `door-forced:${id}`,
    at,
    by: 'rules',
    detail: null,
    from: null,
    to: 'open',
    ticket: {
      id,
      correlationKey: `door-forced:${id}`,
      rule: 'door-forced',
      device: 'door-gate-1',
      site: 'cdg-t2',
      zone: 't2-gates',
      severity: 'critical',
      status: 'open',
      assignee: null,
      offer: null,
      createdAt: at,
      slaDueAt: at,
      resolvedAt: null,
      counts: { timeline: 1, offers: 0, incidents: 1 },
    },
  })
}

const request = (event: TicketEvent, eventId: string): NotificationRequest => ({
  key: `${eventId}:staff`,
  ticket: event.ticket.id,
  event: eventId,
  audience: 'staff',
  recipient: 'tech-amina',
  template: 'offer',
  contacts: [{ channel: 'sms', to: '+33600000001' }],
  content: { sms: { text: `ticket ${event.ticket.id}` } },
})

/** Events added in one MULTI: a blocked reader gets them all in one read. */
async function addEvents(...texts: string[]): Promise<string[]> {
  const replies = await texts.reduce((m, text) => m.xadd(eventsKey, '*', 'e', text), redis.multi()).exec()
  return (replies ?? []).map(([, id]) => id as string)
}

async function startEventConsumer(
  options: Partial<Parameters<typeof createEventConsumer>[0]> &
    Pick<Parameters<typeof createEventConsumer>[0], 'notices'>,
  { keep = true } = {},
) {
  const connection = await openClient(url, 5000)
  const consumer = createEventConsumer({
    redis: connection,
    eventsKey,
    enqueue: async () => {},
    failedWork,
    logger: log,
    blockMs: 50,
    retryDelayMs: 10,
    ...options,
  })
  await consumer.start()
  if (keep) closers.push(consumer.close)
  return { consumer, connection }
}

describe('the notifier event consumer', () => {
  it('enqueues what a ticket event asks for, and keeps an event no schema understands in failed work', async () => {
    const enqueued: NotificationRequest[] = []
    await startEventConsumer({
      notices: [{ requestsFor: (event, eventId) => [request(event, eventId)] }],
      enqueue: async (r) => {
        enqueued.push(r)
      },
    })
    const [ticketEvent, nonsense] = await addEvents(
      JSON.stringify(created('t-1')),
      '{"type":"ticket.exploded"}',
    )
    const { items } = await waitFor(async () => {
      const page = await failedWork.page({ limit: 10 })
      return page.items.length > 0 && enqueued.length > 0 ? page : undefined
    })
    expect(enqueued.map((r) => [r.ticket, r.event])).toEqual([['t-1', ticketEvent]])
    expect(items).toEqual([
      expect.objectContaining({
        source: 'notifier',
        entry: nonsense,
        fields: { e: '{"type":"ticket.exploded"}' },
        reason: expect.stringMatching(/^event not understood: /),
        attempts: 1,
      }),
    ])
    expect((await redis.xpending(eventsKey, 'notifier'))[0]).toBe(0)
  })

  it('acknowledges an event too old to notify without asking anyone', async () => {
    let asked = 0
    // The notifier's clock is two hours ahead of the events' ids.
    await startEventConsumer({
      notices: [
        {
          requestsFor: () => {
            asked++
            return []
          },
        },
      ],
      now: () => Date.now() + 7_200_000,
    })
    await addEvents(JSON.stringify(created('t-old')))
    await waitFor(async () => {
      const info = (await redis.xinfo('GROUPS', eventsKey)) as unknown[][]
      const fields = info[0] ?? []
      return fields[fields.indexOf('entries-read') + 1] === 1 && fields[fields.indexOf('pending') + 1] === 0
    })
    expect(asked).toBe(0)
    expect((await failedWork.page({ limit: 10 })).items).toEqual([])
  })

  it('tries an event whose notices fail again, then keeps it in failed work with the reason', async () => {
    let calls = 0
    await startEventConsumer({
      maxAttempts: 4,
      notices: [
        {
          requestsFor: () => {
            calls++
            throw new Error('customer book unreadable')
          },
        },
      ],
    })
    const [id] = await addEvents(JSON.stringify(created('t-2')))
    const { items } = await waitFor(async () => {
      const page = await failedWork.page({ limit: 10 })
      return page.items.length > 0 ? page : undefined
    })
    expect(calls).toBe(4)
    expect(items.map((w) => [w.entry, w.reason, w.attempts])).toEqual([[id, 'customer book unreadable', 4]])
    expect((await redis.xpending(eventsKey, 'notifier'))[0]).toBe(0)
  })

  it('has another notifier finish, once each, the events of one that died in the middle of its batch', async () => {
    const begun: string[] = []
    const first = await startEventConsumer(
      {
        claimIdleMs: 200,
        notices: [
          {
            requestsFor: (_event, eventId) => {
              begun.push(eventId)
              return new Promise<NotificationRequest[]>(() => {})
            },
          },
        ],
      },
      { keep: false },
    )
    const ids = await addEvents(...['t-3', 't-4', 't-5'].map((t) => JSON.stringify(created(t))))
    await waitFor(() => begun.length === 1, { what: 'the first notifier on its batch' })
    first.connection.disconnect()

    const enqueued: NotificationRequest[] = []
    await startEventConsumer({
      claimIdleMs: 200,
      notices: [{ requestsFor: (event, eventId) => [request(event, eventId)] }],
      enqueue: async (r) => {
        enqueued.push(r)
      },
    })
    await waitFor(
      async () => enqueued.length === 3 && (await redis.xpending(eventsKey, 'notifier'))[0] === 0,
      { what: 'the batch finished by the second notifier' },
    )
    expect(enqueued.map((r) => [r.ticket, r.event])).toEqual([
      ['t-3', ids[0]],
      ['t-4', ids[1]],
      ['t-5', ids[2]],
    ])
    expect(begun).toEqual([ids[0]])
  })
})
