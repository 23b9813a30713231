import type { ChainableCommander, Redis } from 'ioredis'
import { consumerGroup, type RuleKeys } from './keys.ts'
import { replyAt } from './pipeline-replies.ts'
import type { RuleState } from './rule-state.ts'

export type RuleStateBook = ReturnType<typeof createRuleStateBook>

/**
 * The rule states of the devices on this worker's shards, held in memory while it owns them: only the
 * owner of a shard writes its devices' states. Changes and acknowledgements wait for the worker's next
 * read and go to Redis in the same round trip; an entry is acknowledged only once its states are written.
 */
export function createRuleStateBook({ redis, keys }: { redis: Redis; keys: RuleKeys }) {
  const known = new Map<string, Map<string, RuleState>>()
  const changed = new Map<string, Map<string, string>>()
  const acks = new Map<string, string[]>()

  const parse = (fields: Record<string, string>) =>
    new Map(Object.entries(fields).map(([rule, json]) => [rule, JSON.parse(json) as RuleState]))

  /** A loaded device's states, changed in place by set. */
  function of(deviceId: string): Map<string, RuleState> {
    const states = known.get(deviceId) ?? new Map<string, RuleState>()
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
    changed.clear()
    acks.clear()
    return count
  }

  /** Throws the first error among a pipeline's first `count` replies: those entries stay unacknowledged. */
  function checkWrites(replies: [Error | null, unknown][] | null, count: number): void {
    for (const [error] of (replies ?? []).slice(0, count)) {
      if (error) {
        // What Redis holds is unknown now: read it again rather than trust memory.
        known.clear()
        throw error
      }
    }
  }

  return {
    flushInto,
    checkWrites,

    /** The states of these devices in memory, those not yet known read in one round trip. */
    load: async (deviceIds: string[]): Promise<void> => {
      const missing = [...new Set(deviceIds)].filter((id) => !known.has(id))
      if (missing.length === 0) return
      const replies = await missing.reduce((p, id) => p.hgetall(keys.states(id)), redis.pipeline()).exec()
      for (const [i, id] of missing.entries())
        known.set(id, parse(replyAt(replies, i) as Record<string, string>))
    },

    of,

    set: (deviceId: string, ruleId: string, state: RuleState): void => {
      of(deviceId).set(ruleId, state)
      const byRule = changed.get(deviceId) ?? new Map<string, string>()
      byRule.set(ruleId, JSON.stringify(state))
      changed.set(deviceId, byRule)
    },

    acknowledge: (key: string, ids: string[]): void => {
      if (ids.length) acks.set(key, [...(acks.get(key) ?? []), ...ids])
    },

    /** Writes what waits now: before shards change hands, and as the worker stops. */
    flush: async (): Promise<void> => {
      const pipeline = redis.pipeline()
      const count = flushInto(pipeline)
      if (count > 0) checkWrites(await pipeline.exec(), count)
    },

    /** Forgets what memory holds (shards changed hands): the next load reads Redis. */
    forget: (): void => known.clear(),
  }
}
