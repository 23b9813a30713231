import mqemitter from 'mqemitter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBoundedEmitter } from '../../broker/index.ts'
import { type BrokerHarness, startBrokerHarness } from '../support/broker-harness.ts'
import { waitFor } from '../support/wait-for.ts'

type Emitter = {
  on: (topic: string, listener: (message: mqemitter.Message, done: () => void) => void) => unknown
  emit: (message: mqemitter.Message, callback: () => void) => void
}

/** A subscriber that stalls while 50,000 messages queue up, then catches up all at once. */
function floodAfterStall(emitter: Emitter): { completed: () => number; release: () => void } {
  const held: (() => void)[] = []
  let stalled = true
  let completed = 0
  emitter.on('devices/+/telemetry', (_message, done) => {
    if (stalled) held.push(done)
    else done()
  })
  for (let i = 0; i < 50_000; i++) emitter.emit({ topic: 'devices/d1/telemetry', i }, () => completed++)
  return {
    completed: () => completed,
    release: () => {
      stalled = false
      for (const done of held.splice(0)) done()
    },
  }
}

describe('a slow subscriber catching up', () => {
  it('overflows the stack of the default mqemitter (the defect guarded against)', () => {
    const flood = floodAfterStall(mqemitter({ concurrency: 100 }))
    expect(() => flood.release()).toThrow('Maximum call stack size exceeded')
  })

  it('is delivered every message by the bounded emitter, with no overflow', async () => {
    const flood = floodAfterStall(createBoundedEmitter({ concurrency: 100, highWater: 100_000 }))
    flood.release()
    await waitFor(() => flood.completed() === 50_000, { what: 'all 50,000 deliveries', timeoutMs: 20_000 })
    expect(flood.completed()).toBe(50_000)
  })
})

/** A publisher whose next publish starts in the callback of the last, as aedes' nextBatch does. */
function publishInChain(emitter: Emitter, count: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0
    const next = () => {
      if (++sent === count) return resolve(sent)
      emitter.emit({ topic: 'nobody/listens' }, next)
    }
    emitter.emit({ topic: 'nobody/listens' }, next)
  })
}

describe('publishes that complete in the same turn', () => {
  it('overflow the stack of the default mqemitter, each callback starting the next (the defect guarded against)', async () => {
    await expect(publishInChain(mqemitter({ concurrency: 100 }), 100_000)).rejects.toThrow(
      'Maximum call stack size exceeded',
    )
  })

  it('go one after the other through the bounded emitter, with no overflow', async () => {
    expect(await publishInChain(createBoundedEmitter({ concurrency: 100, highWater: 1000 }), 100_000)).toBe(
      100_000,
    )
  })
})

describe('a bounded emitter with more waiting than its high-water mark', () => {
  it('says it is congested until half have gone out, then calls whoever waits for it once', async () => {
    const emitter = createBoundedEmitter({ concurrency: 1, highWater: 10 })
    const held: (() => void)[] = []
    emitter.on('t/#', (_message, done) => held.push(done))
    for (let i = 0; i < 12; i++) emitter.emit({ topic: 't/x', i })
    expect(emitter.length).toBe(11)
    expect(emitter.congested()).toBe(true)
    let resumed = 0
    emitter.whenClear(() => resumed++)
    for (let i = 0; i < 5; i++) held.shift()?.()
    expect(emitter.length).toBe(6)
    expect(emitter.congested()).toBe(true)
    held.shift()?.()
    expect(emitter.congested()).toBe(false)
    await waitFor(() => resumed === 1, { what: 'the waiter called' })
    emitter.whenClear(() => resumed++)
    expect(resumed).toBe(2)
  })
})

describe('a frozen subscriber', () => {
  let harness: BrokerHarness
  beforeAll(async () => {
    harness = await startBrokerHarness({ mqttDrainTimeout: 300 })
  })
  afterAll(() => harness.close())

  it('is dropped after the drain timeout while publishers carry on', async () => {
    const frozen = await harness.connect({
      username: 'integration',
      password: 'integration-password',
      clientId: 'frozen',
    })
    frozen.on('error', () => {})
    await frozen.subscribeAsync('integrations/#', { qos: 1 })
    frozen.stream.pause() // stops reading: the broker's writes to it back up
    const publisher = await harness.connect({ username: 'operator', password: 'operator-password' })
    expect(harness.broker.connectedClients()).toBe(2)

    const chunk = Buffer.alloc(100 * 1024, 0x61)
    let sent = 0
    await waitFor(
      async () => {
        await publisher.publishAsync('integrations/bulk', chunk, { qos: 1 })
        sent++
        return harness.broker.connectedClients() === 1
      },
      { what: 'the frozen subscriber to be dropped', timeoutMs: 20_000, intervalMs: 1 },
    )
    expect(sent).toBeGreaterThan(1)
    await publisher.publishAsync('integrations/after', 'still going', { qos: 1 })
    expect(publisher.connected).toBe(true)
  })
})
