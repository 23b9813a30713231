import { readFileSync } from 'node:fs'
import type { Redis, Result } from 'ioredis'
import { createCompareAndDelete } from './compare-and-delete.ts'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** streams/scripts/renew-lease.lua */
    vigieRenewLease(key: string, owner: string, ttlMs: number): Result<number, Context>
  }
}

const renewScript = readFileSync(new URL('./scripts/renew-lease.lua', import.meta.url), 'utf8')

export type LeaseOptions = {
  redis: Redis
  key: string
  ttlMs: number
  /** This holder's token, unique per process: only the owner renews or releases its lease. */
  owner: string
}

export type Lease = ReturnType<typeof createLease>

/** A lease in Redis, held by one owner at a time until it lapses or is released (SET NX PX, renewed by its owner). */
export function createLease({ redis, key, ttlMs, owner }: LeaseOptions) {
  redis.defineCommand('vigieRenewLease', { numberOfKeys: 1, lua: renewScript })
  const compareAndDelete = createCompareAndDelete({ redis })
  return {
    key,
    /**
     * Takes the lease if nobody holds it, or extends it if it is ours already (a renewal whose answer was lost,
     * in a Redis failover say, must not leave it unheld until it lapses); answers whether it is now ours.
     */
    acquire: async (): Promise<boolean> =>
      (await redis.set(key, owner, 'PX', ttlMs, 'NX')) === 'OK' ||
      (await redis.vigieRenewLease(key, owner, ttlMs)) === 1,
    /** Extends the lease if we still hold it; false when it lapsed (another may hold it now). */
    renew: async (): Promise<boolean> => (await redis.vigieRenewLease(key, owner, ttlMs)) === 1,
    /** Gives the lease up if we still hold it, so another takes it at once instead of waiting it out. */
    release: (): Promise<boolean> => compareAndDelete(key, owner),
  }
}
