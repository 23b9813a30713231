import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Device } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createIngest, type DeviceRegistry, hashSecret } from '../../ingest/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

let opened: Awaited<ReturnType<typeof openTestRedis>>
let registry: DeviceRegistry
let sharedHash: string

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
  sharedHash = await hashSecret('shared-secret-0123')
})
afterAll(() => opened.redis.quit())

const fleet = (count: number, zone = 'hall'): Device[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `seed-${String(i).padStart(4, '0')}`,
    kind: 'temperature',
    site: 's',
    zone,
    secretHash: sharedHash,
  }))

describe('seeding the site file devices', () => {
  it('writes every device across slices, then nothing when the file has not changed', async () => {
    expect(await registry.provisioned(fleet(1203))).toBe(false)
    expect(await registry.seed(fleet(1203))).toEqual({ written: 1203, unchanged: false })
    expect((await registry.list()).length).toBe(1203)
    expect(await registry.provisioned(fleet(1203))).toBe(true)
    const createdAt = (await registry.get('seed-1202'))?.createdAt
    expect(await registry.seed(fleet(1203))).toEqual({ written: 0, unchanged: true })
    expect((await registry.get('seed-1202'))?.createdAt).toBe(createdAt)
  })

  it('writes only the devices that changed, keeping when each was created', async () => {
    const before = await registry.get('seed-0007')
    const moved = fleet(1203).map((d) => (d.id === 'seed-0007' ? { ...d, zone: 'gate' } : d))
    expect(await registry.provisioned(moved)).toBe(false)
    expect(await registry.seed(moved)).toEqual({ written: 1, unchanged: false })
    expect(await registry.get('seed-0007')).toEqual({ ...before, zone: 'gate' })
  })

  it('hashes a plain secret once, and keeps the stored hash while the secret is the same', async () => {
    const plain: Device = { id: 'seed-plain', kind: 'door', site: 's', secret: 'plain-secret-0123' }
    expect(await registry.seed([plain])).toEqual({ written: 1, unchanged: false })
    expect(await registry.seed([plain])).toEqual({ written: 0, unchanged: true })
    expect(await registry.authenticate('seed-plain', 'plain-secret-0123')).not.toBeNull()
    expect(await registry.seed([{ ...plain, secret: 'another-secret-0123' }])).toEqual({
      written: 1,
      unchanged: false,
    })
    expect(await registry.authenticate('seed-plain', 'plain-secret-0123')).toBeNull()
    expect(await registry.authenticate('seed-plain', 'another-secret-0123')).not.toBeNull()
  })

  it('keeps the hashes of plain secrets that did not change when others in the file did', async () => {
    const plains: Device[] = Array.from({ length: 9 }, (_, i) => ({
      id: `seed-p${i}`,
      kind: 'door',
      site: 's',
      secret: `plain-secret-${i}-0123`,
    }))
    const hashes = () =>
      Promise.all(plains.map(({ id }) => opened.redis.hget(`${opened.prefix}device:${id}`, 'secretHash')))
    expect(await registry.seed(plains)).toEqual({ written: 9, unchanged: false })
    const before = await hashes()
    // The digest is salted scrypt, never the secrets or a fast hash of them.
    const digests = Object.values(await opened.redis.hgetall(`${opened.prefix}devices-digest`))
    expect(digests.length).toBeGreaterThan(1)
    expect(digests.join()).not.toContain('plain-secret')
    const edited = plains.map((d, i) => (i === 4 ? { ...d, secret: 'a-new-secret-0123' } : d))
    expect(await registry.seed(edited)).toEqual({ written: 1, unchanged: false })
    const after = await hashes()
    expect(after.filter((hash, i) => hash !== before[i])).toHaveLength(1)
    expect(after[4]).not.toBe(before[4])
    expect(await registry.authenticate('seed-p4', 'a-new-secret-0123')).not.toBeNull()
    expect(await registry.authenticate('seed-p3', 'plain-secret-3-0123')).not.toBeNull()
  })
})
