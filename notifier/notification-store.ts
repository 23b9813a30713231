import type { Redis } from 'ioredis'
import { type Page, readSortedSetPage, type SortedSetPosition } from '../rules/index.ts'
import type { NotificationKeys } from './keys.ts'
import { type Notification, notificationSchema } from './notification-schema.ts'

// Older notifications stay readable by ticket; the all-tickets list keeps only the newest.
const recentKept = 10_000

export type NotificationStore = ReturnType<typeof createNotificationStore>

/** Every notification's record: status, attempts and when it was sent, kept by its idempotency key. */
export function createNotificationStore({ redis, keys }: { redis: Redis; keys: NotificationKeys }) {
  const get = async (id: string): Promise<Notification | null> => {
    const doc = await redis.get(keys.notification(id))
    return doc ? notificationSchema.parse(JSON.parse(doc)) : null
  }
  return {
    get,

    /** Creates the record unless it exists, indexed at `at` (when it was queued); returns it as it stands. */
    open: async (record: Notification, at: number): Promise<Notification> => {
      const created = await redis.set(keys.notification(record.id), JSON.stringify(record), 'NX')
      if (created === 'OK') {
        const multi = redis
          .multi()
          .zadd(keys.recent, at, record.id)
          .zremrangebyrank(keys.recent, 0, -recentKept - 1)
        if (record.ticket) multi.zadd(keys.ofTicket(record.ticket), at, record.id)
        await multi.exec()
      }
      return created === 'OK' ? record : ((await get(record.id)) ?? record)
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
