import type { Redis } from 'ioredis'
import { type Reading, readingSchema } from '../domain/index.ts'
import type { IngestKeys } from './keys.ts'

export type ReadingRange = ReturnType<typeof createReadingRange>

/** What one scan read: how many readings it visited, and whether the range held more than it was allowed. */
export type ReadingScan = { scanned: number; truncated: boolean }

const defaultPageSize = 1000

/** A device's readings by when its stream received them: a stream id is the receipt time in ms. */
export function createReadingRange({ redis, keys }: { redis: Redis; keys: IngestKeys }) {
  return {
    /**
     * When the oldest reading still kept was received (epoch ms), if retention has trimmed older ones; null while
     * the log holds every reading it was given (a stream that added more entries than it holds was trimmed).
     */
    keptSince: async (deviceId: string): Promise<number | null> => {
      const info = await redis.xinfo('STREAM', keys.deviceReadings(deviceId)).catch((err: Error) => {
        // A device that never sent anything has no log yet.
        if (/no such key/i.test(err.message)) return null
        throw err
      })
      if (!Array.isArray(info)) return null
      const field = (name: string): unknown => info[info.indexOf(name) + 1]
      const [length, added, first] = [
        Number(field('length')),
        Number(field('entries-added')),
        field('first-entry'),
      ]
      if (!(added > length) || !Array.isArray(first)) return null
      return Number(String(first[0]).split('-')[0])
    },
    /**
     * Visits, oldest first, the readings received between two times (epoch ms, both included), one page
     * of XRANGE at a time, at most `max` of them: `truncated` says the range held more.
     */
    scan: async (
      deviceId: string,
      {
        receivedFrom,
        receivedTo,
        max,
        pageSize = defaultPageSize,
      }: { receivedFrom: number; receivedTo: number; max: number; pageSize?: number },
      visit: (reading: Reading) => void,
    ): Promise<ReadingScan> => {
      const key = keys.deviceReadings(deviceId)
      const end = String(Math.max(0, Math.floor(receivedTo)))
      let start = `${Math.max(0, Math.floor(receivedFrom))}-0`
      let scanned = 0
      for (;;) {
        // One entry past the bound tells a range that holds exactly `max` from one that holds more.
        const count = Math.min(pageSize, max - scanned + 1)
        const entries = await redis.xrange(key, start, end, 'COUNT', count)
        for (const [, fields] of entries) {
          if (scanned === max) return { scanned, truncated: true }
          visit(readingSchema.parse(JSON.parse(fields[1] ?? 'null')))
          scanned++
        }
        const last = entries.at(-1)
        if (entries.length < count || !last) return { scanned, truncated: false }
        start = `(${last[0]}`
      }
    },
  }
}
