// One error type for the whole service: a stable code, an HTTP status, and the original error as cause.
export const errorCatalogue = {
  VALIDATION_FAILED: { status: 400, message: 'The request is not valid' },
  BAD_REQUEST: { status: 400, message: 'The request could not be read' },
  AUTH_MISSING_KEY: { status: 401, message: 'An API key is required: Authorization: Bearer <key>' },
  AUTH_INVALID_KEY: { status: 401, message: 'The API key is not valid' },
  AUTH_FORBIDDEN: { status: 403, message: 'This API key may not do that' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  CONFLICT: { status: 409, message: 'The resource is not in a state that allows this' },
  TICKET_TIMELINE_FULL: { status: 409, message: "The ticket's timeline is full" },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send JSON with Content-Type: application/json' },
  RATE_LIMITED: { status: 429, message: 'Too many requests' },
  INTERNAL: { status: 500, message: 'Internal error' },
  NOT_READY: { status: 503, message: 'The service is not ready' },
  CONFIG_INVALID: { status: 500, message: 'The configuration is not valid' },
  REDIS_UNAVAILABLE: { status: 503, message: 'Redis is not reachable' },
  REDIS_NOT_REPLICATED: { status: 503, message: 'Too few Redis replicas acknowledged the write' },
  MQTT_EXTERNAL_UNAVAILABLE: { status: 503, message: 'The external MQTT broker is not reachable' },
  DELIVERY_TRANSIENT: { status: 503, message: 'The provider failed for now; the message is retried' },
  DELIVERY_REFUSED: { status: 502, message: 'The provider refused the message; it is not retried' },
  STREAM_ENTRY_REJECTED: {
    status: 422,
    message: 'The stream entry cannot be handled; it is kept, not retried',
  },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof errorCatalogue

export type VigieErrorOptions = {
  code: ErrorCode
  message?: string
  details?: unknown
  cause?: unknown
}

export class VigieError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly details: unknown

  constructor({ code, message, details, cause }: VigieErrorOptions) {
    super(message ?? errorCatalogue[code].message, { cause })
    this.name = 'VigieError'
    this.code = code
    this.status = errorCatalogue[code].status
    this.details = details
  }
}

export function isVigieError(value: unknown): value is VigieError {
  return value instanceof VigieError
}
