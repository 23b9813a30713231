import { rmSync } from 'node:fs'
import type { Redis } from 'ioredis'
import { createLogger, findFreePort, openClient, startRedisServer } from '../../service/index.ts'
import { makeTempDir } from './temp-files.ts'

/**
 * A redis-server of the test's own, so that it can be filled to its memory limit without touching the
 * run's shared one: `fill()` makes it refuse every write that would grow it, as a full Redis does.
 */
export async function startFullableRedis(): Promise<{
  url: string
  redis: Redis
  fill: () => Promise<void>
  empty: () => Promise<void>
  stop: () => Promise<void>
}> {
  const dir = makeTempDir('vigie-full-redis-')
  const server = await startRedisServer({
    port: await findFreePort(),
    dir,
    appendOnly: false,
    log: createLogger({ level: 'silent' }),
  })
  const redis = await openClient(server.url, 5000)
  return {
    url: server.url,
    redis,
    fill: async () => {
      await redis.config('SET', 'maxmemory-policy', 'noeviction')
      await redis.config('SET', 'maxmemory', '1')
    },
    /** Lifts the limit again. */
    empty: async () => {
      await redis.config('SET', 'maxmemory', '0')
    },
    stop: async () => {
      redis.disconnect()
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
