import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import type { Device } from '../config/index.ts'
import { shardOf } from './keys.ts'

// The section holds plain secrets people chose: its digest costs what a login check costs, never a fast hash.
const cost = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }
const keyLength = 32

function derive(text: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(text, salt, keyLength, cost, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** "salt$digest" in base64url: a salted scrypt of the text, stored in Redis beside the devices. */
export async function digestOf(text: string): Promise<string> {
  const salt = randomBytes(16)
  return `${salt.toString('base64url')}$${(await derive(text, salt)).toString('base64url')}`
}

/** Whether the text is what the stored digest was made of; a missing or malformed digest never matches. */
export async function matchesDigest(text: string, stored: string | null | undefined): Promise<boolean> {
  const [saltText, digestText] = stored?.split('$') ?? []
  if (!saltText || !digestText) return false
  const expected = Buffer.from(digestText, 'base64url')
  if (expected.length !== keyLength) return false
  return timingSafeEqual(await derive(text, Buffer.from(saltText, 'base64url')), expected)
}

/** The devices section as one text: the same file gives the same text. */
export const sectionText = (devices: Device[]): string => JSON.stringify(devices)

/**
 * Plain secrets fall in buckets by device id, about √n devices each: a changed section costs one scrypt per
 * bucket, then one per device only in the buckets whose secrets changed, instead of one per device.
 */
export function secretBuckets(devices: Device[]): { count: number; texts: Map<number, string> } {
  const plain = devices.filter((device) => device.secret !== undefined)
  // A power of two, so a site growing by a few devices keeps its buckets and their digests.
  const count = 2 ** Math.ceil(Math.log2(Math.max(1, Math.sqrt(plain.length))))
  const pairs = new Map<number, [string, string][]>()
  for (const { id, secret } of plain) {
    const bucket = shardOf(id, count)
    const list = pairs.get(bucket) ?? []
    list.push([id, secret ?? ''])
    pairs.set(bucket, list)
  }
  return {
    count,
    texts: new Map(
      [...pairs].map(([bucket, list]) => [bucket, JSON.stringify(list.sort(([a], [b]) => (a < b ? -1 : 1)))]),
    ),
  }
}
