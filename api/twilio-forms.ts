import { z } from 'zod'
import { claimsWhatsapp, whatsappAddressSchema } from '../notifier/index.ts'

// What Twilio posts to vigie's webhooks, checked at the edge (issue 15, webhook replay). Twilio signs the
// URL followed by every key and value run together, so a captured request re-sent with a field folded into
// another's value (MessageSid = "SM…" + "NumMedia" + "0") keeps its signature: ids must have Twilio's
// shape and field names Twilio's spelling, so a folded or cut value is refused.

// A field Twilio always sends, absent, is named as such rather than as a string of the wrong type.
const text = () => z.string({ error: (issue) => (issue.input === undefined ? 'missing' : undefined) })

const sid = (...prefixes: string[]) =>
  text().regex(
    new RegExp(`^(${prefixes.join('|')})[0-9a-f]{32}$`),
    `${prefixes.join(' or ')} followed by 32 lowercase hex digits`,
  )

export const accountSidSchema = sid('AC')
export const messageSidSchema = sid('SM', 'MM')
export const callSidSchema = sid('CA')

// Twilio's names are PascalCase, and <Gather> adds "msg"; Twilio adds fields without notice, so others
// of that spelling pass through unread: being signed, they cannot change what the request is keyed on.
const fieldName = z.string().regex(/^([A-Z][A-Za-z0-9]{0,63}|msg)$/)
const flatForm = z
  .record(fieldName, z.string().max(1600))
  .refine((form) => Object.keys(form).length <= 100, 'more than 100 fields')

const address = text().min(1).max(64)
const count = z.string().regex(/^\d{1,3}$/, 'a count')
const common = {
  AccountSid: accountSidSchema,
  ApiVersion: z.string().max(16).optional(),
  From: address.optional(),
  To: address.optional(),
}

// A WhatsApp sender is "whatsapp:" and its number (issue 18): opt-outs and survey answers are keyed by it.
const sender = address.refine(
  (from) => !claimsWhatsapp(from) || whatsappAddressSchema.safeParse(from).success,
  'whatsapp: followed by a phone number in E.164 form',
)

/** An SMS or WhatsApp message to the vigie number (Twilio's Messaging webhook). */
export const inboundSmsSchema = z
  .looseObject({
    ...common,
    From: sender,
    MessageSid: messageSidSchema,
    // Deprecated copies of MessageSid, still sent.
    SmsSid: messageSidSchema.optional(),
    SmsMessageSid: messageSidSchema.optional(),
    MessagingServiceSid: sid('MG').optional(),
    Body: text().max(1600),
    NumMedia: count.optional(),
    NumSegments: count.optional(),
  })
  .refine((f) => [f.SmsSid, f.SmsMessageSid].every((copy) => copy === undefined || copy === f.MessageSid), {
    message: 'SmsSid and SmsMessageSid repeat MessageSid',
    path: ['MessageSid'],
  })

const callStatuses = [
  'queued',
  'initiated',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'no-answer',
  'canceled',
  'failed',
] as const

/** The key a called technician pressed, posted to the <Gather> action. */
export const gatherSchema = z.looseObject({
  ...common,
  CallSid: callSidSchema,
  ParentCallSid: callSidSchema.optional(),
  CallStatus: z.enum(callStatuses).optional(),
  Digits: z
    .string()
    .regex(/^[0-9*#]{0,32}$/, 'keys 0-9, * and #')
    .optional(),
})

const messageStatuses = [
  'accepted',
  'scheduled',
  'canceled',
  'queued',
  'sending',
  'sent',
  'failed',
  'delivered',
  'undelivered',
  'receiving',
  'received',
  'read',
  'partially_delivered',
] as const

/** A message's delivery receipt (its StatusCallback). */
export const messageStatusSchema = z
  .looseObject({
    ...common,
    MessageSid: messageSidSchema,
    SmsSid: messageSidSchema.optional(),
    MessageStatus: z.enum(messageStatuses),
    ErrorCode: z
      .string()
      .regex(/^\d{0,6}$/, 'a Twilio error code')
      .optional(),
  })
  .refine((f) => f.SmsSid === undefined || f.SmsSid === f.MessageSid, {
    message: 'SmsSid repeats MessageSid',
    path: ['MessageSid'],
  })

/** A call's status callback. */
export const callStatusSchema = z.looseObject({
  ...common,
  CallSid: callSidSchema,
  CallStatus: z.enum(callStatuses),
  CallDuration: z
    .string()
    .regex(/^\d{1,6}$/, 'seconds')
    .optional(),
})

/** A receipt as the message or call it is about and its status; a form with a MessageSid is a message's. */
export const receiptSchemaOf = (form: Record<string, string>) =>
  form.MessageSid === undefined
    ? callStatusSchema.transform((f) => ({ sid: f.CallSid, status: f.CallStatus as string }))
    : messageStatusSchema.transform((f) => ({ sid: f.MessageSid, status: f.MessageStatus as string }))

/** A form's fields as they came, or why it is no Twilio form at all. */
export function readFlatForm(body: unknown): { form: Record<string, string> } | { problem: string } {
  const parsed = flatForm.safeParse(body ?? {})
  return parsed.success ? { form: parsed.data } : { problem: describe(parsed.error) }
}

/** The form read by one webhook's schema, or its problems in one line ("MessageSid: SM… followed by …"). */
export function readTwilioForm<T extends z.ZodType>(
  schema: T,
  form: Record<string, string>,
): { data: z.infer<T> } | { problem: string } {
  const parsed = schema.safeParse(form)
  return parsed.success ? { data: parsed.data } : { problem: describe(parsed.error) }
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map(
      (i) =>
        `${i.path.join('.') || 'form'}: ${i.code === 'invalid_key' ? 'not a Twilio field name' : i.message}`,
    )
    .join('; ')
}
