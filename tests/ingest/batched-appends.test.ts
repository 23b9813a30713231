import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../domain/index.ts'
import { createIngest, type Ingest } from '../../ingest/index.ts'
import { createLogger, findFreePort, openClient, startRedisServer } from '../../service/index.ts'
import { makeTempDir } from '../support/temp-files.ts'

let ingest: Ingest
let close: () => Promise<unknown>
let redis: Awaited<ReturnType<typeof openClient>>
let prefix: string

const lingerMs = 1000

beforeAll(async () => {
  // A redis-server of its own: MONITOR streams every client's commands, and the files running beside
  // this one flooded it until ioredis lost track of its replies.
  const server = await startRedisServer({
    port: await findFreePort(),
    dir: makeTempDir(),
    appendOnly: false,
    log: createLogger({ level: 'silent' }),
  })
  redis = await openClient(server.url, 5000)
  prefix = `test:${randomUUID()}:`
  close = async () => {
    await redis.quit()
    await server.stop()
  }
  ingest = createIngest({
    clock: systemClock,
    redis,
    settings: {
      redisPrefix: prefix,
      logShards: 1,
      readingsRetention: 10_000,
      deviceReadingsRetention: 10_000,
      deadLetterRetention: 100,
    },
    log: createLogger({ level: 'silent' }),
    lingerMs,
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

describe('readings of separate turns within the linger', () => {
  it('reach Redis as one script call', async () => {
    const monitor = await redis.monitor()
    const calls: string[][] = []
    const marker = `${prefix}seen-all`
    // MONITOR shows commands in the order Redis ran them: once the marker shows, every call before it has.
    const markerSeen = new Promise<void>((resolve) =>
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args[0]?.toLowerCase() === 'evalsha' && args.some((arg) => arg.startsWith(prefix)))
          calls.push(args)
        if (args[1] === marker) resolve()
      }),
    )
    try {
      const sent = []
      for (let seq = 1000; seq < 1005; seq++) {
        sent.push(ingest.accept(message('b1', seq)))
        // A turn of the event loop apart, as readings from separate sockets arrive.
        await new Promise((resolve) => setImmediate(resolve))
      }
      expect(await Promise.all(sent)).toEqual(Array(5).fill('appended'))
      await redis.echo(marker)
      await markerSeen
      // The script call carries 2 shared keys and 4 per reading.
      expect(calls.map((args) => Number(args[2]))).toEqual([2 + 5 * 4])
    } finally {
      monitor.disconnect()
    }
  })
})

describe('the seqs a device sent lately', () => {
  it('are kept, 64 to 96 of them, so a late redelivery of a recent one is still dropped', async () => {
    const sent = []
    for (let seq = 2000; seq < 2200; seq++) sent.push(ingest.accept(message('b2', seq)))
    expect(new Set(await Promise.all(sent))).toEqual(new Set(['appended']))
    const kept = await redis.zcard(ingest.keys.recentSeqs('b2'))
    expect(kept).toBeGreaterThanOrEqual(64)
    expect(kept).toBeLessThanOrEqual(96)
    expect(await ingest.accept(message('b2', 2200 - 64))).toBe('duplicate')
    expect(await ingest.accept(message('b2', 2000))).toBe('appended')
  })
})
