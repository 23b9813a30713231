import type { Redis } from 'ioredis'
import { z } from 'zod'
import { readStreamPage } from '../streams/index.ts'
import type { IngestKeys } from './keys.ts'

/** Bad input kept with its reason (DESIGN.md § HTTP API: a dead letter, its payload cut to 1 KiB). */
export const deadLetterSchema = z.object({
  device: z.string(),
  topic: z.string(),
  reason: z.string(),
  receivedAt: z.iso.datetime(),
  payload: z.string(),
})
export type DeadLetter = z.infer<typeof deadLetterSchema>

const payloadLimit = 1024

export type DeadLetters = ReturnType<typeof createDeadLetters>

export function createDeadLetters({
  redis,
  keys,
  retention,
}: {
  redis: Redis
  keys: IngestKeys
  retention: number
}) {
  return {
    record: async ({
      device,
      topic,
      reason,
      payload,
      receivedAt,
    }: Omit<DeadLetter, 'payload' | 'receivedAt'> & { payload: Buffer; receivedAt: number }) => {
      const letter: DeadLetter = {
        device,
        topic,
        reason: reason.slice(0, 1000),
        receivedAt: new Date(receivedAt).toISOString(),
        payload: payload.subarray(0, payloadLimit).toString('utf8'),
      }
      const json = JSON.stringify(letter)
      await redis
        .multi()
        .xadd(keys.deadLetters, 'MAXLEN', '~', retention, '*', 'd', json)
        .xadd(keys.deviceDeadLetters(device), 'MAXLEN', '~', Math.min(retention, 1000), '*', 'd', json)
        .hincrby(keys.deadLetterCounts, device, 1)
        .hincrby(keys.stats, 'dead-letters', 1)
        .exec()
      return letter
    },

    /** Newest first; one device's, or everyone's. */
    list: async ({ device, limit }: { device?: string; limit: number }): Promise<DeadLetter[]> => {
      const key = device === undefined ? keys.deadLetters : keys.deviceDeadLetters(device)
      const entries = await redis.xrevrange(key, '+', '-', 'COUNT', limit)
      return entries.map(([, fields]) => deadLetterSchema.parse(JSON.parse(fields[1] ?? 'null')))
    },

    /** Newest first, from before a stream id; one device's, or everyone's. */
    page: ({
      device,
      ...range
    }: {
      device?: string | undefined
      limit: number
      before?: string | undefined
    }) =>
      readStreamPage(
        redis,
        device === undefined ? keys.deadLetters : keys.deviceDeadLetters(device),
        range,
        (record) => deadLetterSchema.parse(record),
      ),

    count: async (device: string): Promise<number> =>
      Number((await redis.hget(keys.deadLetterCounts, device)) ?? 0),
  }
}
