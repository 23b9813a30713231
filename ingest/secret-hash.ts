import { createHmac, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'
import { isIssuedSecret } from './issued-secret.ts'

export type HashCost = { N: number; r: number; p: number }

/** How a secret is stored: keyed (one HMAC) when vigie issued it, scrypt when a person may have chosen it. */
export type SecretScheme = 'hmac-sha256' | 'scrypt'

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

const keyed = (secret: string, salt: Buffer) => createHmac('sha256', salt).update(secret).digest()

/** The scheme a secret is hashed with, and checked at the cost of: decided by the secret alone. */
export function secretScheme(secret: string): SecretScheme {
  return isIssuedSecret(secret) ? 'hmac-sha256' : 'scrypt'
}

/** The scheme a stored hash was made with, or null when it is none of ours. */
export function storedScheme(stored: string): SecretScheme | null {
  if (/^hmac-sha256\$[\w-]+\$[\w-]+$/.test(stored)) return 'hmac-sha256'
  if (/^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/.test(stored)) return 'scrypt'
  return null
}

/**
 * What is stored instead of a secret, salt and hash in base64url. An issued secret holds 256 random bits,
 * so one HMAC under a random salt, "hmac-sha256$salt$hash", is as safe as scrypt and thousands of times
 * cheaper to check; any other secret gets "scrypt$N$r$p$salt$hash". The cost rides in the hash, so a verify
 * costs what the hash was made with (tests provision hundreds of devices cheaply); issued secrets ignore it.
 */
export async function hashSecret(secret: string, cost: HashCost = params): Promise<string> {
  const salt = randomBytes(16)
  if (secretScheme(secret) === 'hmac-sha256')
    return ['hmac-sha256', salt.toString('base64url'), keyed(secret, salt).toString('base64url')].join('$')
  const key = await derive(secret, salt, cost)
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/** Constant-time check of a secret against a stored hash of either scheme; a malformed hash never matches. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const scheme = storedScheme(stored)
  const [, ...fields] = stored.split('$')
  if (scheme === 'hmac-sha256') {
    const [saltText = '', hashText = ''] = fields
    const expected = Buffer.from(hashText, 'base64url')
    if (expected.length !== keyLength) return false
    const matches = timingSafeEqual(keyed(secret, Buffer.from(saltText, 'base64url')), expected)
    // Only a secret vigie issued is stored keyed: a hand-made keyed hash of a weak secret lets nobody in.
    return matches && isIssuedSecret(secret)
  }
  if (scheme !== 'scrypt') return false
  const [n, r, p, saltText = '', hashText = ''] = fields
  const expected = Buffer.from(hashText, 'base64url')
  const options = { N: Number(n), r: Number(r), p: Number(p) }
  if (expected.length !== keyLength || ![options.N, options.r, options.p].every(Number.isInteger))
    return false
  const key = await derive(secret, Buffer.from(saltText, 'base64url'), options)
  return timingSafeEqual(key, expected)
}

export function isSecretHash(value: string): boolean {
  return storedScheme(value) !== null
}
