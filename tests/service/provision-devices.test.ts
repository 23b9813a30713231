import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Device } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createIngest, hashSecret } from '../../ingest/index.ts'
import { createLogger, openClient } from '../../service/index.ts'
import { provisionDevices } from '../../service/provision-devices.ts'
import { openTestRedis } from '../support/redis.ts'

let opened: Awaited<ReturnType<typeof openTestRedis>>
let hash: string
beforeAll(async () => {
  opened = await openTestRedis()
  // The cost rides in the hash: a cheap one keeps the fleet quick to seed.
  hash = await hashSecret('shared-secret-0123', { N: 16, r: 1, p: 1 })
})
afterAll(() => opened.redis.quit())

const fleet = (count: number): Device[] =>
  Array.from({ length: count }, (_, i) => ({ id: `p-${i}`, kind: 'door', site: 's', secretHash: hash }))

/** A process of its own, as far as Redis can tell: its own connection and registry. */
async function processOn(prefix: string) {
  const redis = await openClient(opened.url, 5000)
  const ingest = createIngest({
    clock: systemClock,
    redis,
    settings: {
      redisPrefix: prefix,
      logShards: 1,
      readingsRetention: 100,
      deviceReadingsRetention: 100,
      deadLetterRetention: 100,
    },
    log: createLogger({ level: 'silent' }),
  })
  return {
    redis,
    provision: (devices: Device[]) =>
      provisionDevices({
        redis,
        registry: ingest.registry,
        devices,
        leaseKey: ingest.keys.devicesProvisionLease,
        log: createLogger({ level: 'silent' }),
        pollMs: 20,
      }),
  }
}

describe('provisioning the site file devices', () => {
  it('seeds once when two processes start at the same moment, and not again at the next start', async () => {
    const [a, b, c] = [
      await processOn(opened.prefix),
      await processOn(opened.prefix),
      await processOn(opened.prefix),
    ]
    try {
      const results = await Promise.all([a.provision(fleet(1200)), b.provision(fleet(1200))])
      expect(results.filter((r) => r.seeded)).toEqual([{ written: 1200, seeded: true }])
      expect(results.filter((r) => !r.seeded)).toEqual([{ written: 0, seeded: false }])
      expect(await opened.redis.scard(`${opened.prefix}devices`)).toBe(1200)
      expect(await opened.redis.exists(`${opened.prefix}devices-provision-lease`)).toBe(0)

      expect(await c.provision(fleet(1200))).toEqual({ written: 0, seeded: false })
      // An edit to the file is a new section: seeded again, writing only what changed.
      expect(await c.provision(fleet(1201))).toEqual({ written: 1, seeded: true })
    } finally {
      await Promise.all([a.redis.quit(), b.redis.quit(), c.redis.quit()])
    }
  })

  it('seeds when the holder of the lease died before writing its digest', async () => {
    const prefix = `${opened.prefix}dead:`
    // A lease left by a process killed mid-seed: it lapses, and the waiting start seeds.
    await opened.redis.set(`${prefix}devices-provision-lease`, 'killed-process', 'PX', 300)
    const one = await processOn(prefix)
    try {
      expect(await one.provision(fleet(10))).toEqual({ written: 10, seeded: true })
    } finally {
      await one.redis.quit()
    }
  })
})
