import { VigieError } from '../domain/index.ts'

export type TransientDetails = { retryAfterMs?: number; outcomeUnknown?: boolean }

/**
 * A failed send: transient ones are retried (after `retryAfterMs` when the provider said so), refused ones
 * not. `outcomeUnknown`: the provider never answered, so it may have accepted the message.
 */
export function transientFailure(
  message: string,
  { cause, retryAfterMs, outcomeUnknown }: { cause?: unknown } & TransientDetails = {},
) {
  const details: TransientDetails = {
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(outcomeUnknown ? { outcomeUnknown } : {}),
  }
  return new VigieError({
    code: 'DELIVERY_TRANSIENT',
    message,
    cause,
    ...(Object.keys(details).length === 0 ? {} : { details }),
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
