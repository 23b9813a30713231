import { readFileSync } from 'node:fs'
import type { Redis, Result } from 'ioredis'
import { z } from 'zod'

/** Where a record came from: the site file, the API (kept across restarts), or deleted through the API. */
const originSchema = z.enum(['site', 'api', 'deleted'])

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** rules/scripts/replace-seeded-record.lua */
    vigieReplaceSeededRecord(
      records: string,
      origins: string,
      id: string,
      json: string,
    ): Result<number, Context>
  }
}

// Replace only what exists, and mark it as the API's, in one step: a concurrent delete cannot be undone.
const replaceScript = readFileSync(new URL('./scripts/replace-seeded-record.lua', import.meta.url), 'utf8')

/**
 * Records kept as JSON in one Redis hash, seeded from the site file at start, then managed through the API:
 * a record the API created, changed or deleted is never overwritten by the site file again.
 */
export function createSeededRecords<T extends { id: string }>({
  redis,
  key,
  originsKey,
  schema,
  fromSiteFile,
}: {
  redis: Redis
  key: string
  originsKey: string
  /** Decodes a stored record; one that does not fit is an error, not a guess. */
  schema: z.ZodType<T>
  fromSiteFile: T[]
}) {
  redis.defineCommand('vigieReplaceSeededRecord', { numberOfKeys: 2, lua: replaceScript })
  const parse = (doc: string | null | undefined): T | null => (doc ? schema.parse(JSON.parse(doc)) : null)
  // Every id in byte order (scores 0): a page is read from here, not by reading every record.
  const idsKey = `${key}:ids`
  return {
    parse,

    /** Writes the site file's records, except those the API took over; answers the ones written. */
    seed: async (): Promise<T[]> => {
      const written: T[] = []
      // Records written before the id index existed (or by a create cut short) join it here.
      const known = await redis.hkeys(key)
      if (known.length > 0) await redis.zadd(idsKey, ...known.flatMap((id) => [0, id]))
      for (const record of fromSiteFile) {
        const origin = originSchema.nullable().parse(await redis.hget(originsKey, record.id))
        if (origin === 'api' || origin === 'deleted') continue
        await redis
          .multi()
          .hset(key, record.id, JSON.stringify(record))
          .hset(originsKey, record.id, 'site')
          .zadd(idsKey, 0, record.id)
          .exec()
        written.push(record)
      }
      return written
    },

    get: async (id: string): Promise<T | null> => parse(await redis.hget(key, id)),

    /** Every record, by id. */
    all: async (): Promise<T[]> =>
      Object.values(await redis.hgetall(key))
        .map((doc) => schema.parse(JSON.parse(doc)))
        .sort((a, b) => a.id.localeCompare(b.id)),

    /** Up to `limit` records after an id, in byte order of their ids, and whether more follow. */
    page: async ({
      limit,
      after,
    }: {
      limit: number
      after?: string | undefined
    }): Promise<{ items: T[]; more: boolean }> => {
      const ids = await redis.zrangebylex(
        idsKey,
        after === undefined ? '-' : `(${after}`,
        '+',
        'LIMIT',
        0,
        limit + 1,
      )
      const docs = ids.length > 0 ? await redis.hmget(key, ...ids.slice(0, limit)) : []
      return { items: docs.flatMap((doc) => parse(doc) ?? []), more: ids.length > limit }
    },

    /** A new record; false when the id is taken. */
    create: async (record: T): Promise<boolean> => {
      if ((await redis.hsetnx(key, record.id, JSON.stringify(record))) !== 1) return false
      await redis.multi().hset(originsKey, record.id, 'api').zadd(idsKey, 0, record.id).exec()
      return true
    },

    /** Replaces a record; false when unknown. */
    replace: async (record: T): Promise<boolean> =>
      (await redis.vigieReplaceSeededRecord(key, originsKey, record.id, JSON.stringify(record))) === 1,

    /** Removes a record for good (the site file no longer brings it back); false when unknown. */
    remove: async (id: string): Promise<boolean> => {
      const [[, removed] = []] =
        (await redis.multi().hdel(key, id).hset(originsKey, id, 'deleted').zrem(idsKey, id).exec()) ?? []
      return removed === 1
    },
  }
}
