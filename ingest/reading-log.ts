import type { Redis, Result } from 'ioredis'
import type { Reading } from '../domain/index.ts'
import { type IngestKeys, shardOf } from './keys.ts'
import { readStreamPage } from './stream-page.ts'

// One round trip for a batch of readings, each atomic: drop a redelivered seq, append to the shard log and
// the device's recent readings, update latest state and last-seen. Seqs are remembered per device, the
// last 64 to 96.
// KEYS: lastSeen, stats, then shard, seqs, state, deviceReadings per reading;
// ARGV: maxLen, deviceMaxLen, then seq, reading, receivedAt, deviceId, type per reading.
const appendScript = `
local results = {}
local n = (#KEYS - 2) / 4
local stored = 0
for i = 0, n - 1 do
  local k, a = 2 + i * 4, 2 + i * 5
  local seq, reading, at = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local fresh = true
  if seq ~= '' then
    -- NX adds a seq not seen yet and answers 0 for a redelivered one: one call for the check and the add.
    if redis.call('ZADD', KEYS[k + 2], 'NX', at, seq) == 0 then
      fresh = false
    elseif redis.call('ZCARD', KEYS[k + 2]) > 96 then
      -- Trimmed back to 64 once in 32 readings: a trim is a write the AOF records, a ZCARD is not.
      redis.call('ZREMRANGEBYRANK', KEYS[k + 2], 0, -65)
    end
  end
  if fresh then
    redis.call('XADD', KEYS[k + 1], 'MAXLEN', '~', ARGV[1], '*', 'r', reading)
    redis.call('XADD', KEYS[k + 4], 'MAXLEN', '~', ARGV[2], '*', 'r', reading)
    redis.call('HSET', KEYS[k + 3], 'lastSeen', at, 'last', reading, 'type:' .. ARGV[a + 5], reading)
    redis.call('ZADD', KEYS[1], at, ARGV[a + 4])
    stored = stored + 1
  end
  results[i + 1] = fresh and 1 or 0
end
if stored > 0 then redis.call('HINCRBY', KEYS[2], 'readings', stored) end
return results
`

declare module 'ioredis' {
  interface RedisCommander<Context> {
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
      return entries.map(([, fields]) => JSON.parse(fields[1] ?? 'null') as Reading)
    },

    /** Newest first, from before a stream id. */
    page: (deviceId: string, range: { limit: number; before?: string | undefined }) =>
      readStreamPage<Reading>(redis, keys.deviceReadings(deviceId), range),
  }
}
