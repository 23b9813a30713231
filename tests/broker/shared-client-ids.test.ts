import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { brokerKeys, createSharedClientIds } from '../../broker/index.ts'
import { createManualClock } from '../support/manual-clock.ts'
import { openTestRedis } from '../support/redis.ts'

// Issue 17: the client-id book every broker node shares (MQTT_CLUSTER=on), with node leases on a clock the test moves.
let redis: Redis
let prefix: string
beforeAll(async () => {
  ;({ redis, prefix } = await openTestRedis())
})
afterAll(() => redis?.quit())

function twoNodes() {
  const clock = createManualClock()
  const keys = brokerKeys(`${prefix}${randomUUID()}:`)
  const node = (nodeId: string) =>
    createSharedClientIds({ redis, keys, nodeId, now: clock.now, leaseMs: 30_000, onError: () => {} })
  return { clock, a: node('node-a'), b: node('node-b') }
}

describe('the shared client-id book', () => {
  it('keeps a clean session id for its connection while its node is alive, and frees it once the node is gone', async () => {
    const { clock, a, b } = twoNodes()
    await a.start()
    await b.start()
    const onA = a.holderFor()
    expect(await a.claim('bridge', 'account:one', onA, false)).toBeNull()
    expect(await b.claim('bridge', 'account:two', b.holderFor(), false)).toBe('account:one')
    // The same owner takes it over from another node, and the old connection's end does not free it.
    const onB = b.holderFor()
    expect(await b.claim('bridge', 'account:one', onB, false)).toBeNull()
    await a.release('bridge', onA)
    expect(await a.claim('bridge', 'account:two', a.holderFor(), false)).toBe('account:one')
    expect(await a.connectedElsewhere('bridge', 'node-a')).toBe(true)
    // Node B stops renewing (it died): past its lease, its clean session no longer holds the id.
    clock.advance(31_000)
    expect(await a.connectedElsewhere('bridge', 'node-a')).toBe(false)
    expect(await a.claim('bridge', 'account:two', a.holderFor(), false)).toBeNull()
    await Promise.all([a.close(), b.close()])
  })

  it("keeps a persistent session's id for its owner when its connection and its node are gone", async () => {
    const { clock, a, b } = twoNodes()
    await a.start()
    const onA = a.holderFor()
    expect(await a.claim('durable', 'account:one', onA, true)).toBeNull()
    await a.release('durable', onA)
    await a.close()
    clock.advance(60_000)
    await b.start()
    expect(await b.claim('durable', 'account:two', b.holderFor(), false)).toBe('account:one')
    // Its owner connecting with a clean session ends it: the id is free once that connection ends.
    const clean = b.holderFor()
    expect(await b.claim('durable', 'account:one', clean, false)).toBeNull()
    await b.release('durable', clean)
    expect(await b.claim('durable', 'account:two', b.holderFor(), false)).toBeNull()
    await b.close()
  })
})
