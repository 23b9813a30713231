import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { inject } from 'vitest'
import { openClient } from '../../service/index.ts'

/** The run's redis-server URL (started by global-setup.ts). */
export function testRedisUrl(): string {
  return inject('redisUrl')
}

/** A connected client and a key prefix no other test uses. */
export async function openTestRedis(): Promise<{ redis: Redis; prefix: string; url: string }> {
  const url = testRedisUrl()
  return { redis: await openClient(url, 5000), prefix: `test:${randomUUID()}:`, url }
}
