import { describe, expect, it } from 'vitest'
import { systemClock } from '../../domain/index.ts'
import { createIngest } from '../../ingest/index.ts'
import { ruleKeys } from '../../rules/index.ts'
import { createLogger } from '../../service/index.ts'
import { createRetentionSweep } from '../../service/retention-sweep.ts'
import { trimStreamBefore } from '../../service/trim-stream.ts'
import { openTestRedis } from '../support/redis.ts'

const day = 86_400_000

describe('the retention sweep', () => {
  it('trims readings and events older than their max age from every stream, and keeps the rest', async () => {
    const { redis, prefix } = await openTestRedis()
    const log = createLogger({ level: 'silent' })
    const settings = {
      redisPrefix: prefix,
      logShards: 2,
      readingsRetention: 1000,
      deviceReadingsRetention: 100,
      deadLetterRetention: 100,
    }
    const { keys } = createIngest({ clock: systemClock, redis, settings, log })
    const events = ruleKeys(prefix).events
    const now = Date.parse('2026-12-01T12:00:00Z')
    await redis.sadd(keys.deviceIds, 'temp-1', 'temp-2')
    const streams = [
      keys.shard(0),
      keys.shard(1),
      keys.deviceReadings('temp-1'),
      keys.deviceReadings('temp-2'),
    ]
    // Ten entries a day over 40 days in each stream, ids being their times as Redis makes them.
    for (const key of [...streams, events])
      for (let n = 0; n < 400; n++) await redis.xadd(key, `${now - 40 * day + n * (day / 10)}-0`, 'r', '{}')
    const sweep = createRetentionSweep({
      redis,
      shardKeys: [keys.shard(0), keys.shard(1)],
      deviceIdsKey: keys.deviceIds,
      deviceReadingsKey: keys.deviceReadings,
      eventsKey: events,
      leaseKey: `${prefix}retention-lease`,
      readingsMaxAge: 30 * day,
      eventsMaxAge: 7 * day,
      logger: log,
      now: () => now,
    })
    expect(await sweep.sweepOnce()).toEqual({ readings: 4 * 100, events: 330, tickets: 0 })
    for (const key of streams) {
      expect(await redis.xlen(key)).toBe(300)
      const [[oldest] = []] = await redis.xrange(key, '-', '+', 'COUNT', 1)
      expect(Number(oldest?.split('-')[0])).toBeGreaterThanOrEqual(now - 30 * day)
    }
    expect(await redis.xlen(events)).toBe(70)
    // Nothing left to trim: a second sweep removes nothing.
    expect(await sweep.sweepOnce()).toEqual({ readings: 0, events: 0, tickets: 0 })
    await redis.quit()
  })

  it('trims a long stream in bounded steps, exactly up to the bound, and stops between steps when told', async () => {
    const { redis, prefix } = await openTestRedis()
    const key = `${prefix}long`
    // 2,500 entries, five to a millisecond, so a step's bound can fall between two entries of one millisecond.
    const pipeline = redis.pipeline()
    for (let n = 0; n < 2500; n++) pipeline.xadd(key, `${1000 + Math.floor(n / 5)}-${n % 5}`, 'r', '{}')
    await pipeline.exec()
    expect(await trimStreamBefore({ redis, key, minId: '1360-2', step: 300 })).toBe(1802)
    const [[oldest] = []] = await redis.xrange(key, '-', '+', 'COUNT', 1)
    expect(oldest).toBe('1360-2')
    // One step of 100, then told to stop: exactly one step's entries go.
    let rounds = 0
    const stopped = () => rounds++ >= 1
    expect(await trimStreamBefore({ redis, key, minId: '2000-0', step: 100, stopped })).toBe(100)
    expect(await redis.xlen(key)).toBe(2500 - 1802 - 100)
    await redis.quit()
  })
})
