import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'

export type HashCost = { N: number; r: number; p: number }

// scrypt with N=2^14, r=8, p=1: about 30 ms on these machines, run on libuv's thread pool.
const params: HashCost = { N: 16_384, r: 8, p: 1 }
const keyLength = 32

function derive(secret: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLength, { ...options, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    )
  })
}

/**
 * "scrypt$N$r$p$salt$hash", salt and hash in base64url: what is stored instead of a secret. The cost rides
 * in the hash, so a verify costs what the hash was made with (tests provision hundreds of devices cheaply).
 */
export async function hashSecret(secret: string, cost: HashCost = params): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(secret, salt, cost)
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/** Constant-time check of a secret against a stored hash; a malformed hash never matches. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltText, hashText] = stored.split('$')
  if (scheme !== 'scrypt' || !saltText || !hashText) return false
  const expected = Buffer.from(hashText, 'base64url')
  const options = { N: Number(n), r: Number(r), p: Number(p) }
  if (expected.length !== keyLength || ![options.N, options.r, options.p].every(Number.isInteger))
    return false
  const key = await derive(secret, Buffer.from(saltText, 'base64url'), options)
  return timingSafeEqual(key, expected)
}

/** A new device secret: 24 random bytes, URL-safe. */
export function generateSecret(): string {
  return randomBytes(24).toString('base64url')
}

export function isSecretHash(value: string): boolean {
  return /^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/.test(value)
}
