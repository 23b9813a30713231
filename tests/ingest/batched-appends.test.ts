import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
    redis: opened.redis,
    settings: {
      redisPrefix: opened.prefix,
      logShards: 1,
      readingsRetention: 10_000,
      deviceReadingsRetention: 10_000,
      deadLetterRetention: 100,
    },
    log: createLogger({ level: 'silent' }),
  })
  await ingest.registry.seed([
    { id: 'b1', kind: 'temperature', site: 's', secret: 'secret-b1-long' },
    { id: 'b2', kind: 'temperature', site: 's', secret: 'secret-b2-long' },
  ])
})
afterAll(() => close())

const message = (device: string, seq: number) => ({
  topic: `devices/${device}/telemetry`,
  payload: Buffer.from(JSON.stringify({ type: 'temperature', celsius: 20, seq })),
  receivedAt: Date.now(),
})

describe('readings of one event-loop turn', () => {
  // More than one batch (256) in a single turn, with a redelivered seq inside the same batch.
  it('are appended once each, in arrival order per device, across batches', async () => {
    const sent = []
    for (let seq = 0; seq < 300; seq++) {
      sent.push(ingest.accept(message('b1', seq)), ingest.accept(message('b2', seq)))
      if (seq === 10) sent.push(ingest.accept(message('b1', 5)))
    }
    const outcomes = await Promise.all(sent)
    expect(outcomes.filter((o) => o === 'appended')).toHaveLength(600)
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(1)
    expect(outcomes[22]).toBe('duplicate')

    const log = await redis.xrange(ingest.keys.shard(0), '-', '+')
    expect(log).toHaveLength(600)
    for (const device of ['b1', 'b2']) {
      const seqs = log
        .map(([, fields]) => JSON.parse(fields[1] ?? 'null') as { device: string; seq: number })
        .filter((r) => r.device === device)
        .map((r) => r.seq)
      expect(seqs).toEqual([...Array(300).keys()])
    }
  })
})
