import { z } from 'zod'
import { idSchema } from './value-schemas.ts'

/**
 * An event type of the events stream (`ticket.resolved`), or every type under a prefix (`ticket.*`). The
 * notifier checks exact types against the stream's list (webhook-match.ts): config knows no event types.
 */
export const webhookEventPatternSchema = z
  .string()
  .max(64)
  .regex(/^(incident|ticket)\.(\*|[a-z][a-z_]{0,40})$/, 'an event type such as ticket.resolved, or ticket.*')

/** Issue 18: where incident and ticket events are POSTed, signed with the secret. */
export const webhookSchema = z.strictObject({
  id: idSchema,
  url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).max(2048),
  secret: z.string().min(16, 'a secret of at least 16 characters').max(256),
  events: z.array(webhookEventPatternSchema).min(1).max(50),
  // Only the events of these sites; every site when absent.
  sites: z.array(idSchema).min(1).max(500).optional(),
})
export type Webhook = z.infer<typeof webhookSchema>
