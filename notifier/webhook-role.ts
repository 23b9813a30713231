import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { ConfigError, type Settings, type Webhook } from '../config/index.ts'
import type { Clock } from '../domain/index.ts'
import { eventsMaxLength, type WebhookEvent } from '../rules/index.ts'
import type { FailedWorkLog } from '../streams/index.ts'
import { createWebhookAttempts } from './webhook-attempts.ts'
import { createWebhookConsumer } from './webhook-consumer.ts'
import { createWebhookHealth } from './webhook-health.ts'
import { unknownEventPatterns } from './webhook-match.ts'
import { createWebhookQueue } from './webhook-queue.ts'
import { createWebhookRegistry } from './webhook-registry.ts'
import { createWebhookWorker } from './webhook-worker.ts'

export type WebhookSettings = Pick<
  Settings,
  | 'redisPrefix'
  | 'webhookAttempts'
  | 'webhookRetryDelay'
  | 'webhookTimeout'
  | 'webhookPauseAfter'
  | 'webhookAttemptsKept'
>

/** The site file's webhooks must name event types the stream has: a typo would never match. */
export function checkSiteWebhooks(webhooks: Webhook[]): void {
  const problems = webhooks.flatMap((webhook, i) =>
    unknownEventPatterns(webhook.events).map((pattern) => ({
      where: 'site file',
      path: `webhooks[${i}].events`,
      message: `no event type "${pattern}"`,
    })),
  )
  if (problems.length > 0) throw new ConfigError({ problems })
}

/** Issue 18, the notifier's webhooks out: events in (their own group), signed POSTs out, in order per ticket. */
export async function startWebhooks({
  redis,
  settings,
  webhooks,
  eventsKey,
  failedWork,
  clock,
  log,
}: {
  redis: Redis
  settings: WebhookSettings
  /** The site file's. */
  webhooks: Webhook[]
  eventsKey: string
  failedWork: FailedWorkLog
  clock: Clock
  log: Logger
}) {
  checkSiteWebhooks(webhooks)
  const prefix = settings.redisPrefix
  const registry = createWebhookRegistry({ redis, prefix, fromSiteFile: webhooks })
  const queue = createWebhookQueue({ redis, prefix, attempts: settings.webhookAttempts })
  const worker = createWebhookWorker({
    redis,
    prefix,
    registry,
    queue,
    attemptLog: createWebhookAttempts({ redis, prefix, kept: settings.webhookAttemptsKept }),
    health: createWebhookHealth({ redis, prefix, pauseAfterMs: settings.webhookPauseAfter }),
    failedWork,
    eventsKey,
    sending: {
      attempts: settings.webhookAttempts,
      retryDelayMs: settings.webhookRetryDelay,
      timeoutMs: settings.webhookTimeout,
    },
    // The supervisors' console and /ws show it; the stream keeps it with the other events.
    onPaused: async (webhook, reason) => {
      const at = new Date(clock.now()).toISOString()
      const event: WebhookEvent = {
        type: 'webhook.paused',
        id: webhook.id,
        correlationKey: `webhook:${webhook.id}`,
        at,
        webhook: { id: webhook.id, url: webhook.url },
        reason,
      }
      await redis.xadd(eventsKey, 'MAXLEN', '~', eventsMaxLength, '*', 'e', JSON.stringify(event))
    },
    clock,
    log,
  })
  const consumerRedis = redis.duplicate()
  const consumer = createWebhookConsumer({
    redis: consumerRedis,
    eventsKey,
    registry,
    queue,
    failedWork,
    logger: log,
    now: clock.now,
  })
  worker.start()
  await consumer.start()
  return {
    isReady: () => consumerRedis.status === 'ready',
    close: async () => {
      await consumer.close()
      await worker.close()
      await queue.close()
    },
  }
}
