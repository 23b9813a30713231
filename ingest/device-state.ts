import type { Redis } from 'ioredis'
import { type Reading, readingSchema } from '../domain/index.ts'
import type { IngestKeys } from './keys.ts'

export type DeviceState = {
  online: boolean
  statusAt: string | null
  lastSeen: string | null
  /** The newest reading, and the newest of each type. */
  latest: Reading | null
  latestByType: Record<string, Reading>
}

export type DeviceStates = ReturnType<typeof createDeviceStates>

export function createDeviceStates({ redis, keys }: { redis: Redis; keys: IngestKeys }) {
  return {
    setOnline: async (deviceId: string, online: boolean, at: number): Promise<void> => {
      await redis.hset(keys.state(deviceId), 'online', online ? '1' : '0', 'statusAt', String(at))
    },

    get: async (deviceId: string): Promise<DeviceState> => {
      const fields = await redis.hgetall(keys.state(deviceId))
      const time = (ms: string | undefined) => (ms ? new Date(Number(ms)).toISOString() : null)
      const latestByType: Record<string, Reading> = {}
      for (const [field, value] of Object.entries(fields)) {
        if (field.startsWith('type:')) latestByType[field.slice(5)] = readingSchema.parse(JSON.parse(value))
      }
      return {
        online: fields.online === '1',
        statusAt: time(fields.statusAt),
        lastSeen: time(fields.lastSeen),
        latest: fields.last ? readingSchema.parse(JSON.parse(fields.last)) : null,
        latestByType,
      }
    },
  }
}
