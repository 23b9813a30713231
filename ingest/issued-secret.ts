import { randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'

// "vgs_", 32 random bytes in base64url (43 characters), then the CRC-32 of all that in base64url (6), as
// GitHub's tokens: recognised by its shape, a typo caught by its checksum, never taken for a chosen one.
const shape = /^vgs_[\w-]{43}[\w-]{6}$/
const checksumLength = 6

function checksum(head: string): string {
  const sum = Buffer.alloc(4)
  sum.writeUInt32BE(crc32(head))
  return sum.toString('base64url')
}

/** A new device secret, the only kind vigie makes: 256 random bits, so no guess can ever find it. */
export function generateSecret(): string {
  const head = `vgs_${randomBytes(32).toString('base64url')}`
  return head + checksum(head)
}

/** Whether a secret has the shape and the checksum of one vigie issued (it depends on the secret alone). */
export function isIssuedSecret(secret: string): boolean {
  if (!shape.test(secret)) return false
  return secret.slice(-checksumLength) === checksum(secret.slice(0, -checksumLength))
}
