import type { FastifyError, FastifyInstance } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { type ErrorCode, isVigieError, VigieError } from '../domain/index.ts'

const codeByStatus: Partial<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'AUTH_INVALID_KEY',
  403: 'AUTH_FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
}

/** Every failure answers { error: { code, message, details? } } with the right status. */
export function toVigieError(error: unknown): VigieError {
  if (isVigieError(error)) return error
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'request'
    const details = error.validation.map((issue) => ({
      path: [where, ...issue.instancePath.split('/').filter(Boolean)].join('.'),
      message: issue.message ?? 'invalid',
    }))
    return new VigieError({ code: 'VALIDATION_FAILED', message: `Invalid ${where}`, details, cause: error })
  }
  const status = (error as FastifyError).statusCode
  const code = status !== undefined ? codeByStatus[status] : undefined
  if (code) return new VigieError({ code, message: (error as Error).message, cause: error })
  return new VigieError({ code: 'INTERNAL', cause: error })
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const vigieError = toVigieError(error)
    // fastify's rule: a server fault is an error in the log, a refused request only information.
    if (vigieError.status >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ code: vigieError.code }, 'request refused')
    const body: { code: ErrorCode; message: string; details?: unknown } = {
      code: vigieError.code,
      message: vigieError.message,
    }
    if (vigieError.details !== undefined) body.details = vigieError.details
    void reply.status(vigieError.status).send({ error: body })
  })

  app.setNotFoundHandler((request) => {
    throw new VigieError({
      code: 'NOT_FOUND',
      message: `No route ${request.method} ${request.url.split('?')[0]}`,
    })
  })
}
