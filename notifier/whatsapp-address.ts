import { z } from 'zod'
import { phoneSchema } from '../config/index.ts'

// Twilio names a WhatsApp user or sender by its number behind this prefix, in requests and in webhooks.
const prefix = 'whatsapp:'

/** "+33612345678" → "whatsapp:+33612345678"; an address already prefixed is kept as it is. */
export function whatsappAddress(phone: string): string {
  return phone.startsWith(prefix) ? phone : `${prefix}${phone}`
}

/** The number behind a WhatsApp address, or the text unchanged when it is none. */
export function phoneOfAddress(address: string): string {
  return address.startsWith(prefix) ? address.slice(prefix.length) : address
}

/** True for any text that claims to be a WhatsApp address, whatever its case: it must then be one. */
export const claimsWhatsapp = (address: string): boolean => /^whatsapp:/i.test(address)

/** A WhatsApp address as Twilio writes it: "whatsapp:" and an E.164 number. */
export const whatsappAddressSchema = z
  .string()
  .refine(
    (address) => address.startsWith(prefix) && phoneSchema.safeParse(address.slice(prefix.length)).success,
    'whatsapp: followed by a phone number in E.164 form, like whatsapp:+33612345678',
  )
