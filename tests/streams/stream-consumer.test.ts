import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { VigieError } from '../../domain/index.ts'
import { createLogger, openClient } from '../../service/index.ts'
import {
  createFailedWorkLog,
  createStreamConsumer,
  type FailedWorkLog,
  type StreamConsumer,
  type StreamConsumerOptions,
  streamKeys,
} from '../../streams/index.ts'
import { startFullableRedis } from '../support/full-redis.ts'
import { openTestRedis } from '../support/redis.ts'
import { spawnService } from '../support/service-process.ts'
import { waitFor } from '../support/wait-for.ts'

const group = 'g'
const log = createLogger({ level: 'silent' })
let redis: Redis
let url: string
let prefix: string
let stream: string
let failedWork: FailedWorkLog
const started: StreamConsumer[] = []

beforeEach(async () => {
  const opened = await openTestRedis()
  ;({ redis, url, prefix } = opened)
  stream = `${opened.prefix}events`
  failedWork = createFailedWorkLog({ redis, keys: streamKeys(opened.prefix) })
  await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM')
})
afterEach(async () => {
  for (const consumer of started.splice(0)) await consumer.close()
  await redis.quit()
})

/** A started consumer on a connection of its own, closed after the test unless `keep` is false. */
async function startConsumer(
  options: Pick<StreamConsumerOptions, 'handle'> & Partial<StreamConsumerOptions>,
  { keep = true } = {},
) {
  const connection = options.redis ?? (await openClient(url, 5000))
  const consumer = createStreamConsumer({
    redis: connection,
    stream,
    group,
    source: 'notifier',
    failedWork,
    logger: log,
    blockMs: 50,
    retryDelayMs: 10,
    ...options,
  })
  await consumer.start()
  if (keep) started.push(consumer)
  return { consumer, connection }
}

/** Entries added in one MULTI: a blocked reader gets them all in one read. */
async function addEntries(...values: string[]): Promise<string[]> {
  const replies = await values.reduce((m, value) => m.xadd(stream, '*', 'e', value), redis.multi()).exec()
  return (replies ?? []).map(([, id]) => id as string)
}

const pendingCount = async () => (await redis.xpending(stream, group))[0]

