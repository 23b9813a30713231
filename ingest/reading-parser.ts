import { describeIssue, flattenIssues, formatPath } from '../config/index.ts'
import { type DeviceKind, type Reading, readingPayloadSchema, readingTypesByKind } from '../domain/index.ts'

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
  const parsed = readingPayloadSchema.safeParse(json, { reportInput: true })
  if (!parsed.success) {
    const reasons = flattenIssues(parsed.error.issues).map(
      ({ path, issue }) => `${formatPath(path) || 'payload'}: ${describeIssue(issue)}`,
    )
    return { ok: false, reason: reasons.join('; ') }
  }
  const { ts, ...payloadFields } = parsed.data
  if (!readingTypesByKind[kind].includes(payloadFields.type)) {
    return { ok: false, reason: `type: a ${kind} device does not send "${payloadFields.type}" readings` }
  }
  const when = ts === undefined ? receivedAt : typeof ts === 'number' ? ts : Date.parse(ts)
  // A clock before 2000 or a day ahead is a device without time sync, not a reading from then.
  if (when < earliest || when > receivedAt + clockSkewMs) {
    return { ok: false, reason: `ts: ${new Date(when).toISOString()} is not a plausible time for a reading` }
  }
  return {
    ok: true,
    reading: { ...payloadFields, device: deviceId, ts: new Date(when).toISOString() } as Reading,
  }
}
