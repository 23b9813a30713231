import { z } from 'zod'
import { type ClockRange, clockRangeSchema, clockRangeValueSchema } from './clock-range.ts'
import { emailSchema, idSchema, languageSchema, locationSchema, phoneSchema } from './value-schemas.ts'

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const

// A shift's hours as written in the site file or an API body, or as stored once parsed.
const shiftOf = (hours: z.ZodType<ClockRange>) =>
  z.strictObject({ days: z.array(z.enum(weekdays)).min(1), hours })

export const technicianSchema = z.strictObject({
  id: idSchema,
  name: z.string().min(1).max(120),
  phone: phoneSchema,
  email: emailSchema.optional(),
  language: languageSchema.default('en'),
  skills: z.array(z.string().min(1)).min(1),
  location: locationSchema.optional(),
  shift: shiftOf(clockRangeSchema).optional(),
  available: z.boolean().default(true),
})
export type Technician = z.infer<typeof technicianSchema>

/** A technician as stored in Redis: the shift's hours already parsed. */
export const technicianRecordSchema = technicianSchema.extend({
  shift: shiftOf(clockRangeValueSchema).optional(),
})

export const supervisorSchema = z.strictObject({
  id: idSchema,
  name: z.string().min(1).max(120),
  phone: phoneSchema.optional(),
  email: emailSchema.optional(),
  language: languageSchema.default('en'),
})
export type Supervisor = z.infer<typeof supervisorSchema>

// Each contact is one channel; the list is tried in order.
const contactSchema = z.union(
  [
    z.strictObject({ sms: phoneSchema }),
    z.strictObject({ voice: phoneSchema }),
    z.strictObject({ email: emailSchema }),
    // Twilio's Messages API with whatsapp: addresses (issue 18); needs TWILIO_WHATSAPP_FROM.
    z.strictObject({ whatsapp: phoneSchema }),
  ],
  { error: 'a contact is one of { sms: "+33…" }, { voice: "+33…" }, { email: "…" } or { whatsapp: "+33…" }' },
)
export type Contact = z.infer<typeof contactSchema>

/** A customer's subscriptions; `limits` bound what a site file or the API may give (each is a set to keep). */
function subscribesOf(limits?: { sites: number; zones: number; devices: number }) {
  const list = (max: number | undefined, what: string) =>
    max === undefined
      ? z.array(idSchema)
      : z.array(idSchema).max(max, { error: `at most ${max} ${what}; subscribe to a zone or site instead` })
  return z
    .strictObject({
      sites: list(limits?.sites, 'sites').optional(),
      zones: list(limits?.zones, 'zones').optional(),
      devices: list(limits?.devices, 'devices').optional(),
    })
    .refine((s) => (s.sites?.length ?? 0) + (s.zones?.length ?? 0) + (s.devices?.length ?? 0) > 0, {
      message: 'subscribe to at least one site, zone or device',
    })
}

export const customerSchema = z.strictObject({
  id: idSchema,
  name: z.string().min(1).max(120),
  language: languageSchema.default('en'),
  contacts: z.array(contactSchema).min(1).max(20),
  // Each subscription is a set written with the customer in one script: bounded, so no write holds Redis.
  subscribes: subscribesOf({ sites: 50, zones: 500, devices: 1000 }),
  quietHours: clockRangeSchema.optional(),
})
export type Customer = z.infer<typeof customerSchema>

/** A customer as stored in Redis: the quiet hours already parsed. */
// Stored before the bounds, a record is still read: the bounds are for what comes in.
export const customerRecordSchema = customerSchema.extend({
  contacts: z.array(contactSchema).min(1),
  subscribes: subscribesOf(),
  quietHours: clockRangeValueSchema.optional(),
})
