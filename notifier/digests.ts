import type { Redis } from 'ioredis'
import type { Clock } from '../domain/index.ts'
import { notificationKeys } from './keys.ts'

export type DigestSettings = { limit: number; windowMs: number }

// Three messages per recipient and channel in ten minutes; more in that window wait for one digest.
export const defaultDigest: DigestSettings = { limit: 3, windowMs: 10 * 60_000 }

/**
 * A per-recipient rate limit (issue 5): within a window, the first `limit` messages go out one by one;
 * the rest are kept in a list and sent as one digest when the window ends.
 */
export function createDigests({
  redis,
  prefix,
  settings,
  clock,
}: {
  redis: Redis
  prefix: string
  settings: DigestSettings
  clock: Clock
}) {
  const { rate: counter, digest: list } = notificationKeys(prefix)

  return {
    /** 'send' now, or the time its digest goes (the text is kept for it). */
    admit: async (channel: string, to: string, text: string): Promise<'send' | { digestAt: number }> => {
      const [[, count] = [], [, ttl] = []] =
        (await redis.multi().incr(counter(channel, to)).pttl(counter(channel, to)).exec()) ?? []
      let left = Number(ttl)
      if (left < 0) {
        await redis.pexpire(counter(channel, to), settings.windowMs)
        left = settings.windowMs
      }
      if (Number(count) <= settings.limit) return 'send'
      await redis
        .multi()
        .rpush(list(channel, to), text)
        .pexpire(list(channel, to), settings.windowMs * 10)
        .exec()
      return { digestAt: clock.now() + left }
    },

    /** The texts folded so far, taken (a digest sends them once). */
    take: async (channel: string, to: string): Promise<string[]> => {
      const [[, texts] = []] =
        (await redis.multi().lrange(list(channel, to), 0, -1).del(list(channel, to)).exec()) ?? []
      return (texts as string[] | undefined) ?? []
    },
  }
}

export type Digests = ReturnType<typeof createDigests>
