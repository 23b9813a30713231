import type { Redis } from 'ioredis'
import { notificationKeys } from './keys.ts'

export type WebhookHealth = ReturnType<typeof createWebhookHealth>

/**
 * Whether a receiver answers: failing since its first failure after its last success, paused once it has
 * failed for `pauseAfterMs` (issue 18: a day by default). A paused webhook's deliveries are held, not lost.
 */
export function createWebhookHealth({
  redis,
  prefix,
  pauseAfterMs,
}: {
  redis: Redis
  prefix: string
  pauseAfterMs: number
}) {
  const keyOf = (webhook: string) => notificationKeys(prefix).webhook(webhook).health
  return {
    succeeded: async (webhook: string): Promise<void> => {
      await redis.hdel(keyOf(webhook), 'failingSince')
    },
    /** Answers 'paused' when this failure paused the webhook, 'failing' otherwise. */
    failed: async (webhook: string, now: number): Promise<'paused' | 'failing'> => {
      const key = keyOf(webhook)
      await redis.hsetnx(key, 'failingSince', String(now))
      const since = Number(await redis.hget(key, 'failingSince'))
      if (now - since < pauseAfterMs) return 'failing'
      return (await redis.hsetnx(key, 'pausedAt', String(now))) === 1 ? 'paused' : 'failing'
    },
    isPaused: async (webhook: string): Promise<boolean> =>
      (await redis.hexists(keyOf(webhook), 'pausedAt')) === 1,
    /** False when it was not paused. */
    resume: async (webhook: string): Promise<boolean> => {
      const [[, removed] = []] =
        (await redis.multi().hdel(keyOf(webhook), 'pausedAt').hdel(keyOf(webhook), 'failingSince').exec()) ??
        []
      return removed === 1
    },
    state: async (webhook: string): Promise<{ failingSince: number | null; pausedAt: number | null }> => {
      const [failingSince, pausedAt] = await redis.hmget(keyOf(webhook), 'failingSince', 'pausedAt')
      return {
        failingSince: failingSince === null ? null : Number(failingSince),
        pausedAt: pausedAt === null ? null : Number(pausedAt),
      }
    },
  }
}
