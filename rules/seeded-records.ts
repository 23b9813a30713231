import { readFileSync } from 'node:fs'
import type { Redis, Result } from 'ioredis'
import type { z } from 'zod'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** rules/scripts/put-seeded-record.lua: numberOfKeys, then its KEYS and ARGV. */
    vigiePutSeededRecord(numberOfKeys: number, ...args: string[]): Result<number, Context>
    /** rules/scripts/remove-seeded-record.lua: numberOfKeys, then its KEYS and ARGV. */
    vigieRemoveSeededRecord(numberOfKeys: number, ...args: string[]): Result<number, Context>
  }
}

// Each write moves the record, its origin, the id index and the lookup in one step: a concurrent delete
// cannot be undone, and the lookup never names a value its record no longer has.
const putScript = readFileSync(new URL('./scripts/put-seeded-record.lua', import.meta.url), 'utf8')
const removeScript = readFileSync(new URL('./scripts/remove-seeded-record.lua', import.meta.url), 'utf8')

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
  lookup,
  groupsOf,
}: {
  redis: Redis
  key: string
  originsKey: string
  /** Decodes a stored record; one that does not fit is an error, not a guess. */
  schema: z.ZodType<T>
  fromSiteFile: T[]
  /** A hash from one string field's value to the record's id (a technician by phone), kept with each write. */
  lookup?: { key: string; field: keyof T & string }
  /** The groups a record is in (a customer's subscriptions), each a set of ids kept with each write. */
  groupsOf?: (record: T) => string[]
}) {
  redis.defineCommand('vigiePutSeededRecord', { lua: putScript })
  redis.defineCommand('vigieRemoveSeededRecord', { lua: removeScript })
  const parse = (doc: string | null | undefined): T | null => (doc ? schema.parse(JSON.parse(doc)) : null)
  // Every id in byte order (scores 0): a page is read from here, not by reading every record.
  const idsKey = `${key}:ids`
  const keys = lookup ? [key, originsKey, idsKey, lookup.key] : [key, originsKey, idsKey]
  const field = lookup?.field ?? ''
  const groupsKey = `${key}:groups`
  const groupPrefix = `${key}:in:`
  const groupArgs = (record: T) =>
    groupsOf ? [groupsKey, groupPrefix, JSON.stringify([...new Set(groupsOf(record))])] : []
  const put = async (record: T, mode: 'create' | 'replace' | 'seed', origin: 'site' | 'api') =>
    (await redis.vigiePutSeededRecord(
      keys.length,
      ...keys,
      record.id,
      JSON.stringify(record),
      mode,
      origin,
      field,
      ...groupArgs(record),
    )) === 1
  return {
    parse,

    /** Writes the site file's records, except those the API took over; answers the ones written. */
    seed: async (): Promise<T[]> => {
      const written: T[] = []
      // Records written before the id index existed (or by a create cut short) join it here.
      const known = await redis.hkeys(key)
      if (known.length > 0) await redis.zadd(idsKey, ...known.flatMap((id) => [0, id]))
      // Likewise the lookup; a value it names is checked against the record on each read, so a gap is all a race leaves.
      if (lookup && known.length > 0) {
        const docs = await redis.hmget(key, ...known)
        const pairs = docs.flatMap((doc) => {
          const record = parse(doc)
          const value = record?.[lookup.field]
          return record && typeof value === 'string' ? [[value, record.id] as const] : []
        })
        await pairs.reduce((m, [value, id]) => m.hsetnx(lookup.key, value, id), redis.pipeline()).exec()
      }
      // Likewise the groups of records written before they were kept: each through the script, as a write would.
      if (groupsOf && known.length > 0) {
        const grouped = new Set(await redis.hkeys(groupsKey))
        const missing = known.filter((id) => !grouped.has(id))
        const docs = missing.length > 0 ? await redis.hmget(key, ...missing) : []
        for (const record of docs.flatMap((doc) => parse(doc) ?? []))
          await redis.vigiePutSeededRecord(
            keys.length,
            ...keys,
            record.id,
            JSON.stringify(record),
            'replace',
            (await redis.hget(originsKey, record.id)) === 'api' ? 'api' : 'site',
            field,
            ...groupArgs(record),
          )
      }
      for (const record of fromSiteFile) if (await put(record, 'seed', 'site')) written.push(record)
      return written
    },

    get: async (id: string): Promise<T | null> => parse(await redis.hget(key, id)),

    /** The record whose lookup field has this value, through the lookup; null when none has. */
    find: async (value: string): Promise<T | null> => {
      if (!lookup) throw new Error('these records have no lookup')
      const id = await redis.hget(lookup.key, value)
      const record = id === null ? null : parse(await redis.hget(key, id))
      return record?.[lookup.field] === value ? record : null
    },

    /** The records in any of these groups, read through their sets; by id. */
    inGroups: async (groups: string[]): Promise<T[]> => {
      if (!groupsOf) throw new Error('these records have no groups')
      if (groups.length === 0) return []
      const ids = (await redis.sunion(...groups.map((g) => `${groupPrefix}${g}`))).sort()
      const docs = ids.length > 0 ? await redis.hmget(key, ...ids) : []
      return docs.flatMap((doc) => parse(doc) ?? [])
    },

    /** Every record, by id. */
    all: async (): Promise<T[]> =>
      Object.values(await redis.hgetall(key))
        .map((doc) => schema.parse(JSON.parse(doc)))
        // Byte order, as the id index pages them; localeCompare cost 2,000 customers ~20 ms of the loop.
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),

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
    create: (record: T): Promise<boolean> => put(record, 'create', 'api'),

    /** Replaces a record and marks it as the API's; false when unknown. */
    replace: (record: T): Promise<boolean> => put(record, 'replace', 'api'),

    /** Removes a record for good (the site file no longer brings it back); false when unknown. */
    remove: async (id: string): Promise<boolean> =>
      (await redis.vigieRemoveSeededRecord(
        keys.length,
        ...keys,
        id,
        field,
        ...(groupsOf ? [groupsKey, groupPrefix] : []),
      )) === 1,
  }
}
