import { z } from 'zod'

// Small value schemas every block of the site file shares.
export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'an id is 1 to 64 letters, digits, ".", "_" or "-"')

export const locationSchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
})
export type Location = z.infer<typeof locationSchema>

// E.164, which Twilio requires: "+" then up to 15 digits.
export const phoneSchema = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, 'a phone number in E.164 form, like +33612345678')

export const emailSchema = z.email('an email address')

export const languageSchema = z.enum(['fr', 'en'])
export type Language = z.infer<typeof languageSchema>

export const severitySchema = z.enum(['critical', 'major', 'minor', 'info'])
export type Severity = z.infer<typeof severitySchema>

export const roleSchema = z.enum(['admin', 'dispatcher', 'technician', 'viewer'])
export type Role = z.infer<typeof roleSchema>

export const timezoneSchema = z.string().refine(isTimeZone, 'an IANA time zone, like Europe/Paris')

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value })
    return true
  } catch {
    return false
  }
}
