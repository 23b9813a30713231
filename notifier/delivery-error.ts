import { VigieError } from '../domain/index.ts'

/** A failed send: transient ones are retried (after `retryAfterMs` when the provider said so), refused ones not. */
export function transientFailure(
  message: string,
  { cause, retryAfterMs }: { cause?: unknown; retryAfterMs?: number } = {},
) {
  return new VigieError({
    code: 'DELIVERY_TRANSIENT',
    message,
    cause,
    ...(retryAfterMs === undefined ? {} : { details: { retryAfterMs } }),
  })
}

export function refusal(message: string, cause?: unknown) {
  return new VigieError({ code: 'DELIVERY_REFUSED', message, cause })
}

/** How long the provider asked us to wait, from a `Retry-After` of seconds or an HTTP date. */
export function retryAfterMs(header: unknown, now: number): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
