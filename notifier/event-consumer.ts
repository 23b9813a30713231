import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { type TicketEvent, vigieEventSchema } from '../rules/index.ts'
import type { NotificationRequest } from './notification-schema.ts'

const group = 'notifier'

/**
 * Reads the route step's events (consumer group `notifier`) and enqueues what each asks for. An entry
 * is acknowledged once its jobs are queued; one read again after a crash is harmless, since every
 * notification is keyed by its event. Events older than `maxAgeMs` (a notifier down for long) are
 * acknowledged without a message: an offer from hours ago is worse than none.
 */
export function createEventConsumer({
  redis,
  eventsKey,
  notices,
  enqueue,
  logger,
  maxAgeMs = 3_600_000,
  blockMs = 1000,
}: {
  /** A connection of its own: XREADGROUP blocks it. */
  redis: Redis
  eventsKey: string
  /** Who hears about what: staff, customers. */
  notices: {
    requestsFor: (
      event: TicketEvent,
      eventId: string,
      now: number,
    ) => NotificationRequest[] | Promise<NotificationRequest[]>
  }[]
  enqueue: (request: NotificationRequest) => Promise<void>
  logger: Logger
  maxAgeMs?: number
  blockMs?: number
}) {
  let running = false
  let loop: Promise<void> | undefined

  async function handle(entries: [string, string[]][]) {
    for (const [id, fields] of entries) {
      try {
        const at = Number(id.split('-')[0])
        const parsed = vigieEventSchema.safeParse(JSON.parse(fields[1] ?? 'null'))
        if (!parsed.success) logger.warn({ entry: id }, 'event not understood; skipped')
        else if (Date.now() - at > maxAgeMs)
          logger.info({ entry: id, type: parsed.data.type }, 'event too old to notify')
        else if ('ticket' in parsed.data) {
          for (const notice of notices)
            for (const request of await notice.requestsFor(parsed.data, id, Date.now()))
              await enqueue(request)
        }
        await redis.xack(eventsKey, group, id)
      } catch (err) {
        // Not acknowledged: read again from the pending list on the next start.
        logger.error({ err, entry: id }, 'event not handled')
      }
    }
  }

  async function read(from: string) {
    const args: (string | number)[] = ['GROUP', group, 'notifier', 'COUNT', 100]
    if (from === '>') args.push('BLOCK', blockMs)
    const streams = (await redis.call('XREADGROUP', ...args, 'STREAMS', eventsKey, from)) as
      | [string, [string, string[]][]][]
      | null
    for (const [, entries] of streams ?? []) await handle(entries)
  }

  async function run() {
    // What was read but not acknowledged before a stop comes first.
    await read('0')
    while (running) {
      try {
        await read('>')
      } catch (err) {
        if (running) logger.error({ err }, 'reading events failed; retrying')
        await new Promise<void>((resolve) => setTimeout(resolve, blockMs))
      }
    }
  }

  return {
    start: async () => {
      await redis.xgroup('CREATE', eventsKey, group, '0', 'MKSTREAM').catch(() => undefined)
      running = true
      loop = run().catch((err: unknown) => logger.error({ err }, 'event consumer stopped'))
    },
    close: async () => {
      running = false
      await loop
    },
  }
}
