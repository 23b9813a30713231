import { z } from 'zod'

// DESIGN.md § Readings: what a device may publish on devices/<id>/telemetry.
const timestamp = z.union([
  z.iso.datetime({ offset: true }),
  z.number().int().min(0).max(8.64e15, 'epoch milliseconds out of range'),
])

const common = {
  ts: timestamp.optional(),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
}

const battery = z.number().min(0).max(100)

export const readingPayloadSchemas = {
  temperature: z.strictObject({
    type: z.literal('temperature'),
    // Physical range of building sensors; 900 °C is a broken probe, not a fire.
    celsius: z.number().min(-60).max(150),
    ...common,
  }),
  door: z.strictObject({
    type: z.literal('door'),
    open: z.boolean(),
    badge: z.string().min(1).max(64).optional(),
    ...common,
  }),
  aed: z.strictObject({
    type: z.literal('aed'),
    present: z.boolean(),
    cabinetOpen: z.boolean(),
    battery: battery.optional(),
    ...common,
  }),
  heartbeat: z.strictObject({
    type: z.literal('heartbeat'),
    battery: battery.optional(),
    ...common,
  }),
} as const

export type ReadingType = keyof typeof readingPayloadSchemas

export const readingPayloadSchema = z.discriminatedUnion('type', [
  readingPayloadSchemas.temperature,
  readingPayloadSchemas.door,
  readingPayloadSchemas.aed,
  readingPayloadSchemas.heartbeat,
])

export type ReadingPayload = z.infer<typeof readingPayloadSchema>

export const deviceKinds = ['temperature', 'door', 'aed', 'heartbeat-only'] as const
export const deviceKindSchema = z.enum(deviceKinds)
export type DeviceKind = z.infer<typeof deviceKindSchema>

// A device sends readings of its own kind and heartbeats; any other type is bad input.
export const readingTypesByKind: Record<DeviceKind, readonly ReadingType[]> = {
  temperature: ['temperature', 'heartbeat'],
  door: ['door', 'heartbeat'],
  aed: ['aed', 'heartbeat'],
  'heartbeat-only': ['heartbeat'],
}

const envelopeKeys = new Set(['type', 'ts', 'seq'])

/** The measured fields a rule may test, per device kind. */
export function readingFieldsOf(kind: DeviceKind): string[] {
  const fields = new Set<string>()
  for (const type of readingTypesByKind[kind]) {
    for (const key of Object.keys(readingPayloadSchemas[type].shape)) {
      if (!envelopeKeys.has(key)) fields.add(key)
    }
  }
  return [...fields]
}

// Not re-checked as ISO: a device may date a reading past year 9999 ("+255479-…"), which must still list.
const stored = { device: z.string(), ts: z.string().meta({ format: 'date-time' }) }

/** DESIGN.md § HTTP API: a validated reading as stored and served, { device, type, ts, seq?, ...the payload's fields }. */
export const readingSchema = z.discriminatedUnion('type', [
  readingPayloadSchemas.temperature.extend(stored),
  readingPayloadSchemas.door.extend(stored),
  readingPayloadSchemas.aed.extend(stored),
  readingPayloadSchemas.heartbeat.extend(stored),
])

export type Reading = z.infer<typeof readingSchema>
