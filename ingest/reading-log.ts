import type { Redis, Result } from 'ioredis'
import type { Reading } from '../domain/index.ts'
import { type IngestKeys, shardOf } from './keys.ts'

// One round trip, atomic: drop a redelivered seq, append to the shard log and the device's recent
// readings, update latest state and last-seen. Seqs are remembered per device by arrival, last 64.
const appendScript = `
if ARGV[1] ~= '' then
  if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -65)
end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'r', ARGV[2])
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[7], '*', 'r', ARGV[2])
redis.call('HSET', KEYS[3], 'lastSeen', ARGV[4], 'last', ARGV[2], 'type:' .. ARGV[6], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[5])
return 1
`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    vigieAppendReading(
      shard: string,
      seqs: string,
      state: string,
      lastSeen: string,
      deviceReadings: string,
      seq: string,
      reading: string,
      maxLen: number,
      receivedAt: number,
      deviceId: string,
      type: string,
      deviceMaxLen: number,
    ): Result<number, Context>
  }
}

export type ReadingLog = ReturnType<typeof createReadingLog>

export type ReadingLogOptions = {
  redis: Redis
  keys: IngestKeys
  shards: number
  retention: number
  deviceRetention: number
}

export function createReadingLog({ redis, keys, shards, retention, deviceRetention }: ReadingLogOptions) {
  // defineCommand is idempotent per client; ioredis sends EVALSHA and falls back to EVAL once.
  redis.defineCommand('vigieAppendReading', { numberOfKeys: 5, lua: appendScript })

  return {
    /** Appends a reading; false when the same device already sent this seq. */
    append: async (reading: Reading, receivedAt: number): Promise<boolean> => {
      const id = reading.device
      const appended = await redis.vigieAppendReading(
        keys.shard(shardOf(id, shards)),
        keys.recentSeqs(id),
        keys.state(id),
        keys.lastSeen,
        keys.deviceReadings(id),
        reading.seq === undefined ? '' : String(reading.seq),
        JSON.stringify(reading),
        retention,
        receivedAt,
        id,
        reading.type,
        deviceRetention,
      )
      return appended === 1
    },

    /** Newest first. */
    recent: async (deviceId: string, limit: number): Promise<Reading[]> => {
      const entries = await redis.xrevrange(keys.deviceReadings(deviceId), '+', '-', 'COUNT', limit)
      return entries.map(([, fields]) => JSON.parse(fields[1] ?? 'null') as Reading)
    },
  }
}
