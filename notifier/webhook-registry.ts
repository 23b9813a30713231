import type { Redis } from 'ioredis'
import { type Webhook, webhookSchema } from '../config/index.ts'
import { notificationKeys } from './keys.ts'

export type WebhookOrigin = 'site' | 'api'
export type WebhookRegistry = ReturnType<typeof createWebhookRegistry>

/**
 * The webhooks: the site file's (read-only: the file is their source) and those made through the API,
 * kept in Redis. Every read goes to Redis, so a change made by the API reaches every notifier at once.
 */
export function createWebhookRegistry({
  redis,
  prefix,
  fromSiteFile,
}: {
  redis: Redis
  prefix: string
  fromSiteFile: Webhook[]
}) {
  const key = notificationKeys(prefix).webhooks
  const siteIds = new Set(fromSiteFile.map((w) => w.id))
  const decode = (text: string): Webhook => webhookSchema.parse(JSON.parse(text))

  async function stored(): Promise<Webhook[]> {
    return Object.values(await redis.hgetall(key)).map(decode)
  }

  return {
    /** Every webhook, the site file's first. */
    all: async (): Promise<{ webhook: Webhook; origin: WebhookOrigin }[]> => [
      ...fromSiteFile.map((webhook) => ({ webhook, origin: 'site' as const })),
      ...(await stored()).map((webhook) => ({ webhook, origin: 'api' as const })),
    ],
    get: async (id: string): Promise<{ webhook: Webhook; origin: WebhookOrigin } | null> => {
      const fromFile = fromSiteFile.find((w) => w.id === id)
      if (fromFile) return { webhook: fromFile, origin: 'site' }
      const text = await redis.hget(key, id)
      return text === null ? null : { webhook: decode(text), origin: 'api' }
    },
    /** False when the id is taken, by the site file or the API. */
    create: async (webhook: Webhook): Promise<boolean> =>
      !siteIds.has(webhook.id) && (await redis.hsetnx(key, webhook.id, JSON.stringify(webhook))) === 1,
    /** False when no webhook of the API has this id. */
    replace: async (webhook: Webhook): Promise<boolean> => {
      if (!(await redis.hexists(key, webhook.id))) return false
      await redis.hset(key, webhook.id, JSON.stringify(webhook))
      return true
    },
    remove: async (id: string): Promise<boolean> => (await redis.hdel(key, id)) === 1,
  }
}
