import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { ChainableCommander, Redis } from 'ioredis'
import { z } from 'zod'
import { type Device, deviceSchema } from '../config/index.ts'
import { type Clock, VigieError } from '../domain/index.ts'
import { digestOf, matchesDigest, secretBuckets, sectionText } from './devices-digest.ts'
import { generateSecret } from './issued-secret.ts'
import { type IngestKeys, ingestKeys, shardOf } from './keys.ts'
import { hashSecret, type SecretScheme, secretScheme, storedScheme, verifySecret } from './secret-hash.ts'

/** A device as the service knows it; its secret is only ever stored hashed, beside this document. */
export const deviceRecordSchema = z
  .object(deviceSchema.shape)
  .omit({ secret: true, secretHash: true })
  .extend({ createdAt: z.string() })
export type DeviceRecord = z.infer<typeof deviceRecordSchema>

export type DeviceRegistry = ReturnType<typeof createDeviceRegistry>

const seedSlice = 500

export function createDeviceRegistry({
  redis,
  prefix,
  clock,
}: {
  redis: Redis
  prefix: string
  clock: Clock
}) {
  const keys: IngestKeys = ingestKeys(prefix)
  // Verified secrets, keyed by device, as an HMAC under a key that never leaves this process:
  // a reconnecting device skips the check (scrypt, for a chosen secret) unless its stored hash changed.
  const cacheKey = randomBytes(32)
  const verified = new Map<string, { hash: string; mac: Buffer }>()
  const mac = (secret: string) => createHmac('sha256', cacheKey).update(secret).digest()
  // Checked against for unknown ids, in the scheme the presented secret would be stored with, so timing
  // does not reveal which ids exist.
  const decoys: Record<SecretScheme, Promise<string>> = {
    'hmac-sha256': hashSecret(generateSecret()),
    scrypt: hashSecret(randomBytes(24).toString('hex')),
  }

  async function readRecord(id: string): Promise<{ record: DeviceRecord; secretHash: string } | null> {
    const [doc, secretHash] = await redis.hmget(keys.device(id), 'doc', 'secretHash')
    if (!doc || !secretHash) return null
    return { record: deviceRecordSchema.parse(JSON.parse(doc)), secretHash }
  }

  const writeInto = (multi: ChainableCommander, id: string, doc: string, secretHash: string) =>
    multi.hset(keys.device(id), 'doc', doc, 'secretHash', secretHash).sadd(keys.deviceIds, id)

  /** Whether Redis holds this devices section already: one scrypt, whatever the number of devices. */
  async function provisioned(devices: Device[], stored?: Record<string, string>): Promise<boolean> {
    const digests = stored ?? (await redis.hgetall(keys.devicesDigest))
    if (!(await matchesDigest(sectionText(devices), digests.section))) return false
    // A Redis that lost devices since (restored, evicted) is provisioned again.
    return (await redis.scard(keys.deviceIds)) >= devices.length
  }

  return {
    provisioned: (devices: Device[]) => provisioned(devices),

    /**
     * Makes Redis hold the site file's devices: nothing when the section's digest says it does; else a
     * plain secret is checked only in a bucket whose secrets changed, and an unchanged device is not written.
     * In slices, so 20,000 devices never hold 20,000 replies at once.
     */
    seed: async (devices: Device[]): Promise<{ written: number; unchanged: boolean }> => {
      const stored = await redis.hgetall(keys.devicesDigest)
      if (await provisioned(devices, stored)) return { written: 0, unchanged: true }
      const buckets = secretBuckets(devices)
      const bucketField = (bucket: number) => `bucket:${buckets.count}:${bucket}`
      const sameSecrets = new Set<number>()
      await Promise.all(
        [...buckets.texts].map(async ([bucket, text]) => {
          if (await matchesDigest(text, stored[bucketField(bucket)])) sameSecrets.add(bucket)
        }),
      )
      let written = 0
      for (let first = 0; first < devices.length; first += seedSlice) {
        const slice = devices.slice(first, first + seedSlice)
        const reads = redis.pipeline()
        for (const device of slice) reads.hmget(keys.device(device.id), 'doc', 'secretHash')
        const replies = (await reads.exec()) ?? []
        const changed: { id: string; text: string; hash: string }[] = []
        await Promise.all(
          slice.map(async ({ secret, secretHash, ...device }, i) => {
            const [doc, storedHash] = (replies[i]?.[1] ?? []) as (string | null)[]
            const existing = doc ? deviceRecordSchema.parse(JSON.parse(doc)) : null
            let hash = secretHash
            if (hash === undefined && secret !== undefined) {
              const unchanged =
                storedHash &&
                (sameSecrets.has(shardOf(device.id, buckets.count)) ||
                  (await verifySecret(secret, storedHash)))
              hash = unchanged && storedHash ? storedHash : await hashSecret(secret)
            }
            if (hash === undefined) return
            const record: DeviceRecord = {
              ...device,
              createdAt: existing?.createdAt ?? new Date(clock.now()).toISOString(),
            }
            const text = JSON.stringify(record)
            if (text === doc && hash === storedHash) return
            changed.push({ id: record.id, text, hash })
          }),
        )
        if (changed.length > 0) {
          const writes = redis.multi()
          for (const { id, text, hash } of changed) writeInto(writes, id, text, hash)
          await writes.incr(keys.devicesVersion).exec()
        }
        written += changed.length
      }
      // Written last: a seed cut short leaves the old digest, so the next start seeds again.
      const digests: Record<string, string> = { section: await digestOf(sectionText(devices)) }
      await Promise.all(
        [...buckets.texts].map(async ([bucket, text]) => {
          const field = bucketField(bucket)
          digests[field] = sameSecrets.has(bucket) ? (stored[field] ?? '') : await digestOf(text)
        }),
      )
      await redis.multi().del(keys.devicesDigest).hset(keys.devicesDigest, digests).exec()
      return { written, unchanged: false }
    },

    /** Provisions a new device and returns its secret, the only time it is ever shown. */
    add: async (
      device: Omit<Device, 'secret' | 'secretHash'>,
    ): Promise<{ device: DeviceRecord; secret: string }> => {
      const secret = generateSecret()
      const record: DeviceRecord = { ...device, createdAt: new Date(clock.now()).toISOString() }
      const created = await redis.hsetnx(keys.device(device.id), 'doc', JSON.stringify(record))
      if (created === 0)
        throw new VigieError({ code: 'CONFLICT', message: `Device ${device.id} already exists` })
      await writeInto(redis.multi(), record.id, JSON.stringify(record), await hashSecret(secret))
        .incr(keys.devicesVersion)
        .exec()
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

    /**
     * The device when the secret is right, null otherwise; constant time in the secret. A login costs what
     * the presented secret's scheme costs: an unknown id, or a keyed hash that a chosen secret can never
     * match, is checked against a decoy of that scheme instead.
     */
    authenticate: async (id: string, secret: string): Promise<DeviceRecord | null> => {
      const found = await readRecord(id)
      const scheme = secretScheme(secret)
      if (!found || (scheme === 'scrypt' && storedScheme(found.secretHash) === 'hmac-sha256')) {
        await verifySecret(secret, await decoys[scheme])
        return null
      }
      const cached = verified.get(id)
      const presented = mac(secret)
      if (cached && cached.hash === found.secretHash && timingSafeEqual(cached.mac, presented))
        return found.record
      // A wrong secret always costs a full check, so a known id fails as slowly as an unknown one.
      if (!(await verifySecret(secret, found.secretHash))) return null
      verified.set(id, { hash: found.secretHash, mac: presented })
      return found.record
    },
  }
}
