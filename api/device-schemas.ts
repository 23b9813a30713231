import { z } from 'zod'
import { deviceSchema, locationSchema } from '../config/index.ts'
import { readingSchema } from '../domain/index.ts'

// The site file's device schema is the single source of a device's fields.
const deviceFields = deviceSchema.shape

export const deviceIdSchema = deviceFields.id

/** POST /api/devices: a device as in the site file, without a secret (the service makes one). */
export const newDeviceSchema = z.strictObject(deviceFields).omit({ secret: true, secretHash: true })
export type NewDevice = z.infer<typeof newDeviceSchema>

/** A device as the API shows it: absent fields as null, never its secret nor the secret's hash. */
export const deviceViewSchema = z.object({
  id: deviceIdSchema,
  kind: deviceFields.kind,
  site: deviceFields.site,
  zone: deviceFields.zone.unwrap().nullable(),
  name: deviceFields.name.unwrap().nullable(),
  location: locationSchema.nullable(),
  links: deviceFields.links.unwrap().nullable(),
  createdAt: z.iso.datetime(),
})
export type DeviceView = z.infer<typeof deviceViewSchema>

export const deviceDetailSchema = deviceViewSchema.extend({
  online: z.boolean(),
  lastSeen: z.iso.datetime().nullable(),
  statusAt: z.iso.datetime().nullable(),
  latest: readingSchema.nullable(),
  latestByType: z.record(z.string(), readingSchema),
  deadLetters: z.number().int().min(0),
})
