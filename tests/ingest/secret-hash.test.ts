import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  generateSecret,
  hashSecret,
  isIssuedSecret,
  isSecretHash,
  secretScheme,
  storedScheme,
  verifySecret,
} from '../../ingest/index.ts'

/** The secret with one character at `index` (negative: from the end) replaced by another of the alphabet. */
function typo(secret: string, index: number): string {
  const at = index < 0 ? secret.length + index : index
  const swapped = secret[at] === 'A' ? 'B' : 'A'
  return secret.slice(0, at) + swapped + secret.slice(at + 1)
}

describe('issued secrets', () => {
  it('are vgs_, 32 random bytes and a checksum, different each time', () => {
    const [one, two] = [generateSecret(), generateSecret()]
    expect(one).toMatch(/^vgs_[\w-]{49}$/)
    expect(one).not.toBe(two)
    expect(Buffer.from(one.slice(4, 47), 'base64url')).toHaveLength(32)
    expect(isIssuedSecret(one)).toBe(true)
    expect(secretScheme(one)).toBe('hmac-sha256')
  })

  it('are not recognised with a typo in the checksum or the random part, cut short, or chosen', () => {
    const secret = generateSecret()
    expect(isIssuedSecret(typo(secret, -1))).toBe(false)
    expect(isIssuedSecret(typo(secret, 10))).toBe(false)
    expect(isIssuedSecret(secret.slice(0, -1))).toBe(false)
    expect(isIssuedSecret(`${secret}A`)).toBe(false)
    expect(isIssuedSecret(`vgx_${secret.slice(4)}`)).toBe(false)
    for (const chosen of ['secret-temp-1', 'correct horse battery staple', `vgs_${'a'.repeat(49)}`])
      expect(secretScheme(chosen)).toBe('scrypt')
  })
})

describe('hashing a secret', () => {
  it('stores an issued secret keyed and checks it, refusing another and a near-miss', async () => {
    const secret = generateSecret()
    const stored = await hashSecret(secret)
    expect(stored).toMatch(/^hmac-sha256\$[\w-]{22}\$[\w-]{43}$/)
    expect(storedScheme(stored)).toBe('hmac-sha256')
    expect(isSecretHash(stored)).toBe(true)
    expect(await verifySecret(secret, stored)).toBe(true)
    expect(await verifySecret(generateSecret(), stored)).toBe(false)
    expect(await verifySecret(typo(secret, -1), stored)).toBe(false)
    // Salted: the same secret hashed twice is stored twice differently.
    expect(await hashSecret(secret)).not.toBe(stored)
  })

  it('keeps scrypt for a chosen secret', async () => {
    const stored = await hashSecret('secret-temp-1', { N: 1024, r: 8, p: 1 })
    expect(stored).toMatch(/^scrypt\$1024\$8\$1\$[\w-]+\$[\w-]+$/)
    expect(storedScheme(stored)).toBe('scrypt')
    expect(isSecretHash(stored)).toBe(true)
    expect(await verifySecret('secret-temp-1', stored)).toBe(true)
    expect(await verifySecret('secret-temp-2', stored)).toBe(false)
  })

  it('lets nobody in through a keyed hash made by hand of a chosen secret', async () => {
    const salt = Buffer.from('a salt of sixteen')
    const mac = createHmac('sha256', salt).update('weak-password').digest('base64url')
    const handMade = `hmac-sha256$${salt.toString('base64url')}$${mac}`
    expect(isSecretHash(handMade)).toBe(true)
    expect(await verifySecret('weak-password', handMade)).toBe(false)
  })

  it('refuses malformed hashes of either scheme', async () => {
    const secret = generateSecret()
    const stored = await hashSecret(secret)
    for (const bad of [
      '',
      'hmac-sha256$',
      `${stored}$x`,
      stored.slice(0, -2),
      'bcrypt$a$b',
      'scrypt$1$1$1$a$b',
    ]) {
      expect(await verifySecret(secret, bad)).toBe(false)
    }
    expect(isSecretHash('hmac-sha256$only-salt')).toBe(false)
    expect(isSecretHash('md5$a$b')).toBe(false)
  })
})
