import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Device } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import { type IngestKeys, ingestKeys } from './keys.ts'
import { generateSecret, hashSecret, verifySecret } from './secret-hash.ts'

/** A device as the service knows it; its secret is only ever stored hashed. */
export type DeviceRecord = Omit<Device, 'secret' | 'secretHash'> & { createdAt: string }

export type DeviceRegistry = ReturnType<typeof createDeviceRegistry>

export function createDeviceRegistry({ redis, prefix }: { redis: Redis; prefix: string }) {
  const keys: IngestKeys = ingestKeys(prefix)
  // Verified secrets, keyed by device, as an HMAC under a key that never leaves this process:
  // a reconnecting device skips scrypt unless its stored hash changed.
  const cacheKey = randomBytes(32)
  const verified = new Map<string, { hash: string; mac: Buffer }>()
  const mac = (secret: string) => createHmac('sha256', cacheKey).update(secret).digest()
  // Checked against for unknown ids, so timing does not reveal which ids exist.
  const decoyHash = hashSecret(generateSecret())

  async function readRecord(id: string): Promise<{ record: DeviceRecord; secretHash: string } | null> {
    const [doc, secretHash] = await redis.hmget(keys.device(id), 'doc', 'secretHash')
    if (!doc || !secretHash) return null
    return { record: JSON.parse(doc) as DeviceRecord, secretHash }
  }

  async function write(record: DeviceRecord, secretHash: string): Promise<void> {
    await redis
      .multi()
      .hset(keys.device(record.id), 'doc', JSON.stringify(record), 'secretHash', secretHash)
      .sadd(keys.deviceIds, record.id)
      .exec()
  }

  return {
    /** Makes Redis hold the site file's devices; a secret is hashed again only when it changed. */
    seed: async (devices: Device[]): Promise<{ written: number }> => {
      const results = await Promise.all(
        devices.map(async ({ secret, secretHash, ...device }) => {
          const existing = await readRecord(device.id)
          let hash = secretHash
          if (hash === undefined && secret !== undefined) {
            const unchanged = existing !== null && (await verifySecret(secret, existing.secretHash))
            hash = unchanged && existing ? existing.secretHash : await hashSecret(secret)
          }
          if (hash === undefined) return 0
          const record: DeviceRecord = {
            ...device,
            createdAt: existing?.record.createdAt ?? new Date().toISOString(),
          }
          await write(record, hash)
          return 1
        }),
      )
      return { written: results.reduce<number>((sum, n) => sum + n, 0) }
    },

    /** Provisions a new device and returns its secret, the only time it is ever shown. */
    add: async (
      device: Omit<Device, 'secret' | 'secretHash'>,
    ): Promise<{ device: DeviceRecord; secret: string }> => {
      const secret = generateSecret()
      const record: DeviceRecord = { ...device, createdAt: new Date().toISOString() }
      const created = await redis.hsetnx(keys.device(device.id), 'doc', JSON.stringify(record))
      if (created === 0)
        throw new VigieError({ code: 'CONFLICT', message: `Device ${device.id} already exists` })
      await write(record, await hashSecret(secret))
      return { device: record, secret }
    },

    get: async (id: string): Promise<DeviceRecord | null> => (await readRecord(id))?.record ?? null,

    list: async (): Promise<string[]> => (await redis.smembers(keys.deviceIds)).sort(),

    /** Devices by id (code-unit order, as `>` compares), from after an id; next is the last id, or null. */
    page: async ({
      limit,
      after,
    }: {
      limit: number
      after?: string | undefined
    }): Promise<{ items: DeviceRecord[]; next: string | null }> => {
      const ids = (await redis.smembers(keys.deviceIds))
        .filter((id) => after === undefined || id > after)
        .sort()
      const chosen = ids.slice(0, limit)
      const records = await Promise.all(chosen.map(async (id) => (await readRecord(id))?.record ?? null))
      return {
        items: records.filter((record) => record !== null),
        next: ids.length > limit ? (chosen.at(-1) ?? null) : null,
      }
    },

    /** The device when the secret is right, null otherwise; constant time in the secret. */
    authenticate: async (id: string, secret: string): Promise<DeviceRecord | null> => {
      const found = await readRecord(id)
      if (!found) {
        await verifySecret(secret, await decoyHash)
        return null
      }
      const cached = verified.get(id)
      const presented = mac(secret)
      if (cached && cached.hash === found.secretHash) {
        return timingSafeEqual(cached.mac, presented) ? found.record : null
      }
      if (!(await verifySecret(secret, found.secretHash))) return null
      verified.set(id, { hash: found.secretHash, mac: presented })
      return found.record
    },
  }
}
