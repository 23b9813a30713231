import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCompareAndDelete, createLease } from '../../streams/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { waitFor } from '../support/wait-for.ts'

let redis: Redis
let key: string

beforeEach(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  key = `${opened.prefix}lease`
})
afterEach(async () => {
  await redis.quit()
})

const leaseOf = (owner: string, ttlMs = 60_000) => createLease({ redis, key, ttlMs, owner })

describe('a lease', () => {
  it('is held by one owner at a time, who alone renews and releases it', async () => {
    const [a, b] = [leaseOf('a'), leaseOf('b')]
    expect(await a.acquire()).toBe(true)
    expect(await b.acquire()).toBe(false)
    expect(await b.renew()).toBe(false)
    expect(await b.release()).toBe(false)
    expect(await redis.get(key)).toBe('a')

    await redis.pexpire(key, 1000)
    expect(await a.renew()).toBe(true)
    expect(await redis.pttl(key)).toBeGreaterThan(1000)

    expect(await a.release()).toBe(true)
    expect(await redis.exists(key)).toBe(0)
    expect(await b.acquire()).toBe(true)
    expect(await redis.get(key)).toBe('b')
  })

  it('is taken again by its own owner, who then holds it for a new time to live', async () => {
    const a = leaseOf('a')
    expect(await a.acquire()).toBe(true)
    await redis.pexpire(key, 1000)
    expect(await a.acquire()).toBe(true)
    expect(await redis.pttl(key)).toBeGreaterThan(1000)
    expect(await leaseOf('b').acquire()).toBe(false)
  })

  it('once lapsed and taken by another, is neither renewed nor released by its former owner', async () => {
    const [a, b] = [leaseOf('a'), leaseOf('b')]
    expect(await a.acquire()).toBe(true)
    await redis.del(key) // as if it lapsed while its owner was paused
    expect(await b.acquire()).toBe(true)
    expect(await a.renew()).toBe(false)
    expect(await a.release()).toBe(false)
    expect(await redis.get(key)).toBe('b')
  })

  it('lapses after its time to live when nobody renews it', async () => {
    expect(await leaseOf('a', 50).acquire()).toBe(true)
    await waitFor(async () => (await redis.exists(key)) === 0, { what: 'the lease to lapse' })
    expect(await leaseOf('b').acquire()).toBe(true)
  })
})

describe('compare-and-delete', () => {
  it('deletes a key only while it holds the expected value', async () => {
    const compareAndDelete = createCompareAndDelete({ redis })
    const claim = randomUUID()
    await redis.set(key, claim)
    expect(await compareAndDelete(key, 'someone else')).toBe(false)
    expect(await redis.get(key)).toBe(claim)
    expect(await compareAndDelete(key, claim)).toBe(true)
    expect(await redis.exists(key)).toBe(0)
    expect(await compareAndDelete(key, claim)).toBe(false)
  })
})
