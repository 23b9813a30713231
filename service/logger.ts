import pino, { type Logger } from 'pino'
import pretty from 'pino-pretty'
import { redactDeep } from '../domain/index.ts'

export type { Logger }

export type LoggerOptions = {
  level: string
  /** Human-readable lines, for a terminal; JSON lines otherwise. */
  pretty?: boolean
  /** Where lines go; standard output by default. */
  destination?: NodeJS.WritableStream
}

const bindingKeys = ['phone', 'email', 'to', 'from', 'recipient', 'secret', 'password', 'token']
function censorByKey(value: unknown, path: string[]): unknown {
  const key = path.at(-1) ?? ''
  return (redactDeep({ [key]: value }) as Record<string, unknown>)[key]
}

const errWithCause = pino.stdSerializers.errWithCause

/** JSON of a value that may refer to itself (ioredis errors list themselves in previousErrors): a cycle is named, not followed. */
function acyclicJson(value: unknown): string {
  const seen = new WeakSet<object>()
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (typeof inner !== 'object' || inner === null) return inner
    if (seen.has(inner)) return '[circular]'
    seen.add(inner)
    return inner
  })
}

/** The root logger: secrets, phone numbers and email addresses are masked in every line. */
export function createLogger({ level, pretty: human = false, destination }: LoggerOptions): Logger {
  const stream = human
    ? pretty({ sync: true, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', destination })
    : (destination ?? pino.destination({ dest: 1, sync: true }))
  return pino(
    {
      level,
      base: undefined,
      // Child bindings skip formatters.log, so the keys that may carry personal data are redacted by name too.
      redact: { paths: bindingKeys, censor: censorByKey },
      formatters: {
        log: (object) => redactDeep(object) as Record<string, unknown>,
      },
      serializers: {
        // The serialized error is a class instance; a JSON round trip makes it plain data that redactDeep walks.
        err: (err: Error) => redactDeep(JSON.parse(acyclicJson(errWithCause(err)))),
      },
    },
    stream,
  )
}
