import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { VigieError } from '../domain/index.ts'
import { type TicketEvent, type VigieEvent, vigieEventSchema } from '../rules/index.ts'
import { createStreamConsumer, type FailedWorkLog, type StreamEntry } from '../streams/index.ts'
import type { NotificationRequest } from './notification-schema.ts'

const group = 'notifier'

function jsonOf(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? 'null')
  } catch {
    return undefined
  }
}

/**
 * Reads the route step's events (consumer group `notifier`) and enqueues what each asks for. An entry
 * is acknowledged once its jobs are queued; one handled twice is harmless, since every notification is
 * keyed by its event. Events older than `maxAgeMs` (a notifier down for long) are acknowledged without a
 * message: an offer from hours ago is worse than none. An event that fails is tried again, then kept in
 * the failed-work log, as one no schema understands is at once (issue 16).
 */
export function createEventConsumer({
  redis,
  eventsKey,
  notices,
  enqueue,
  otherRequests = () => [],
  failedWork,
  logger,
  maxAgeMs = 3_600_000,
  blockMs = 1000,
  claimIdleMs,
  retryDelayMs,
  maxAttempts,
  now = Date.now,
}: {
  /** A connection of its own: XREADGROUP blocks it, and close() disconnects it. */
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
  /** What an event about no ticket asks for (a webhook paused, issue 18). */
  otherRequests?: (
    event: Extract<VigieEvent, { type: 'webhook.paused' }>,
    eventId: string,
  ) => NotificationRequest[]
  failedWork: FailedWorkLog
  logger: Logger
  maxAgeMs?: number
  blockMs?: number
  claimIdleMs?: number
  retryDelayMs?: number
  maxAttempts?: number
  now?: () => number
}) {
  async function handle({ id, fields }: StreamEntry) {
    const parsed = vigieEventSchema.safeParse(jsonOf(fields.e))
    // Written by vigie itself: one not understood comes from another version or a bug, and is kept to be seen.
    if (!parsed.success)
      throw new VigieError({
        code: 'STREAM_ENTRY_REJECTED',
        message: 'event not understood',
        cause: parsed.error,
      })
    // The event's own time, read from the clock that wrote it (the entry's id is Redis' wall clock).
    const written = Date.parse(parsed.data.at)
    const at = Number.isFinite(written) ? written : Number(id.split('-')[0])
    if (now() - at > maxAgeMs) {
      logger.info({ entry: id, type: parsed.data.type }, 'event too old to notify')
      return
    }
    if (!('ticket' in parsed.data)) {
      if (parsed.data.type === 'webhook.paused')
        for (const request of otherRequests(parsed.data, id)) await enqueue(request)
      return
    }
    for (const notice of notices)
      for (const request of await notice.requestsFor(parsed.data, id, now())) await enqueue(request)
  }

  return createStreamConsumer({
    redis,
    stream: eventsKey,
    group,
    source: 'notifier',
    failedWork,
    handle,
    logger,
    blockMs,
    claimIdleMs,
    retryDelayMs,
    maxAttempts,
    now,
  })
}
