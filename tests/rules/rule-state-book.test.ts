import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consumerGroup, createRuleStateBook, ruleKeys } from '../../rules/index.ts'
import { createFailedWorkLog, streamKeys } from '../../streams/index.ts'
import { startFullableRedis } from '../support/full-redis.ts'
import { openTestRedis } from '../support/redis.ts'

let opened: Awaited<ReturnType<typeof openTestRedis>>

const bookOf = (redis: Redis, prefix: string) =>
  createRuleStateBook({
    redis,
    keys: ruleKeys(prefix),
    failedWork: createFailedWorkLog({ redis, keys: streamKeys(prefix) }),
  })

beforeAll(async () => {
  opened = await openTestRedis()
})
afterAll(() => opened.redis.quit())

describe('the rule state book', () => {
  it('writes changed states and acknowledgements in the pipeline of the next read, states first', async () => {
    const { redis, prefix } = opened
    const keys = ruleKeys(prefix)
    const stream = `${prefix}log:0`
    await redis.xgroup('CREATE', stream, consumerGroup, '0', 'MKSTREAM')
    const id = await redis.xadd(stream, '*', 'r', '{}')
    await redis.xreadgroup('GROUP', consumerGroup, 'owner', 'STREAMS', stream, '>')
    const book = bookOf(redis, prefix)

    await book.load(['d1'])
    book.set('d1', 'hot', { phase: 'active', since: 5, count: 1 })
    book.acknowledge(stream, [id ?? ''])
    expect(await redis.hgetall(keys.states('d1'))).toEqual({})
    expect((await redis.xpending(stream, consumerGroup))[0]).toBe(1)

    const pipeline = redis.pipeline()
    const writes = book.flushInto(pipeline)
    pipeline.ping()
    const replies = await pipeline.exec()
    book.checkWrites(replies, writes)
    expect(writes).toBe(2)
    expect(replies?.[writes]?.[1]).toBe('PONG')
    expect(JSON.parse((await redis.hget(keys.states('d1'), 'hot')) ?? '{}')).toEqual({
      phase: 'active',
      since: 5,
      count: 1,
    })
    expect((await redis.xpending(stream, consumerGroup))[0]).toBe(0)
    expect(book.flushInto(redis.pipeline())).toBe(0)
  })

  it('keeps loaded states in memory until told to forget them', async () => {
    const { redis, prefix } = opened
    const keys = ruleKeys(prefix)
    await redis.hset(keys.states('d2'), 'hot', JSON.stringify({ phase: 'pending', dueAt: 9, count: 0 }))
    const book = bookOf(redis, prefix)
    await book.load(['d2'])
    await redis.hset(keys.states('d2'), 'hot', JSON.stringify({ phase: 'idle', count: 0 }))
    await book.load(['d2'])
    expect(book.of('d2').get('hot')?.phase).toBe('pending')
    book.forget()
    await book.load(['d2'])
    expect(book.of('d2').get('hot')?.phase).toBe('idle')
  })

  it('throws a failed write and forgets memory, so the next load reads Redis', async () => {
    const { redis, prefix } = opened
    const keys = ruleKeys(prefix)
    const book = bookOf(redis, prefix)
    await redis.set(keys.states('d3'), 'not a hash')
    book.set('d3', 'hot', { phase: 'active', count: 1 })
    await expect(book.flush()).rejects.toThrow(/WRONGTYPE/)
    await redis.del(keys.states('d3'))
    await book.load(['d3'])
    expect(book.of('d3').size).toBe(0)
  })

  it('parks an entry in failed work and acknowledges it in one MULTI, apart from the plain acknowledgements', async () => {
    const { redis, prefix } = opened
    const stream = `${prefix}log:1`
    await redis.xgroup('CREATE', stream, consumerGroup, '0', 'MKSTREAM')
    const good = (await redis.xadd(stream, '*', 'r', '{"device":"d4"}')) ?? ''
    const bad = (await redis.xadd(stream, '*', 'r', '{"device":"d5"}')) ?? ''
    await redis.xreadgroup('GROUP', consumerGroup, 'owner', 'STREAMS', stream, '>')
    const book = bookOf(redis, prefix)
    book.acknowledge(stream, [good])
    book.park({
      source: 'rules',
      stream,
      entry: bad,
      fields: { r: '{"device":"d5"}' },
      reason: 'boom for +33600000001',
      attempts: 3,
      at: Date.parse('2026-12-01T10:00:00Z'),
    })
    expect((await redis.xpending(stream, consumerGroup))[0]).toBe(2)

    const pipeline = redis.pipeline()
    const writes = book.flushInto(pipeline)
    pipeline.ping()
    const replies = await pipeline.exec()
    book.checkWrites(replies, writes)
    expect(replies?.[writes]?.[1]).toBe('PONG')
    expect((await redis.xpending(stream, consumerGroup))[0]).toBe(0)
    const { items } = await createFailedWorkLog({ redis, keys: streamKeys(prefix) }).page({ limit: 10 })
    expect(items).toEqual([
      {
        id: expect.any(String),
        source: 'rules',
        stream,
        entry: bad,
        fields: { r: '{"device":"d5"}' },
        reason: 'boom for +33•••••••01',
        attempts: 3,
        at: '2026-12-01T10:00:00.000Z',
      },
    ])
    expect(await redis.hgetall(streamKeys(prefix).failedWorkCounts)).toEqual({ rules: '1' })
  })

  it('leaves a parked entry unacknowledged when a full Redis refuses its record', async () => {
    const full = await startFullableRedis()
    try {
      const { redis } = full
      const prefix = 'full:'
      const stream = `${prefix}log:0`
      await redis.xgroup('CREATE', stream, consumerGroup, '0', 'MKSTREAM')
      const bad = (await redis.xadd(stream, '*', 'r', '{}')) ?? ''
      const other = (await redis.xadd(stream, '*', 'r', '{}')) ?? ''
      await redis.xreadgroup('GROUP', consumerGroup, 'owner', 'STREAMS', stream, '>')
      const book = bookOf(redis, prefix)
      book.park({ source: 'rules', stream, entry: bad, fields: {}, reason: 'boom', attempts: 3, at: 0 })
      await full.fill()
      await expect(book.flush()).rejects.toThrow(/OOM/)
      expect(await redis.xpending(stream, consumerGroup, '-', '+', 10)).toEqual([
        [bad, 'owner', expect.any(Number), 1],
        [other, 'owner', expect.any(Number), 1],
      ])
      expect(await redis.exists(streamKeys(prefix).failedWork)).toBe(0)
      // What the MULTI guards against: a full Redis still takes a plain acknowledgement.
      expect(await redis.xack(stream, consumerGroup, other)).toBe(1)
    } finally {
      await full.stop()
    }
  })

  it('makes a device whose stored states do not decode throw when read, and no other', async () => {
    const { redis, prefix } = opened
    const keys = ruleKeys(prefix)
    await redis.hset(keys.states('d6'), 'hot', '[object Object]')
    await redis.hset(keys.states('d7'), 'hot', JSON.stringify({ phase: 'opened', count: 1 }))
    await redis.hset(keys.states('d8'), 'hot', JSON.stringify({ phase: 'active', since: 3, count: 2 }))
    const book = bookOf(redis, prefix)
    await book.load(['d6', 'd7', 'd8'])
    expect(() => book.of('d6')).toThrow('rule state hot of d6 is not JSON')
    expect(() => book.of('d7')).toThrow('rule state hot of d7 is not a rule state')
    expect(book.readable('d7')).toBe(false)
    expect(book.of('d8').get('hot')).toEqual({ phase: 'active', since: 3, count: 2 })
  })
})
