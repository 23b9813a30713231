import { z } from 'zod'
import { deviceKindSchema, surveyKindSchema } from '../domain/index.ts'
import { clockRangeSchema } from './clock-range.ts'
import { commandCatalogueSchema } from './command-schema.ts'
import { durationSchema } from './duration.ts'
import { customerSchema, supervisorSchema, technicianSchema } from './people-schema.ts'
import { ruleSchema } from './rule-schema.ts'
import { checkSiteReferences } from './site-references.ts'
import { idSchema, locationSchema, roleSchema, timezoneSchema } from './value-schemas.ts'
import { webhookSchema } from './webhook-schema.ts'

export const zoneSchema = z.strictObject({
  id: idSchema,
  name: z.string().min(1).max(120),
  location: locationSchema.optional(),
})

export const siteSchema = z.strictObject({
  id: idSchema,
  name: z.string().min(1).max(120),
  timezone: timezoneSchema,
  location: locationSchema,
  // A door opened with no badge, or outside these hours, is unauthorised.
  accessHours: clockRangeSchema.optional(),
  zones: z.array(zoneSchema).default([]),
  // A recorded message the offer calls play (<Play>) instead of speaking the text (<Say>).
  // The console's CSP allows media from this URL's origin (issue 19): a host of letters, digits, dots and dashes only.
  voiceMessageUrl: z
    .url({
      protocol: /^https?$/,
      hostname: /^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/i,
      error: 'an http(s) URL of a recording, its host a plain name or address',
    })
    .optional(),
  // The question customers are asked after an all-clear (issue 18): CSAT 1–5, NPS 0–10, CES 1–7.
  survey: surveyKindSchema.default('csat'),
})
export type Site = z.infer<typeof siteSchema>

const secretSchema = z.string().min(8, 'a secret of at least 8 characters').max(256)

export const deviceSchema = z
  .strictObject({
    id: idSchema,
    name: z.string().min(1).max(120).optional(),
    kind: deviceKindSchema,
    site: idSchema,
    zone: idSchema.optional(),
    location: locationSchema.optional(),
    secret: secretSchema.optional(),
    secretHash: z.string().min(1).optional(),
    links: z.strictObject({ camera: z.url().optional(), intercom: z.url().optional() }).optional(),
  })
  .refine((device) => (device.secret === undefined) !== (device.secretHash === undefined), {
    message: 'give exactly one of secret or secretHash',
  })
export type Device = z.infer<typeof deviceSchema>

// MQTT 3.1.1 § 4.7: "#" only as the last level, "+" only as a whole level.
export const topicFilterSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (filter) =>
      !filter.includes('\u0000') &&
      filter
        .split('/')
        .every(
          (level, i, levels) =>
            (level === '#' && i === levels.length - 1) ||
            level === '+' ||
            (!level.includes('#') && !level.includes('+')),
        ),
    'an MQTT topic filter ("#" only at the end, "+" only as a whole level)',
  )

export const mqttAccountSchema = z
  .strictObject({
    username: z.string().min(1).max(128),
    password: secretSchema.optional(),
    passwordHash: z.string().min(1).optional(),
    publish: z.array(topicFilterSchema).default([]),
    subscribe: z.array(topicFilterSchema).default([]),
    deny: z.array(topicFilterSchema).default([]),
  })
  .refine((account) => (account.password === undefined) !== (account.passwordHash === undefined), {
    message: 'give exactly one of password or passwordHash',
  })
export type MqttAccount = z.infer<typeof mqttAccountSchema>

export const apiKeySchema = z.strictObject({
  name: z.string().min(1).max(120),
  keyHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, 'the hex SHA-256 of the key (64 characters)')
    .transform((hash) => hash.toLowerCase()),
  role: roleSchema,
  // A technician key acts for this technician only.
  technician: idSchema.optional(),
})
export type ApiKey = z.infer<typeof apiKeySchema>

const dispatchSchema = z.strictObject({
  offerTimeout: durationSchema.default(120_000),
  maxOffers: z.number().int().min(1).max(50).default(3),
  travelSpeedKmh: z.number().positive().max(200).default(5),
  supervisors: z.array(supervisorSchema).default([]),
})

const ticketsSchema = z.strictObject({
  autoResolveAfterClear: durationSchema.default(600_000),
})

const slaSchema = z.strictObject({
  critical: durationSchema.default(900_000),
  major: durationSchema.default(3_600_000),
  minor: durationSchema.default(28_800_000),
  info: durationSchema.default(86_400_000),
})

export const siteFileSchema = z
  .strictObject({
    sites: z.array(siteSchema).min(1),
    devices: z.array(deviceSchema).default([]),
    technicians: z.array(technicianSchema).default([]),
    customers: z.array(customerSchema).default([]),
    rules: z.array(ruleSchema).default([]),
    dispatch: dispatchSchema.default(dispatchSchema.parse({})),
    tickets: ticketsSchema.default(ticketsSchema.parse({})),
    sla: slaSchema.default(slaSchema.parse({})),
    apiKeys: z.array(apiKeySchema).default([]),
    mqttAccounts: z.array(mqttAccountSchema).default([]),
    webhooks: z.array(webhookSchema).max(100).default([]),
    // Issue 19: per device kind, the commands its devices take and the args each accepts.
    commands: commandCatalogueSchema.default({}),
    // Settings may live in the file too; environment variables override them (see settings-schema.ts).
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine(checkSiteReferences)

export type SiteFile = z.infer<typeof siteFileSchema>
export type SiteFileInput = z.input<typeof siteFileSchema>
