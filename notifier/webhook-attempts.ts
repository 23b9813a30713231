import type { Redis } from 'ioredis'
import { z } from 'zod'
import { readStreamPage, type StreamPage } from '../streams/index.ts'
import { notificationKeys } from './keys.ts'

/** One POST to a receiver, as GET /api/webhooks/:id/deliveries lists it. */
export const webhookAttemptSchema = z.object({
  /** This attempt's position in the webhook's log: pages start before it. */
  id: z.string(),
  delivery: z.string().meta({ description: 'X-Vigie-Delivery: the same for every attempt of one event' }),
  event: z.string().meta({ description: "The event's id in the events stream" }),
  type: z.string().meta({ description: "The event's type (X-Vigie-Event)" }),
  attempt: z.number().int().min(1).meta({ description: 'This delivery job’s attempt, from 1' }),
  status: z
    .number()
    .int()
    .nullable()
    .meta({ description: "The receiver's HTTP status; null when none came" }),
  error: z.string().nullable(),
  latencyMs: z.number().int().min(0),
  outcome: z
    .enum(['delivered', 'retrying', 'failed', 'held'])
    .meta({ description: 'delivered (2xx), retrying, failed for good, or held (the webhook was paused)' }),
  at: z.string(),
})
export type WebhookAttempt = z.infer<typeof webhookAttemptSchema>

const recordSchema = webhookAttemptSchema.omit({ id: true })

export type WebhookAttempts = ReturnType<typeof createWebhookAttempts>

/** Each webhook's newest attempts, a stream capped at `kept`: paged by entry id, never scanned. */
export function createWebhookAttempts({
  redis,
  prefix,
  kept,
}: {
  redis: Redis
  prefix: string
  kept: number
}) {
  const keys = notificationKeys(prefix)
  return {
    add: async (webhook: string, attempt: Omit<WebhookAttempt, 'id'>): Promise<void> => {
      await redis.xadd(keys.webhook(webhook).attempts, 'MAXLEN', kept, '*', 'a', JSON.stringify(attempt))
    },
    /** Newest first, from before an attempt's id; next is the id the following page starts before. */
    page: async (
      webhook: string,
      { limit, before }: { limit: number; before?: string | undefined },
    ): Promise<StreamPage<WebhookAttempt>> =>
      readStreamPage(redis, keys.webhook(webhook).attempts, { limit, before }, (record, id) => ({
        id,
        ...recordSchema.parse(record),
      })),
  }
}
