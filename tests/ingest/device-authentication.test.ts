import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../domain/index.ts'
import { createIngest, type DeviceRegistry, generateSecret, hashSecret } from '../../ingest/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

let opened: Awaited<ReturnType<typeof openTestRedis>>
let registry: DeviceRegistry
const issued = generateSecret()
const chosen = 'a-chosen-secret-0123'

beforeAll(async () => {
  opened = await openTestRedis()
  registry = createIngest({
    clock: systemClock,
    redis: opened.redis,
    settings: {
      redisPrefix: opened.prefix,
      logShards: 1,
      readingsRetention: 100,
      deviceReadingsRetention: 100,
      deadLetterRetention: 100,
    },
    log: createLogger({ level: 'silent' }),
  }).registry
  // scrypt at the product's cost, so that a check of that scheme weighs what it weighs in production.
  await registry.seed([
    { id: 'issued-1', kind: 'door', site: 's', secretHash: await hashSecret(issued) },
    { id: 'chosen-1', kind: 'door', site: 's', secretHash: await hashSecret(chosen) },
  ])
})
afterAll(() => opened.redis.quit())

/** CPU time (every thread of this process: scrypt runs on libuv's pool) of five checks, in ms. */
async function cpuOf(check: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage()
  for (let i = 0; i < 5; i++) await check()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000
}

describe('a device login', () => {
  it('accepts an issued secret against its keyed hash and a chosen one against scrypt', async () => {
    expect(await registry.authenticate('issued-1', issued)).toMatchObject({ id: 'issued-1' })
    expect(await registry.authenticate('chosen-1', chosen)).toMatchObject({ id: 'chosen-1' })
    expect(await registry.authenticate('issued-1', generateSecret())).toBeNull()
    expect(await registry.authenticate('issued-1', chosen)).toBeNull()
  })

  it('costs, for an unknown id, a full check of the scheme the presented secret would be stored with', async () => {
    const wrongChosen = await cpuOf(() => registry.authenticate('chosen-1', 'a-wrong-guess-0123'))
    const unknownChosen = await cpuOf(() => registry.authenticate('no-such-device', 'a-wrong-guess-0123'))
    // A keyed hash no chosen secret can match costs a chosen guess what an unknown id costs it.
    const keyedChosen = await cpuOf(() => registry.authenticate('issued-1', 'a-wrong-guess-0123'))
    const unknownIssued = await cpuOf(() => registry.authenticate('no-such-device', generateSecret()))
    // Five scrypt checks at N=2^14 take well over 25 ms of CPU; five HMACs a fraction of a millisecond.
    expect(wrongChosen).toBeGreaterThan(25)
    expect(unknownChosen).toBeGreaterThan(wrongChosen / 2)
    expect(keyedChosen).toBeGreaterThan(wrongChosen / 2)
    expect(unknownIssued).toBeLessThan(wrongChosen / 5)
  })
})
