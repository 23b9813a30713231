import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consumerGroup, createRuleStateBook, ruleKeys } from '../../rules/index.ts'
import { openTestRedis } from '../support/redis.ts'

let opened: Awaited<ReturnType<typeof openTestRedis>>

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
    const book = createRuleStateBook({ redis, keys })

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
    const book = createRuleStateBook({ redis, keys })
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
    const book = createRuleStateBook({ redis, keys })
    await redis.set(keys.states('d3'), 'not a hash')
    book.set('d3', 'hot', { phase: 'active', count: 1 })
    await expect(book.flush()).rejects.toThrow(/WRONGTYPE/)
    await redis.del(keys.states('d3'))
    await book.load(['d3'])
    expect(book.of('d3').size).toBe(0)
  })
})
