import type { ChainableCommander, Redis } from 'ioredis'
import { z } from 'zod'
import { maskPersonalText } from '../domain/index.ts'
import type { StreamKeys } from './keys.ts'
import { readStreamPage, type StreamPage } from './stream-page.ts'

/** Who gives stream entries up: each has its count in /metrics, zero until its first. */
export const failedWorkSources = ['rules', 'notifier', 'commands'] as const
export type FailedWorkSource = (typeof failedWorkSources)[number]

/** Issue 16: a stream entry given up on, with what it held and why, where people can see it. */
export const failedWorkSchema = z.object({
  /** This record's id in the failed-work log: pages start before it. */
  id: z.string(),
  source: z.string().meta({ description: `Who gave it up: ${failedWorkSources.join(', ')}` }),
  stream: z.string().meta({ description: 'The Redis stream the entry was read from' }),
  entry: z.string().meta({ description: "The entry's id in that stream" }),
  fields: z
    .record(z.string(), z.string())
    .meta({ description: "The entry's fields as read, each cut to 16 KiB" }),
  reason: z.string().meta({ description: 'The last error, contacts and secrets masked' }),
  attempts: z
    .number()
    .int()
    .min(0)
    .meta({ description: 'How many times it was handled before it was given up' }),
  at: z.string().meta({ description: 'When it was given up' }),
})
export type FailedWork = z.infer<typeof failedWorkSchema>

const recordSchema = failedWorkSchema.omit({ id: true })

/** What the log keeps of an error: its message and its cause's (recordInto masks contacts and secrets). */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return error instanceof Error && error.cause instanceof Error
    ? `${message}: ${error.cause.message}`
    : message
}

export type FailedWorkInput = Omit<FailedWork, 'id' | 'at' | 'source'> & {
  source: FailedWorkSource
  at: number
}

// Readings and events are a few kB; the cap bounds the log's memory if something larger ever fails.
const fieldLimit = 16_384
const reasonLimit = 1000
const defaultMaxLength = 100_000

export type FailedWorkLog = ReturnType<typeof createFailedWorkLog>

/** The failed-work log: a capped stream of records and a count per source, written together. */
export function createFailedWorkLog({
  redis,
  keys,
  maxLength = defaultMaxLength,
}: {
  /** For reading pages and counts; records go into the caller's MULTI, with its acknowledgement. */
  redis: Redis
  keys: StreamKeys
  maxLength?: number
}) {
  return {
    /**
     * Queues the record and its count on a MULTI or pipeline that also acknowledges the entry, so an entry
     * is never acknowledged without being kept. Answers how many commands it queued.
     */
    recordInto: (commands: ChainableCommander, work: FailedWorkInput): number => {
      const record: z.input<typeof recordSchema> = {
        source: work.source,
        stream: work.stream,
        entry: work.entry,
        fields: Object.fromEntries(
          Object.entries(work.fields).map(([name, value]) => [name, value.slice(0, fieldLimit)]),
        ),
        reason: maskPersonalText(work.reason).slice(0, reasonLimit),
        attempts: work.attempts,
        at: new Date(work.at).toISOString(),
      }
      commands
        .xadd(keys.failedWork, 'MAXLEN', '~', maxLength, '*', 'w', JSON.stringify(record))
        .hincrby(keys.failedWorkCounts, work.source, 1)
      return 2
    },

    /** Newest first, from before a record's id; next is the id the following page starts before. */
    page: async ({
      limit,
      before,
    }: {
      limit: number
      before?: string | undefined
    }): Promise<StreamPage<FailedWork>> =>
      readStreamPage(redis, keys.failedWork, { limit, before }, (record, id) =>
        failedWorkSchema.parse({ id, ...recordSchema.parse(record) }),
      ),

    /** Entries given up per source since the deployment began; every known source is there, zero or not. */
    counts: async (): Promise<Record<string, number>> => {
      const stored = await redis.hgetall(keys.failedWorkCounts)
      const counts: Record<string, number> = Object.fromEntries(failedWorkSources.map((s) => [s, 0]))
      for (const [source, count] of Object.entries(stored)) counts[source] = Number(count)
      return counts
    },
  }
}
