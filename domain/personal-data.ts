// Personal data and secrets must not leave in logs or API lists; these keep just enough to tell two apart.
const phonePattern = /\+[1-9]\d{6,14}\b/g
const emailPattern = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g
// The user and password of a URL (redis://:password@host, mqtt://user:password@host).
const urlCredentialsPattern = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#@]*@/g
const secretKeyPattern =
  /secret|password|passwd|token|authorization|cookie|apikey|api_key|adminkey|keyhash|signature/i

/** "+33600000001" → "+33•••••••01". */
export function maskPhone(phone: string): string {
  return phone.length <= 6 ? '•••' : `${phone.slice(0, 3)}${'•'.repeat(phone.length - 5)}${phone.slice(-2)}`
}

/** "amina@example.com" → "a•••@example.com". */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@')
  return at <= 0 ? '•••' : `${email[0]}•••${email.slice(at)}`
}

/** "redis://:s3cret@127.0.0.1:6379" → "redis://[redacted]@127.0.0.1:6379". */
export function maskUrlCredentials(text: string): string {
  return text.replace(urlCredentialsPattern, '$1[redacted]@')
}

/** Masks every phone number, email address and URL password inside a free text. */
export function maskPersonalText(text: string): string {
  return maskUrlCredentials(text).replace(phonePattern, maskPhone).replace(emailPattern, maskEmail)
}

export function isSecretKey(key: string): boolean {
  return secretKeyPattern.test(key)
}

/** A copy with secrets replaced and personal data masked, for logs; depth and breadth are bounded. */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPersonalText(value)
  if (value === null || typeof value !== 'object' || depth > 8) return value
  if (Array.isArray(value)) return value.slice(0, 200).map((item) => redactDeep(item, depth + 1))
  // Only plain data is copied: class instances (errors, requests) are left to their serializers.
  const proto = Object.getPrototypeOf(value)
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return value
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      isSecretKey(key) && item !== undefined && item !== null ? '[redacted]' : redactDeep(item, depth + 1)
  }
  return out
}
