import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Technician } from '../../config/index.ts'
import { createTechnicianRoster, ruleKeys } from '../../rules/index.ts'
import { openTestRedis } from '../support/redis.ts'

const technician = (id: string, phone: string): Technician => ({
  id,
  name: id,
  phone,
  language: 'en',
  skills: ['security'],
  location: { lat: 49.0, lon: 2.57 },
  available: true,
})
const ann = technician('tech-ann', '+33600000101')
const bob = technician('tech-bob', '+33600000102')

let redis: Redis
let keys: ReturnType<typeof ruleKeys>

beforeEach(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  keys = ruleKeys(opened.prefix)
})
afterEach(() => redis.quit())

const rosterOf = (technicians: Technician[]) => createTechnicianRoster({ redis, keys, technicians })
const idOf = async (roster: ReturnType<typeof rosterOf>, phone: string) =>
  (await roster.byPhone(phone))?.id ?? null

// Issue 16: an SMS names its sender by phone; the roster answers through an index, not a scan per SMS.
describe('the technician roster by phone', () => {
  it("finds the site file's technicians by their phone, and nobody by a number none has", async () => {
    const roster = rosterOf([ann, bob])
    await roster.seed()
    expect(await roster.byPhone(ann.phone)).toEqual(ann)
    expect(await idOf(roster, bob.phone)).toBe('tech-bob')
    expect(await roster.byPhone('+33600000199')).toBeNull()
    expect(await redis.hgetall(keys.technicianByPhone)).toEqual({
      [ann.phone]: 'tech-ann',
      [bob.phone]: 'tech-bob',
    })
  })

  it('finds a technician whose phone changed by the new number and not by the old one', async () => {
    const roster = rosterOf([ann, bob])
    await roster.seed()
    const newPhone = '+33600000111'
    expect(await roster.replace({ ...ann, phone: newPhone })).toBe(true)
    expect(await idOf(roster, newPhone)).toBe('tech-ann')
    expect(await roster.byPhone(ann.phone)).toBeNull()
    // The old number's entry went in the same step, not left to be checked away on each read.
    expect(await redis.hgetall(keys.technicianByPhone)).toEqual({
      [newPhone]: 'tech-ann',
      [bob.phone]: 'tech-bob',
    })
  })

  it("drops a removed technician's number, and takes a new one's only when the id was free", async () => {
    const roster = rosterOf([ann])
    await roster.seed()
    expect(await roster.remove('tech-ann')).toBe(true)
    expect(await roster.byPhone(ann.phone)).toBeNull()
    expect(await redis.hgetall(keys.technicianByPhone)).toEqual({})

    expect(await roster.create(bob)).toBe(true)
    expect(await roster.create({ ...bob, phone: '+33600000120' })).toBe(false)
    expect(await idOf(roster, bob.phone)).toBe('tech-bob')
    expect(await roster.byPhone('+33600000120')).toBeNull()
    expect(await roster.replace({ ...ann, phone: '+33600000121' })).toBe(false)
    expect(await redis.hgetall(keys.technicianByPhone)).toEqual({ [bob.phone]: 'tech-bob' })
  })

  it('follows a phone changed in the site file between two starts', async () => {
    await rosterOf([ann]).seed()
    const restarted = rosterOf([{ ...ann, phone: '+33600000131' }])
    await restarted.seed()
    expect(await idOf(restarted, '+33600000131')).toBe('tech-ann')
    expect(await restarted.byPhone(ann.phone)).toBeNull()
  })

  it('indexes at start the technicians written before the index existed', async () => {
    const roster = rosterOf([])
    await roster.create(ann)
    await redis.del(keys.technicianByPhone)
    expect(await roster.byPhone(ann.phone)).toBeNull()
    await roster.seed()
    expect(await idOf(roster, ann.phone)).toBe('tech-ann')
  })

  it('does not trust an entry whose technician no longer has that phone', async () => {
    const roster = rosterOf([ann])
    await roster.seed()
    await redis.hset(keys.technicianByPhone, '+33600000141', 'tech-ann')
    expect(await roster.byPhone('+33600000141')).toBeNull()
  })
})
