import { readFileSync } from 'node:fs'
import type { Redis, Result } from 'ioredis'
import { type Reading, readingSchema } from '../domain/index.ts'
import { readStreamPage } from '../streams/index.ts'
import { type IngestKeys, shardOf } from './keys.ts'

// One round trip for a batch of readings, each atomic (see the script's header).
const appendScript = readFileSync(new URL('./scripts/append-readings.lua', import.meta.url), 'utf8')

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** ingest/scripts/append-readings.lua: numberOfKeys, then its KEYS and ARGV. */
    vigieAppendReadings(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Result<number[], Context>
  }
}

// Readings that arrive within a few milliseconds go to Redis as one script call: one command, one reply,
// one wake-up of redis-server, instead of one of each per reading. Past this many, a batch is sent at once.
const maxBatch = 256
// At 1,000 readings/s a reading rarely shares a turn of the event loop; 12 ms gathers about twelve.
const defaultLingerMs = 12

type Pending = {
  reading: Reading
  receivedAt: number
  done: (appended: boolean) => void
  fail: (e: Error) => void
}

export type ReadingLog = ReturnType<typeof createReadingLog>

export type ReadingLogOptions = {
  redis: Redis
  keys: IngestKeys
  shards: number
  retention: number
  deviceRetention: number
  /** How long the first reading of a batch waits for others before the batch is sent. */
  lingerMs?: number
}

export function createReadingLog({
  redis,
  keys,
  shards,
  retention,
  deviceRetention,
  lingerMs = defaultLingerMs,
}: ReadingLogOptions) {
  // defineCommand is idempotent per client; ioredis sends EVALSHA and falls back to EVAL once.
  redis.defineCommand('vigieAppendReadings', { lua: appendScript })
  let pending: Pending[] = []
  let timer: NodeJS.Timeout | undefined

  function flush(): void {
    clearTimeout(timer)
    timer = undefined
    const batch = pending
    if (batch.length === 0) return
    pending = []
    const keyList: string[] = [keys.lastSeen, keys.stats]
    const args: (string | number)[] = [retention, deviceRetention]
    for (const { reading, receivedAt } of batch) {
      const id = reading.device
      keyList.push(
        keys.shard(shardOf(id, shards)),
        keys.recentSeqs(id),
        keys.state(id),
        keys.deviceReadings(id),
      )
      args.push(
        reading.seq === undefined ? '' : String(reading.seq),
        JSON.stringify(reading),
        receivedAt,
        id,
        reading.type,
      )
    }
    redis.vigieAppendReadings(keyList.length, ...keyList, ...args).then(
      (results) => {
        for (const [i, item] of batch.entries()) item.done(results[i] === 1)
      },
      (error: Error) => {
        for (const item of batch) item.fail(error)
      },
    )
  }

  return {
    /** Appends a reading; false when the same device already sent this seq. Resolves once it is in Redis. */
    append: (reading: Reading, receivedAt: number): Promise<boolean> =>
      new Promise((done, fail) => {
        if (pending.length === 0) timer = setTimeout(flush, lingerMs)
        pending.push({ reading, receivedAt, done, fail })
        if (pending.length >= maxBatch) flush()
      }),

    /** Newest first. */
    recent: async (deviceId: string, limit: number): Promise<Reading[]> => {
      const entries = await redis.xrevrange(keys.deviceReadings(deviceId), '+', '-', 'COUNT', limit)
      return entries.map(([, fields]) => readingSchema.parse(JSON.parse(fields[1] ?? 'null')))
    },

    /** Newest first, from before a stream id. */
    page: (deviceId: string, range: { limit: number; before?: string | undefined }) =>
      readStreamPage(redis, keys.deviceReadings(deviceId), range, (record) => readingSchema.parse(record)),
  }
}
