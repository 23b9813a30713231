import { readFileSync } from 'node:fs'
import type { Redis, Result } from 'ioredis'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** streams/scripts/delete-if-equals.lua */
    vigieDeleteIfEquals(key: string, expected: string): Result<number, Context>
  }
}

const deleteScript = readFileSync(new URL('./scripts/delete-if-equals.lua', import.meta.url), 'utf8')

export type CompareAndDelete = (key: string, expected: string) => Promise<boolean>

/**
 * Deletes a key only while it holds the expected value, in one step: whoever claimed it frees it, never a
 * claim another process made since. The function answers whether it deleted.
 */
export function createCompareAndDelete({ redis }: { redis: Redis }): CompareAndDelete {
  // Defined once per factory: ioredis then sends EVALSHA, and the script's body only on a NOSCRIPT.
  redis.defineCommand('vigieDeleteIfEquals', { numberOfKeys: 1, lua: deleteScript })
  return async (key, expected) => (await redis.vigieDeleteIfEquals(key, expected)) === 1
}
