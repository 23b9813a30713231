import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Queue } from 'bullmq'
import type { Redis, Result } from 'ioredis'
import { z } from 'zod'
import { notificationKeys } from './keys.ts'

type OwnerReply = [number, string | null, string | null]

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** notifier/scripts/webhook-push.lua */
    vigieWebhookPush(...args: string[]): Result<OwnerReply, Context>
    /** notifier/scripts/webhook-advance.lua */
    vigieWebhookAdvance(...args: string[]): Result<OwnerReply, Context>
    /** notifier/scripts/webhook-reschedule.lua */
    vigieWebhookReschedule(...args: string[]): Result<[string, string] | [], Context>
  }
}

const pushScript = readFileSync(new URL('./scripts/webhook-push.lua', import.meta.url), 'utf8')
const advanceScript = readFileSync(new URL('./scripts/webhook-advance.lua', import.meta.url), 'utf8')
const rescheduleScript = readFileSync(new URL('./scripts/webhook-reschedule.lua', import.meta.url), 'utf8')

export const webhookQueueName = 'webhooks'

/** A webhook job: send the head of one ticket's list, if it is still this job's to send. */
export const webhookJobSchema = z.object({ webhook: z.string(), order: z.string(), entry: z.string() })
export type WebhookJob = z.infer<typeof webhookJobSchema>

/** One event to one webhook: what is POSTed and where it stands in its ticket's order. */
export const webhookDeliverySchema = z.object({
  id: z.string(),
  webhook: z.string(),
  event: z.string(),
  type: z.string(),
  order: z.string(),
  body: z.string(),
})
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>

/** X-Vigie-Delivery: stable for one event and one webhook, whoever computes it, however often. */
export const deliveryIdOf = (webhook: string, eventId: string): string =>
  createHash('sha256').update(`${webhook}|${eventId}`).digest('hex').slice(0, 32)

/** A list entry is the delivery id, with "r<n>" after it for a redelivery. */
export const deliveryOfEntry = (entry: string): string => entry.split('r')[0] ?? entry

// Done deliveries stay this long for a redelivery; pending ones (a paused webhook's) never expire.
const doneTtlSeconds = 7 * 86_400

export type WebhookQueue = ReturnType<typeof createWebhookQueue>

/**
 * Issue 18's order per ticket, which BullMQ alone does not give: each (webhook, ticket) has a list in
 * Redis, and one job at a time, its owner, sends the list's head; the next job is added when the head is
 * done. Scripts keep the list and its owner together, so a stale or doubled job sends nothing.
 */
export function createWebhookQueue({
  redis,
  prefix,
  attempts,
}: {
  redis: Redis
  prefix: string
  /** Attempts of each job before its delivery fails for good (WEBHOOK_ATTEMPTS). */
  attempts: number
}) {
  const keys = notificationKeys(prefix)
  redis.defineCommand('vigieWebhookPush', { numberOfKeys: 5, lua: pushScript })
  redis.defineCommand('vigieWebhookAdvance', { numberOfKeys: 4, lua: advanceScript })
  redis.defineCommand('vigieWebhookReschedule', { numberOfKeys: 4, lua: rescheduleScript })
  // BullMQ blocks on its connections and wants them to retry forever.
  const connection = redis.duplicate({ maxRetriesPerRequest: null })
  const queue = new Queue<WebhookJob>(webhookQueueName, { connection, prefix: keys.bull })
  const stem = (webhook: string) => `wh-${webhook}-`
  // The backoff is the worker's: a receiver's Retry-After wins over the doubling (webhook-worker.ts).
  const add = async (webhook: string, order: string, owner: string | null, head: string | null) => {
    if (owner && head)
      await queue.add(
        'send',
        { webhook, order, entry: head },
        { jobId: owner, attempts, backoff: { type: 'webhook' }, removeOnComplete: 1000, removeOnFail: 1000 },
      )
  }

  return {
    queue,
    /** Queues an event's delivery behind the earlier ones of its ticket; a second call for it changes nothing. */
    push: async (delivery: WebhookDelivery): Promise<void> => {
      const k = keys.webhook(delivery.webhook)
      const [, owner, head] = await redis.vigieWebhookPush(
        k.delivery(delivery.id),
        k.fifo(delivery.order),
        k.fifoOwner(delivery.order),
        k.fifos,
        k.jobSeq,
        JSON.stringify(delivery),
        delivery.id,
        delivery.order,
        stem(delivery.webhook),
        'new',
      )
      await add(delivery.webhook, delivery.order, owner, head)
    },
    /** Sends a delivery again, behind what its ticket has queued; false when it is no longer kept. */
    redeliver: async (webhook: string, deliveryId: string): Promise<boolean> => {
      const k = keys.webhook(webhook)
      const text = await redis.get(k.delivery(deliveryId))
      if (text === null) return false
      const delivery = webhookDeliverySchema.parse(JSON.parse(text))
      const entry = `${deliveryId}r${await redis.incr(k.jobSeq)}`
      const [pushed, owner, head] = await redis.vigieWebhookPush(
        k.delivery(deliveryId),
        k.fifo(delivery.order),
        k.fifoOwner(delivery.order),
        k.fifos,
        k.jobSeq,
        '',
        entry,
        delivery.order,
        stem(webhook),
        'again',
      )
      await add(webhook, delivery.order, owner, head)
      return pushed === 1
    },
    /** The head is done: the next of its ticket's list gets its job. False when this job was stale. */
    advance: async (job: { id: string; data: WebhookJob }): Promise<boolean> => {
      const { webhook, order, entry } = job.data
      const k = keys.webhook(webhook)
      const [advanced, owner, head] = await redis.vigieWebhookAdvance(
        k.fifo(order),
        k.fifoOwner(order),
        k.fifos,
        k.jobSeq,
        job.id,
        entry,
        order,
        stem(webhook),
      )
      if (advanced === 1) await redis.expire(k.delivery(deliveryOfEntry(entry)), doneTtlSeconds)
      await add(webhook, order, owner, head)
      return advanced === 1
    },
    /** Whether this job is the one entitled to its list's head. */
    owns: async (job: { id: string; data: WebhookJob }): Promise<boolean> =>
      (await redis.get(keys.webhook(job.data.webhook).fifoOwner(job.data.order))) === job.id,
    /** A new owner job for the head of every list of the webhook (after a pause): they go out again, in order. */
    rescheduleAll: async (webhook: string): Promise<number> => {
      const k = keys.webhook(webhook)
      let cursor = '0'
      let scheduled = 0
      do {
        const [next, orders] = await redis.sscan(k.fifos, cursor, 'COUNT', 200)
        for (const order of orders) {
          const reply = await redis.vigieWebhookReschedule(
            k.fifo(order),
            k.fifoOwner(order),
            k.fifos,
            k.jobSeq,
            order,
            stem(webhook),
          )
          if (reply.length === 2) {
            await add(webhook, order, reply[0], reply[1])
            scheduled++
          }
        }
        cursor = next
      } while (cursor !== '0')
      return scheduled
    },
    delivery: async (webhook: string, deliveryId: string): Promise<WebhookDelivery | null> => {
      const text = await redis.get(keys.webhook(webhook).delivery(deliveryId))
      return text === null ? null : webhookDeliverySchema.parse(JSON.parse(text))
    },
    close: async () => {
      await queue.close()
      connection.disconnect()
    },
  }
}
