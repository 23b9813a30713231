import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { vigieEventSchema } from '../rules/index.ts'
import { createStreamConsumer, type FailedWorkLog, type StreamEntry } from '../streams/index.ts'
import { orderKeyOf, webhookMatches } from './webhook-match.ts'
import { deliveryIdOf, type WebhookQueue } from './webhook-queue.ts'
import type { WebhookRegistry } from './webhook-registry.ts'

const group = 'webhooks'

/**
 * Reads the events stream in its own group and queues one delivery per matching webhook, the entry's JSON
 * as the body (the same text /ws sends). An entry read twice queues nothing twice: a delivery's id is its
 * webhook's and its event's.
 */
export function createWebhookConsumer({
  redis,
  eventsKey,
  registry,
  queue,
  failedWork,
  logger,
  blockMs,
  now,
}: {
  /** A connection of its own: XREADGROUP blocks it, and close() disconnects it. */
  redis: Redis
  eventsKey: string
  registry: WebhookRegistry
  queue: WebhookQueue
  failedWork: FailedWorkLog
  logger: Logger
  blockMs?: number
  now?: () => number
}) {
  async function handle({ id, fields }: StreamEntry) {
    const body = fields.e ?? ''
    let parsed: ReturnType<typeof vigieEventSchema.safeParse>
    try {
      parsed = vigieEventSchema.safeParse(JSON.parse(body))
    } catch {
      return
    }
    // One not understood is kept in failed work by the notifier's own group already.
    if (!parsed.success || parsed.data.type === 'webhook.paused') return
    // Device commands (issue 19) are not among the types a webhook may ask for.
    if ('command' in parsed.data) return
    const event = parsed.data
    for (const { webhook } of await registry.all()) {
      if (!webhookMatches(webhook, event)) continue
      await queue.push({
        id: deliveryIdOf(webhook.id, id),
        webhook: webhook.id,
        event: id,
        type: event.type,
        order: orderKeyOf(event),
        body,
      })
    }
  }

  const consumer = createStreamConsumer({
    redis,
    stream: eventsKey,
    group,
    source: 'notifier',
    failedWork,
    handle,
    logger,
    ...(blockMs === undefined ? {} : { blockMs }),
    ...(now === undefined ? {} : { now }),
  })
  return {
    start: async (): Promise<void> => {
      // From now on: a first start does not send the stream's whole past to the receivers.
      await redis.xgroup('CREATE', eventsKey, group, '$', 'MKSTREAM').catch((err: unknown) => {
        if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err
      })
      await consumer.start()
    },
    close: consumer.close,
  }
}
