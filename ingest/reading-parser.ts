import { describeIssue, flattenIssues, formatPath } from '../config/index.ts'
import {
  type DeviceKind,
  type Reading,
  type ReadingPayload,
  type ReadingType,
  readingPayloadSchema,
  readingPayloadSchemas,
  readingTypesByKind,
} from '../domain/index.ts'

const earliest = Date.UTC(2000, 0, 1)
const clockSkewMs = 86_400_000

export type ParsedReading = { ok: true; reading: Reading } | { ok: false; reason: string }

/** Payload bytes → a reading of a type this device may send, or the reason it is bad input. */
export function parseReading({
  deviceId,
  kind,
  payload,
  receivedAt,
}: {
  deviceId: string
  kind: DeviceKind
  payload: Buffer
  receivedAt: number
}): ParsedReading {
  let json: unknown
  try {
    json = JSON.parse(payload.toString('utf8'))
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` }
  }
  return validateReading({ deviceId, kind, json, receivedAt })
}

/** Decoded JSON → a reading of a type this device may send, or the reason it is bad input. */
export function validateReading({
  deviceId,
  kind,
  json,
  receivedAt,
}: {
  deviceId: string
  kind: DeviceKind
  json: unknown
  receivedAt: number
}): ParsedReading {
  // The schema of the reading's own type, found by one lookup: the union's dispatch, and a context that
  // keeps the input, are paid only for a bad reading, whose reasons then read as before.
  const own = schemaOfType(json)?.safeParse(json)
  const parsed = own?.success ? own : readingPayloadSchema.safeParse(json, { reportInput: true })
  if (!parsed.success) {
    const reasons = flattenIssues(parsed.error.issues).map(
      ({ path, issue }) => `${formatPath(path) || 'payload'}: ${describeIssue(issue)}`,
    )
    return { ok: false, reason: reasons.join('; ') }
  }
  const payload: ReadingPayload = parsed.data
  if (!readingTypesByKind[kind].includes(payload.type)) {
    return { ok: false, reason: `type: a ${kind} device does not send "${payload.type}" readings` }
  }
  const { ts } = payload
  const when = ts === undefined ? receivedAt : typeof ts === 'number' ? ts : Date.parse(ts)
  // A clock before 2000 or a day ahead is a device without time sync, not a reading from then.
  if (when < earliest || when > receivedAt + clockSkewMs) {
    return { ok: false, reason: `ts: ${new Date(when).toISOString()} is not a plausible time for a reading` }
  }
  return { ok: true, reading: { ...payload, device: deviceId, ts: new Date(when).toISOString() } as Reading }
}

function schemaOfType(json: unknown) {
  if (typeof json !== 'object' || json === null || !('type' in json)) return undefined
  const { type } = json
  return typeof type === 'string' && Object.hasOwn(readingPayloadSchemas, type)
    ? readingPayloadSchemas[type as ReadingType]
    : undefined
}
