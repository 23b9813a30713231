import { type Job, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Webhook } from '../config/index.ts'
import { type Clock, isVigieError } from '../domain/index.ts'
import { createCompareAndDelete, type FailedWorkLog } from '../streams/index.ts'
import { retryAfterMs, transientFailure } from './delivery-error.ts'
import { backoffDelay } from './delivery-queue.ts'
import { notificationKeys } from './keys.ts'
import type { WebhookAttempts } from './webhook-attempts.ts'
import type { WebhookHealth } from './webhook-health.ts'
import { postWebhook } from './webhook-post.ts'
import {
  deliveryOfEntry,
  type WebhookDelivery,
  type WebhookJob,
  type WebhookQueue,
  webhookJobSchema,
  webhookQueueName,
} from './webhook-queue.ts'
import type { WebhookRegistry } from './webhook-registry.ts'
import { signWebhookBody } from './webhook-signature.ts'

export type WebhookSending = { attempts: number; retryDelayMs: number; timeoutMs: number }

// However long a receiver asks us to wait, a retry comes within the hour.
const maxWaitMs = 3_600_000

/**
 * Sends the head of a ticket's list to its webhook: retried with backoff (a receiver's Retry-After wins),
 * kept in the failed-work log after the last attempt, held while the webhook is paused. Each attempt is
 * logged for GET /api/webhooks/:id/deliveries. Sent once on the happy path; a crash between the receiver's
 * 2xx and the list's advance sends it again, with the same X-Vigie-Delivery.
 */
export function createWebhookWorker({
  redis,
  prefix,
  registry,
  queue,
  attemptLog,
  health,
  failedWork,
  eventsKey,
  sending,
  onPaused,
  clock,
  log,
  concurrency = 8,
}: {
  redis: Redis
  prefix: string
  registry: WebhookRegistry
  queue: WebhookQueue
  attemptLog: WebhookAttempts
  health: WebhookHealth
  failedWork: FailedWorkLog
  /** The events stream, named in the failed-work records. */
  eventsKey: string
  sending: WebhookSending
  /** The receiver has failed long enough: the supervisors are told. */
  onPaused: (webhook: Webhook, reason: string) => Promise<void>
  clock: Clock
  log: Logger
  concurrency?: number
}) {
  const workerConnection = redis.duplicate({ maxRetriesPerRequest: null })
  const release = createCompareAndDelete({ redis })
  const hold = (job: { id: string; data: WebhookJob }) =>
    release(notificationKeys(prefix).webhook(job.data.webhook).fifoOwner(job.data.order), job.id)

  async function giveUp(webhook: Webhook, delivery: WebhookDelivery, attempts: number, reason: string) {
    const multi = redis.multi()
    failedWork.recordInto(multi, {
      source: 'notifier',
      stream: eventsKey,
      entry: delivery.event,
      fields: { webhook: webhook.id, delivery: delivery.id, e: delivery.body },
      reason: `webhook ${webhook.id}: ${reason}`,
      attempts,
      at: clock.now(),
    })
    for (const [error] of (await multi.exec()) ?? []) if (error) throw error
    log.warn(
      { webhook: webhook.id, delivery: delivery.id, attempts, reason },
      'webhook delivery failed; kept in failed work',
    )
  }

  async function send(raw: Job<WebhookJob>): Promise<void> {
    // The job's data comes back from Redis: parsed, not trusted.
    const job = { id: raw.id ?? '', data: webhookJobSchema.parse(raw.data) }
    if (!(await queue.owns(job))) return // replaced by a resume, or its head done already
    const found = await registry.get(job.data.webhook)
    const delivery = await queue.delivery(job.data.webhook, deliveryOfEntry(job.data.entry))
    if (!found || !delivery) return void (await queue.advance(job)) // the webhook was removed
    const { webhook } = found
    const attempt = raw.attemptsMade + 1
    const noted = (
      outcome: 'delivered' | 'retrying' | 'failed' | 'held',
      answer: { status: number | null; error: string | null; latencyMs: number },
    ) =>
      attemptLog.add(webhook.id, {
        delivery: delivery.id,
        event: delivery.event,
        type: delivery.type,
        attempt,
        status: answer.status,
        error: answer.error,
        latencyMs: answer.latencyMs,
        outcome,
        at: new Date(clock.now()).toISOString(),
      })
    if (await health.isPaused(webhook.id)) return void (await hold(job))
    const answer = await postWebhook({
      url: webhook.url,
      body: delivery.body,
      timeoutMs: sending.timeoutMs,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'vigie-webhooks',
        'X-Vigie-Event': delivery.type,
        'X-Vigie-Delivery': delivery.id,
        'X-Vigie-Signature': signWebhookBody({
          secret: webhook.secret,
          body: delivery.body,
          at: clock.now(),
        }),
      },
    })
    if (answer.status !== null && answer.status >= 200 && answer.status < 300) {
      await noted('delivered', answer)
      await health.succeeded(webhook.id)
      await queue.advance(job)
      return
    }
    const reason = answer.error ?? `HTTP ${answer.status}`
    if ((await health.failed(webhook.id, clock.now())) === 'paused') {
      await noted('held', answer)
      await hold(job)
      log.warn({ webhook: webhook.id, reason }, 'webhook paused: its receiver has failed too long')
      await onPaused(webhook, reason)
      return
    }
    if (attempt >= sending.attempts) {
      await noted('failed', answer)
      await giveUp(webhook, delivery, attempt, reason)
      await queue.advance(job)
      return
    }
    await noted('retrying', answer)
    const wait = retryAfterMs(answer.retryAfter, clock.now())
    throw transientFailure(reason, wait === undefined ? {} : { retryAfterMs: Math.min(wait, maxWaitMs) })
  }

  let worker: Worker<WebhookJob> | undefined
  return {
    start: () => {
      worker = new Worker<WebhookJob>(webhookQueueName, send, {
        connection: workerConnection,
        prefix: notificationKeys(prefix).bull,
        concurrency,
        settings: {
          backoffStrategy: (attemptsMade, _type, err) => {
            const details = isVigieError(err)
              ? (err.details as { retryAfterMs?: number } | undefined)
              : undefined
            return (
              details?.retryAfterMs ??
              backoffDelay(attemptsMade, {
                attempts: sending.attempts,
                baseDelayMs: sending.retryDelayMs,
                maxDelayMs: maxWaitMs,
              })
            )
          },
        },
      })
      worker.on('failed', (job, err) =>
        log.info({ job: job?.id, attempts: job?.attemptsMade, err }, 'webhook attempt failed'),
      )
      worker.on('error', (err) => log.error({ err }, 'webhook worker error'))
    },
    close: async () => {
      await worker?.close()
      workerConnection.disconnect()
    },
  }
}
