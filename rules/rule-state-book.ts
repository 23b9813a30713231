import type { ChainableCommander, Redis } from 'ioredis'
import type { FailedWorkInput, FailedWorkLog } from '../streams/index.ts'
import { consumerGroup, type RuleKeys } from './keys.ts'
import { replyAt } from './pipeline-replies.ts'
import { type RuleState, ruleStateSchema } from './rule-state.ts'

export type RuleStateBook = ReturnType<typeof createRuleStateBook>

/** A device's stored states, each decoded; one that does not decode makes the whole device unreadable. */
function decode(deviceId: string, fields: Record<string, string>): Map<string, RuleState> | Error {
  const states = new Map<string, RuleState>()
  for (const [rule, json] of Object.entries(fields)) {
    let parsed: ReturnType<typeof ruleStateSchema.safeParse>
    try {
      parsed = ruleStateSchema.safeParse(JSON.parse(json))
    } catch (error) {
      return new Error(`rule state ${rule} of ${deviceId} is not JSON`, { cause: error })
    }
    if (!parsed.success)
      return new Error(`rule state ${rule} of ${deviceId} is not a rule state`, { cause: parsed.error })
    states.set(rule, parsed.data)
  }
  return states
}

/**
 * The rule states of the devices on this worker's shards, held in memory while it owns them: only the
 * owner of a shard writes its devices' states. Changes and acknowledgements wait for the worker's next
 * read and go to Redis in the same round trip; an entry is acknowledged only once its states are written,
 * or, when it was given up, in one MULTI with its failed-work record.
 */
export function createRuleStateBook({
  redis,
  keys,
  failedWork,
}: {
  redis: Redis
  keys: RuleKeys
  failedWork: FailedWorkLog
}) {
  const known = new Map<string, Map<string, RuleState> | Error>()
  const changed = new Map<string, Map<string, string>>()
  const acks = new Map<string, string[]>()
  const parked: FailedWorkInput[] = []

  /** A loaded device's states, changed in place by set; throws when what Redis holds for it does not decode. */
  function of(deviceId: string): Map<string, RuleState> {
    const states = known.get(deviceId) ?? new Map<string, RuleState>()
    if (states instanceof Error) throw states
    known.set(deviceId, states)
    return states
  }

  /** Appends the waiting writes to a pipeline; answers how many of its replies are theirs. */
  function flushInto(pipeline: ChainableCommander): number {
    let count = 0
    for (const [deviceId, byRule] of changed) {
      pipeline.hset(keys.states(deviceId), Object.fromEntries(byRule))
      count++
    }
    for (const [key, ids] of acks) {
      pipeline.xack(key, consumerGroup, ...ids)
      count++
    }
    if (parked.length > 0) {
      // MULTI: a record Redis refuses (out of memory) aborts its acknowledgement too.
      pipeline.call('MULTI')
      for (const work of parked) {
        count += failedWork.recordInto(pipeline, work)
        pipeline.xack(work.stream, consumerGroup, work.entry)
        count++
      }
      pipeline.call('EXEC')
      count += 2
    }
    changed.clear()
    acks.clear()
    parked.length = 0
    return count
  }

  /** Throws the first error among a pipeline's first `count` replies: those entries stay unacknowledged. */
  function checkWrites(replies: [Error | null, unknown][] | null, count: number): void {
    for (const [error, reply] of (replies ?? []).slice(0, count)) {
      // An EXEC answers its commands' errors inside its reply.
      const failed = error ?? (Array.isArray(reply) ? reply.find((r) => r instanceof Error) : undefined)
      if (failed) {
        // What Redis holds is unknown now: read it again rather than trust memory.
        known.clear()
        throw failed
      }
    }
  }

  async function load(deviceIds: string[]): Promise<void> {
    const missing = [...new Set(deviceIds)].filter((id) => !known.has(id))
    if (missing.length === 0) return
    const replies = await missing.reduce((p, id) => p.hgetall(keys.states(id)), redis.pipeline()).exec()
    for (const [i, id] of missing.entries())
      known.set(id, decode(id, replyAt(replies, i) as Record<string, string>))
  }

  /** Writes what waits now: before shards change hands, and as the worker stops. */
  async function flush(): Promise<void> {
    const pipeline = redis.pipeline()
    const count = flushInto(pipeline)
    if (count > 0) checkWrites(await pipeline.exec(), count)
  }

  return {
    flushInto,
    checkWrites,

    /** The states of these devices in memory, those not yet known read in one round trip. */
    load,

    of,

    /** Whether what Redis holds for a loaded device decodes. */
    readable: (deviceId: string): boolean => !(known.get(deviceId) instanceof Error),

    set: (deviceId: string, ruleId: string, state: RuleState): void => {
      of(deviceId).set(ruleId, state)
      const byRule = changed.get(deviceId) ?? new Map<string, string>()
      byRule.set(ruleId, JSON.stringify(state))
      changed.set(deviceId, byRule)
    },

    acknowledge: (key: string, ids: string[]): void => {
      if (ids.length) acks.set(key, [...(acks.get(key) ?? []), ...ids])
    },

    /** An entry given up: kept in the failed-work log and acknowledged with it, with the next writes. */
    park: (work: FailedWorkInput): void => {
      parked.push(work)
    },

    flush,

    /** One device's states written as they stand, then read again from Redis: what a retry starts from. */
    reload: async (deviceId: string): Promise<void> => {
      await flush()
      known.delete(deviceId)
      await load([deviceId])
    },

    /** Forgets what memory holds (shards changed hands): the next load reads Redis. */
    forget: (): void => known.clear(),
  }
}
