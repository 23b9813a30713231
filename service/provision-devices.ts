import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Device } from '../config/index.ts'
import type { DeviceRegistry } from '../ingest/index.ts'
import { createLease } from '../streams/index.ts'

/**
 * Makes Redis hold the site file's devices once for all processes and nodes (issue 17): a start that finds
 * them there goes on at once; otherwise one process seeds under a lease while the others wait for its digest.
 */
export async function provisionDevices({
  redis,
  registry,
  devices,
  leaseKey,
  log,
  leaseMs = 30_000,
  pollMs = 250,
}: {
  redis: Redis
  registry: Pick<DeviceRegistry, 'seed' | 'provisioned'>
  devices: Device[]
  leaseKey: string
  log: Logger
  leaseMs?: number
  pollMs?: number
}): Promise<{ written: number; seeded: boolean }> {
  if (await registry.provisioned(devices)) {
    log.info({ devices: devices.length }, 'devices from the site file already provisioned')
    return { written: 0, seeded: false }
  }
  const lease = createLease({ redis, key: leaseKey, ttlMs: leaseMs, owner: randomUUID() })
  for (let waiting = false; ; waiting = true) {
    if (await lease.acquire()) break
    if (!waiting) log.info({ devices: devices.length }, 'another process provisions the devices; waiting')
    await new Promise((resolve) => setTimeout(resolve, pollMs))
    // Checked only when the lease is gone: the holder wrote its digest (or died, and this one seeds).
    if ((await redis.exists(leaseKey)) === 0 && (await registry.provisioned(devices))) {
      log.info({ devices: devices.length }, 'devices from the site file provisioned by another process')
      return { written: 0, seeded: false }
    }
  }
  // Plain secrets take ~30 ms each to hash: a long seed keeps its lease.
  const renewal = setInterval(() => {
    lease.renew().catch((err: unknown) => log.warn({ err }, 'provisioning lease not renewed'))
  }, leaseMs / 3)
  try {
    const { written, unchanged } = await registry.seed(devices)
    if (unchanged) {
      log.info({ devices: devices.length }, 'devices from the site file provisioned by another process')
      return { written: 0, seeded: false }
    }
    log.info({ devices: devices.length, written }, 'devices from the site file provisioned')
    return { written, seeded: true }
  } finally {
    clearInterval(renewal)
    await lease.release()
  }
}
