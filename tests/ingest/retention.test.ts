import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../domain/index.ts'
import { createIngest, type Ingest } from '../../ingest/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

let ingest: Ingest
let close: () => Promise<unknown>
let redis: Awaited<ReturnType<typeof openTestRedis>>['redis']

beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  close = () => opened.redis.quit()
  ingest = createIngest({
    clock: systemClock,
    redis: opened.redis,
    settings: {
      redisPrefix: opened.prefix,
      logShards: 1,
      readingsRetention: 200,
      deviceReadingsRetention: 100,
      deadLetterRetention: 100,
    },
    log: createLogger({ level: 'silent' }),
  })
  await ingest.registry.seed([{ id: 't1', kind: 'temperature', site: 's', secret: 'secret-t1-long' }])
})
afterAll(() => close())

describe('retention', () => {
  it('bounds the log and the per-device readings to their settings (trimmed in whole stream nodes of 100)', async () => {
    // A hundred at a time, as many devices would: one at a time, each would wait out ingest's 12 ms linger.
    for (let first = 0; first < 2000; first += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, k) => {
          const payload = Buffer.from(JSON.stringify({ type: 'temperature', celsius: 20, seq: first + k }))
          return ingest.accept({ topic: 'devices/t1/telemetry', payload, receivedAt: Date.now() })
        }),
      )
    }
    expect(await redis.xlen(ingest.keys.shard(0))).toBeLessThanOrEqual(300)
    expect(await redis.xlen(ingest.keys.deviceReadings('t1'))).toBeLessThanOrEqual(200)
    expect((await ingest.readings.recent('t1', 1))[0]?.seq).toBe(1999)
  })
})
