import { createHash, timingSafeEqual } from 'node:crypto'
import type { ApiKey, Role } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'

/** Who is calling: the key's name, its role, and for a technician key the technician it acts for. */
export type Principal = { name: string; role: Role; technician?: string }

export type ApiKeyVerifier = (authorization: string | undefined) => Principal

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/**
 * Keys are kept as SHA-256 hashes (they are long random strings, so a fast hash is enough) and compared
 * in constant time against every known key, so timing tells nothing about which key nearly matched.
 */
export function createApiKeyVerifier({
  apiKeys,
  adminKey,
}: {
  apiKeys: ApiKey[]
  adminKey?: string
}): ApiKeyVerifier {
  const known = apiKeys.map((key) => ({ hash: Buffer.from(key.keyHash, 'hex'), principal: toPrincipal(key) }))
  if (adminKey)
    known.push({
      hash: Buffer.from(hashApiKey(adminKey), 'hex'),
      principal: { name: 'admin', role: 'admin' },
    })

  return (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
    if (!match?.[1]) throw new VigieError({ code: 'AUTH_MISSING_KEY' })
    const presented = Buffer.from(hashApiKey(match[1]), 'hex')
    let found: Principal | undefined
    for (const key of known) {
      if (timingSafeEqual(key.hash, presented) && !found) found = key.principal
    }
    if (!found) throw new VigieError({ code: 'AUTH_INVALID_KEY' })
    return found
  }
}

function toPrincipal(key: ApiKey): Principal {
  return key.technician
    ? { name: key.name, role: key.role, technician: key.technician }
    : { name: key.name, role: key.role }
}
