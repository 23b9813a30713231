import type { Redis } from 'ioredis'

/** Where a record came from: the site file, the API (kept across restarts), or deleted through the API. */
type Origin = 'site' | 'api' | 'deleted'

// Replace only what exists, and mark it as the API's, in one step: a concurrent delete cannot be undone.
const replaceScript =
  "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) redis.call('HSET', KEYS[2], ARGV[1], 'api') return 1"

/**
 * Records kept as JSON in one Redis hash, seeded from the site file at start, then managed through the API:
 * a record the API created, changed or deleted is never overwritten by the site file again.
 */
export function createSeededRecords<T extends { id: string }>({
  redis,
  key,
  originsKey,
  fromSiteFile,
}: {
  redis: Redis
  key: string
  originsKey: string
  fromSiteFile: T[]
}) {
  const parse = (doc: string | null | undefined): T | null => (doc ? (JSON.parse(doc) as T) : null)
  return {
    parse,

    /** Writes the site file's records, except those the API took over; answers the ones written. */
    seed: async (): Promise<T[]> => {
      const written: T[] = []
      for (const record of fromSiteFile) {
        const origin = (await redis.hget(originsKey, record.id)) as Origin | null
        if (origin === 'api' || origin === 'deleted') continue
        await redis
          .multi()
          .hset(key, record.id, JSON.stringify(record))
          .hset(originsKey, record.id, 'site')
          .exec()
        written.push(record)
      }
      return written
    },

    get: async (id: string): Promise<T | null> => parse(await redis.hget(key, id)),

    /** Every record, by id. */
    all: async (): Promise<T[]> =>
      Object.values(await redis.hgetall(key))
        .map((doc) => JSON.parse(doc) as T)
        .sort((a, b) => a.id.localeCompare(b.id)),

    /** A new record; false when the id is taken. */
    create: async (record: T): Promise<boolean> => {
      if ((await redis.hsetnx(key, record.id, JSON.stringify(record))) !== 1) return false
      await redis.hset(originsKey, record.id, 'api')
      return true
    },

    /** Replaces a record; false when unknown. */
    replace: async (record: T): Promise<boolean> =>
      (await redis.eval(replaceScript, 2, key, originsKey, record.id, JSON.stringify(record))) === 1,

    /** Removes a record for good (the site file no longer brings it back); false when unknown. */
    remove: async (id: string): Promise<boolean> => {
      const [[, removed] = []] =
        (await redis.multi().hdel(key, id).hset(originsKey, id, 'deleted').exec()) ?? []
      return removed === 1
    },
  }
}
