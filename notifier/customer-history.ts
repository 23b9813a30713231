import type { Redis } from 'ioredis'
import { z } from 'zod'
import {
  customerHistoryMember,
  customerHistoryOps,
  externalRefSchema,
  type IndexOp,
  type Page,
  readSortedSetPage,
  ruleKeys,
  type SortedSetPosition,
  type TicketStore,
  ticketSchema,
} from '../rules/index.ts'
import type { NotificationKeys } from './keys.ts'
import { channelSchema, notificationStatuses } from './notification-schema.ts'
import type { NotificationStore } from './notification-store.ts'

const at = z.string().meta({ description: 'When it happened (ISO-8601): the timeline is newest first by it' })

/** DESIGN.md § HTTP API, GET /api/customers/:id/history: one entry of a customer's timeline. */
export const customerHistoryEntrySchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('ticket'),
    at,
    /** Reported by this customer (POST /api/tickets), or one they were told about. */
    reported: z.boolean(),
    ticket: ticketSchema
      .pick({
        id: true,
        status: true,
        site: true,
        zone: true,
        device: true,
        rule: true,
        severity: true,
        createdAt: true,
        resolvedAt: true,
        title: true,
      })
      .extend({ externalRef: externalRefSchema.optional() }),
  }),
  z.object({
    kind: z.literal('message'),
    at,
    ticket: z.string().nullable(),
    notification: z.string(),
    template: z.string(),
    channel: channelSchema,
    to: z.string(),
    status: z.enum(notificationStatuses),
    attempts: z.number().int(),
    sentAt: z.string().nullable(),
    error: z.string().nullable(),
  }),
  z.object({ kind: z.literal('answer'), at, ticket: z.string(), value: z.string() }),
  z.object({
    kind: z.literal('customer-contact'),
    at,
    ticket: z.string(),
    /** reported: they opened the ticket (POST /api/tickets); support: a dispatcher logged their call on it. */
    via: z.enum(['reported', 'support']),
  }),
])
export type CustomerHistoryEntry = z.infer<typeof customerHistoryEntrySchema>

export type CustomerHistory = ReturnType<typeof createCustomerHistory>

/**
 * A customer's timeline, read through their history index (written with each record it names), newest
 * first; tickets and messages are loaded as they stand now, so a message shows its latest outcome.
 */
export function createCustomerHistory({
  redis,
  keys,
  notifications,
  tickets,
}: {
  redis: Redis
  keys: NotificationKeys
  notifications: Pick<NotificationStore, 'get'>
  tickets: Pick<TicketStore, 'get'>
}) {
  async function entryOf(
    customer: string,
    member: string,
    score: number,
  ): Promise<CustomerHistoryEntry | null> {
    // Trimmed away between the page's read and this one: skipped.
    if (!Number.isFinite(score)) return null
    const named = customerHistoryMember.read(member)
    const when = new Date(score).toISOString()
    switch (named?.kind) {
      case 'ticket': {
        const t = await tickets.get(named.ticket)
        if (!t) return null
        const { id, status, site, zone, device, rule, severity, createdAt, resolvedAt } = t
        return {
          kind: 'ticket',
          at: when,
          reported: t.reporter?.customer === customer,
          ticket: {
            id,
            status,
            site,
            zone,
            device,
            rule,
            severity,
            createdAt,
            resolvedAt,
            ...(t.title !== undefined && { title: t.title }),
            ...(t.externalRef && { externalRef: t.externalRef }),
          },
        }
      }
      case 'message': {
        const n = await notifications.get(named.notification)
        if (!n) return null
        return {
          kind: 'message',
          at: when,
          ticket: n.ticket,
          notification: n.id,
          template: n.template,
          channel: n.channel,
          to: n.to,
          status: n.status,
          attempts: n.attempts,
          sentAt: n.sentAt,
          error: n.error,
        }
      }
      case 'answer':
        return { kind: 'answer', at: when, ticket: named.ticket, value: named.value }
      case 'customer-contact':
        return { kind: 'customer-contact', at: when, ticket: named.ticket, via: named.via }
      default:
        return null
    }
  }

  return {
    page: (
      customer: string,
      { limit, after }: { limit: number; after?: SortedSetPosition | undefined },
    ): Promise<Page<CustomerHistoryEntry, SortedSetPosition>> => {
      const key = keys.customerHistory(customer)
      return readSortedSetPage({
        redis,
        key,
        order: 'newest',
        limit,
        after,
        load: async (members) => {
          const scores = await redis.zmscore(key, ...members)
          return Promise.all(members.map((m, i) => entryOf(customer, m, Number(scores[i] ?? Number.NaN))))
        },
      })
    },
  }
}

/**
 * A survey answer's entry in the history of the customer the survey to `from` about `ticket` went to,
 * found through the ticket's notifications; written with the answer's note on the ticket (`tickets.note`).
 */
export async function answerHistoryOps(
  { notifications, prefix }: { notifications: Pick<NotificationStore, 'ofTicket'>; prefix: string },
  { ticket, from, value, at }: { ticket: string; from: string; value: string; at: number },
): Promise<IndexOp[]> {
  const survey = (await notifications.ofTicket(ticket)).find(
    (n) => n.audience === 'customer' && n.template === 'survey' && n.to === from,
  )
  return survey
    ? customerHistoryOps(ruleKeys(prefix), survey.recipient, at, [{ kind: 'answer', at, ticket, value }])
    : []
}
