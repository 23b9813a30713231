import { z } from 'zod'

export const channelSchema = z.enum(['sms', 'voice', 'email', 'whatsapp'])

export const contentSchema = z.object({
  text: z.string(),
  subject: z.string().optional(),
  html: z.string().optional(),
  twiml: z.string().optional(),
})

/** One message to one person about one event, and the contacts to try in order (DESIGN.md § notice). */
export const notificationRequestSchema = z.object({
  /** Unique per (ticket, event, recipient): with the channel it is the idempotency key. */
  key: z.string().min(1),
  ticket: z.string().nullable(),
  event: z.string(),
  audience: z.enum(['staff', 'customer']),
  recipient: z.string(),
  template: z.string(),
  contacts: z.array(z.object({ channel: channelSchema, to: z.string().min(3) })).min(1),
  content: z.partialRecord(channelSchema, contentSchema),
  /** Held until then (epoch ms): a customer's quiet hours. */
  notBefore: z.number().int().optional(),
})
export type NotificationRequest = z.infer<typeof notificationRequestSchema>

/** What a delivery job carries: the request and which of its contacts this attempt is for. */
export const deliveryJobSchema = z.object({
  request: notificationRequestSchema,
  contact: z.number().int().min(0),
})
export type DeliveryJob = z.infer<typeof deliveryJobSchema>

export const notificationStatuses = ['queued', 'sent', 'delivered', 'failed', 'suppressed'] as const

/** DESIGN.md § HTTP API: one notification, per channel tried. */
export const notificationSchema = z.object({
  id: z.string(),
  ticket: z.string().nullable(),
  event: z.string(),
  audience: z.enum(['staff', 'customer']),
  recipient: z.string(),
  channel: channelSchema,
  to: z.string(),
  template: z.string(),
  status: z.enum(notificationStatuses),
  attempts: z.number().int(),
  sentAt: z.string().nullable(),
  /** When a send began whose outcome is not known yet (the node died, or the provider never answered). */
  sendStartedAt: z.string().nullable().default(null),
  providerId: z.string().nullable(),
  error: z.string().nullable(),
})
export type Notification = z.infer<typeof notificationSchema>
