import { readFileSync } from 'node:fs'
import type { Redis, Result } from 'ioredis'
import {
  customerHistoryMax,
  customerHistoryMember,
  type Page,
  readSortedSetPage,
  type SortedSetPosition,
} from '../rules/index.ts'
import type { NotificationKeys } from './keys.ts'
import { type Notification, notificationSchema } from './notification-schema.ts'

// Older notifications stay readable by ticket; the all-tickets list keeps only the newest.
const recentKept = 10_000

export type NotificationStore = ReturnType<typeof createNotificationStore>

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** notifier/scripts/open-notification.lua: numberOfKeys, then its KEYS and ARGV. */
    vigieOpenNotification(numberOfKeys: number, ...args: (string | number)[]): Result<number, Context>
  }
}

const openScript = readFileSync(new URL('./scripts/open-notification.lua', import.meta.url), 'utf8')

/** Every notification's record: status, attempts and when it was sent, kept by its idempotency key. */
export function createNotificationStore({
  redis,
  keys,
  historyMax = customerHistoryMax,
}: {
  redis: Redis
  keys: NotificationKeys
  /** Entries kept in each customer's history (rules/customer-history.ts). */
  historyMax?: number
}) {
  redis.defineCommand('vigieOpenNotification', { lua: openScript })
  const get = async (id: string): Promise<Notification | null> => {
    const doc = await redis.get(keys.notification(id))
    return doc ? notificationSchema.parse(JSON.parse(doc)) : null
  }
  return {
    get,

    /**
     * Creates the record unless it exists, indexed at `at` (when it was queued) in the same step, a
     * customer's in their history too; returns it as it stands.
     */
    open: async (record: Notification, at: number): Promise<Notification> => {
      const customer = record.audience === 'customer'
      const created = await redis.vigieOpenNotification(
        4,
        keys.notification(record.id),
        keys.recent,
        keys.ofTicket(record.ticket ?? ''),
        keys.customerHistory(record.recipient),
        record.id,
        JSON.stringify(record),
        at,
        recentKept,
        record.ticket ? '1' : '0',
        customer ? customerHistoryMember.of({ kind: 'message', notification: record.id }) : '',
        customer && record.ticket ? customerHistoryMember.of({ kind: 'ticket', ticket: record.ticket }) : '',
        historyMax,
      )
      return created === 1 ? record : ((await get(record.id)) ?? record)
    },

    save: async (record: Notification): Promise<void> => {
      const multi = redis.multi().set(keys.notification(record.id), JSON.stringify(record))
      if (record.providerId) multi.set(keys.byProviderId(record.providerId), record.id, 'EX', 7 * 86_400)
      // Saved once per outcome (sent, failed, suppressed, then delivered by the receipt): counted each time.
      if (record.status !== 'queued') multi.hincrby(keys.outcomes, record.status, 1)
      await multi.exec()
    },

    byProviderId: async (providerId: string): Promise<Notification | null> => {
      const id = await redis.get(keys.byProviderId(providerId))
      return id ? get(id) : null
    },

    outcomes: async (): Promise<Record<string, number>> =>
      Object.fromEntries(Object.entries(await redis.hgetall(keys.outcomes)).map(([k, v]) => [k, Number(v)])),

    /** One ticket's, oldest first (the order they went out), or everyone's newest first. */
    page: ({
      ticket,
      limit,
      after,
    }: {
      ticket?: string | undefined
      limit: number
      after?: SortedSetPosition | undefined
    }): Promise<Page<Notification, SortedSetPosition>> =>
      readSortedSetPage({
        redis,
        key: ticket === undefined ? keys.recent : keys.ofTicket(ticket),
        order: ticket === undefined ? 'newest' : 'oldest',
        limit,
        after,
        load: async (ids) =>
          (await redis.mget(ids.map(keys.notification))).map((doc) =>
            doc ? notificationSchema.parse(JSON.parse(doc)) : null,
          ),
      }),

    ofTicket: async (ticket: string): Promise<Notification[]> => {
      const ids = await redis.zrange(keys.ofTicket(ticket), 0, -1)
      const docs = ids.length ? await redis.mget(ids.map(keys.notification)) : []
      return docs
        .filter((doc): doc is string => doc !== null)
        .map((doc) => notificationSchema.parse(JSON.parse(doc)))
    },
  }
}
