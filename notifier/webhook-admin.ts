import type { Redis } from 'ioredis'
import type { Webhook } from '../config/index.ts'
import { createWebhookAttempts } from './webhook-attempts.ts'
import { createWebhookHealth } from './webhook-health.ts'
import { createWebhookQueue } from './webhook-queue.ts'
import { createWebhookRegistry } from './webhook-registry.ts'
import type { WebhookSettings } from './webhook-role.ts'

export type WebhookAdmin = ReturnType<typeof createWebhookAdmin>

/** What the API does with webhooks: keep those of the API, list attempts, send one again, resume. */
export function createWebhookAdmin({
  redis,
  settings,
  webhooks,
}: {
  redis: Redis
  settings: WebhookSettings
  /** The site file's (read-only). */
  webhooks: Webhook[]
}) {
  const prefix = settings.redisPrefix
  const queue = createWebhookQueue({ redis, prefix, attempts: settings.webhookAttempts })
  const health = createWebhookHealth({ redis, prefix, pauseAfterMs: settings.webhookPauseAfter })
  return {
    registry: createWebhookRegistry({ redis, prefix, fromSiteFile: webhooks }),
    attempts: createWebhookAttempts({ redis, prefix, kept: settings.webhookAttemptsKept }),
    health,
    redeliver: queue.redeliver,
    /** Ends a pause: the held deliveries go out, each ticket's in order. False when it was not paused. */
    resume: async (webhook: string): Promise<boolean> => {
      const resumed = await health.resume(webhook)
      if (resumed) await queue.rescheduleAll(webhook)
      return resumed
    },
    close: queue.close,
  }
}