describe('the stream consumer', () => {
  it('calls a handler that always throws maxAttempts times, then keeps the entry in failed work and acknowledges it', async () => {
    const deliveries: number[] = []
    const handled: string[] = []
    const before = Date.now()
    await startConsumer({
      maxAttempts: 3,
      handle: async ({ id, fields, deliveries: delivery }) => {
        if (fields.e !== 'bad') {
          handled.push(id)
          return
        }
        deliveries.push(delivery)
        throw new Error('cannot reach redis://:hunter2@10.0.0.1:6379 for +33600000001')
      },
    })
    const [bad, good] = await addEntries('bad', 'good')
    const { items } = await waitFor(
      async () => {
        const page = await failedWork.page({ limit: 10 })
        return page.items.length > 0 ? page : undefined
      },
      { what: 'the entry in failed work' },
    )
    expect(deliveries).toEqual([1, 2, 3])
    expect(handled).toEqual([good])
    expect(items).toEqual([
      {
        id: expect.any(String),
        source: 'notifier',
        stream,
        entry: bad,
        fields: { e: 'bad' },
        reason: 'cannot reach redis://[redacted]@10.0.0.1:6379 for +33•••••••01',
        attempts: 3,
        at: expect.any(String),
      },
    ])
    expect(Date.parse(items[0]?.at ?? '')).toBeGreaterThanOrEqual(before - 1)
    expect(await pendingCount()).toBe(0)
    expect(await failedWork.counts()).toEqual({ rules: 0, notifier: 1, commands: 0 })
  })

  it('keeps an entry its handler rejects as bad input at once, without retrying it', async () => {
    let calls = 0
    await startConsumer({
      handle: async () => {
        calls++
        throw new VigieError({ code: 'STREAM_ENTRY_REJECTED', message: 'event not understood' })
      },
    })
    const [id] = await addEntries('nonsense')
    const { items } = await waitFor(async () => {
      const page = await failedWork.page({ limit: 10 })
      return page.items.length > 0 ? page : undefined
    })
    expect(items.map((w) => [w.entry, w.reason, w.attempts])).toEqual([[id, 'event not understood', 1]])
    expect(calls).toBe(1)
    expect(await pendingCount()).toBe(0)
  })

  it('finishes, once each, the entries a consumer took and died with, once they were idle claimIdleMs', async () => {
    const begun: string[] = []
    let deliveredAt = 0
    const first = await startConsumer(
      {
        claimIdleMs: 200,
        // It hangs on the first entry of its batch, then dies: nothing of the batch is acknowledged.
        handle: ({ id }) => {
          begun.push(id)
          deliveredAt = Date.now()
          return new Promise<void>(() => {})
        },
      },
      { keep: false },
    )
    const ids = await addEntries('one', 'two', 'three')
    await waitFor(() => begun.length === 1, { what: 'the first consumer on its batch' })
    expect(await redis.xpending(stream, group)).toEqual([3, ids[0], ids[2], [[first.consumer.consumer, '3']]])
    first.connection.disconnect()

    const handled: { id: string; at: number }[] = []
    const second = await startConsumer({
      claimIdleMs: 200,
      handle: async ({ id }) => {
        handled.push({ id, at: Date.now() })
      },
    })
    await waitFor(async () => handled.length === 3 && (await pendingCount()) === 0, {
      what: 'the batch finished by the second consumer',
    })
    expect(second.consumer.consumer).not.toBe(first.consumer.consumer)
    expect(handled.map((h) => h.id)).toEqual(ids)
    // Not before they had been idle 200 ms: a live consumer's entries are its own.
    expect(Math.min(...handled.map((h) => h.at)) - deliveredAt).toBeGreaterThan(150)
    expect(begun).toEqual([ids[0]])
  })

  it('forgets the names of consumers gone, once nothing is pending under them, and keeps its own', async () => {
    // Two processes gone: one had read nothing, one died holding an entry.
    await redis.xgroup('CREATECONSUMER', stream, group, 'gone-idle')
    const [held] = await addEntries('held')
    await redis.xreadgroup('GROUP', group, 'gone-holding', 'COUNT', 1, 'STREAMS', stream, '>')
    const handled: string[] = []
    const { consumer } = await startConsumer({
      claimIdleMs: 200,
      forgetIdleMs: 300,
      handle: async ({ id }) => {
        handled.push(id)
      },
    })
    const names = async () =>
      ((await redis.xinfo('CONSUMERS', stream, group)) as string[][]).map((c) => c[c.indexOf('name') + 1])
    await waitFor(async () => (await names()).length === 1, { what: 'the gone consumers forgotten' })
    expect(await names()).toEqual([consumer.consumer])
    // The holder's entry was claimed and finished before its name went: nothing dropped with it.
    expect(handled).toEqual([held])
    expect(await redis.xpending(stream, group)).toEqual([0, null, null, null])
  })

  it('finishes, once each, the batch of a consumer process killed mid-batch', async () => {
    const ids = await addEntries('one', 'two', 'three', 'four', 'five')
    const stuck = spawnService({
      args: ['--import', 'tsx', 'tests/support/stuck-consumer.ts'],
      env: { REDIS_URL: url, STREAM: stream, GROUP: group, PREFIX: prefix },
    })
    try {
      const line = await stuck.waitForLine(/^stuck on \S+ as \S+$/)
      const name = line.split(' as ')[1]
      // The whole batch is pending under the process: read, none acknowledged.
      await waitFor(
        async () => {
          const [count, , , consumers] = (await redis.xpending(stream, group)) as [
            number,
            string,
            string,
            [string, string][],
          ]
          return count === ids.length && consumers[0]?.[0] === name
        },
        { what: "the batch pending under the child's consumer" },
      )
      expect(line).toBe(`stuck on ${ids[0]} as ${name}`)
    } finally {
      expect(await stuck.stop('SIGKILL')).toBe('SIGKILL')
    }

    const handled: { id: string; deliveries: number }[] = []
    await startConsumer({
      claimIdleMs: 200,
      handle: async ({ id, deliveries }) => {
        handled.push({ id, deliveries })
      },
    })
    await waitFor(async () => handled.length >= ids.length && (await pendingCount()) === 0, {
      what: "the dead process's batch finished here",
    })
    // Delivered once to the dead process, once here; none twice here, none given up.
    expect(handled).toEqual(ids.map((id) => ({ id, deliveries: 2 })))
    expect((await failedWork.page({ limit: 10 })).items).toEqual([])
  })

  it('gives up, without handling it again, an entry whose earlier handlers all died on it', async () => {
    const [id = ''] = await addEntries('poison')
    // Three deliveries to consumers that never answered.
    await redis.xreadgroup('GROUP', group, 'dead', 'STREAMS', stream, '>')
    await redis.xreadgroup('GROUP', group, 'dead', 'STREAMS', stream, '0')
    await redis.xreadgroup('GROUP', group, 'dead', 'STREAMS', stream, '0')
    let calls = 0
    await startConsumer({
      maxAttempts: 3,
      claimIdleMs: 20,
      handle: async () => {
        calls++
      },
    })
    const { items } = await waitFor(async () => {
      const page = await failedWork.page({ limit: 10 })
      return page.items.length > 0 ? page : undefined
    })
    expect(items.map((w) => [w.entry, w.reason, w.attempts])).toEqual([
      [id, 'delivered 4 times, never finished', 3],
    ])
    expect(calls).toBe(0)
    expect(await pendingCount()).toBe(0)
  })

  it('keeps, rather than drops, a pending entry trimmed from the stream before anyone finished it', async () => {
    const [trimmed = '', kept = ''] = await addEntries('gone', 'here')
    await redis.xreadgroup('GROUP', group, 'dead', 'STREAMS', stream, '>')
    await redis.xdel(stream, trimmed)
    const handled: string[] = []
    await startConsumer({
      claimIdleMs: 20,
      handle: async ({ id }) => {
        handled.push(id)
      },
    })
    const { items } = await waitFor(async () => {
      const page = await failedWork.page({ limit: 10 })
      return page.items.length > 0 && handled.length > 0 ? page : undefined
    })
    expect(items.map((w) => [w.entry, w.reason, w.fields])).toEqual([
      [trimmed, 'trimmed from the stream before it was handled', {}],
    ])
    expect(handled).toEqual([kept])
    expect(await pendingCount()).toBe(0)
  })

  it('ends a blocked read at once when closed', async () => {
    const connection = await openClient(url, 5000)
    const name = `blocked-${Date.now()}`
    await connection.client('SETNAME', name)
    const { consumer } = await startConsumer(
      { redis: connection, blockMs: 10_000, handle: async () => {} },
      { keep: false },
    )
    await waitFor(
      async () =>
        ((await redis.client('LIST')) as string)
          .split('\n')
          .some((line) => line.includes(`name=${name} `) && line.includes('cmd=xreadgroup')),
      { what: 'the consumer blocked in XREADGROUP' },
    )
    const closing = Date.now()
    await consumer.close()
    expect(Date.now() - closing).toBeLessThan(1000)
    expect(connection.status).toBe('end')
  })

  it('leaves an entry unacknowledged while a full Redis refuses its record, and keeps it once Redis has room', async () => {
    const full = await startFullableRedis()
    try {
      const own = createFailedWorkLog({ redis: full.redis, keys: streamKeys('full:') })
      await full.redis.xgroup('CREATE', 'full:events', group, '0', 'MKSTREAM')
      const [id] = await full.redis.xadd('full:events', '*', 'e', 'x').then((added) => [added ?? ''])
      await startConsumer({
        redis: await openClient(full.url, 5000),
        stream: 'full:events',
        failedWork: own,
        maxAttempts: 1,
        handle: async () => {
          await full.fill()
          throw new Error('boom')
        },
      })
      // Delivered again and again (each try to keep it is refused), never acknowledged meanwhile.
      await waitFor(async () => {
        const [entry] = (await full.redis.xpending('full:events', group, '-', '+', 1)) as [
          string,
          string,
          number,
          number,
        ][]
        return (entry?.[3] ?? 0) >= 3
      })
      expect((await own.page({ limit: 10 })).items).toEqual([])
      await full.empty()
      const { items } = await waitFor(async () => {
        const page = await own.page({ limit: 10 })
        return page.items.length > 0 ? page : undefined
      })
      expect(items.map((w) => [w.entry, w.reason])).toEqual([[id, 'boom']])
      expect((await full.redis.xpending('full:events', group))[0]).toBe(0)
    } finally {
      for (const consumer of started.splice(0)) await consumer.close()
      await full.stop()
    }
  })
})
