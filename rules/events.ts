import { z } from 'zod'
import { maskEmail, maskPhone } from '../domain/index.ts'
import { commandSchema } from './command-record.ts'
import { incidentSchema, type Ticket, ticketEventTypes, ticketSchema } from './record-schemas.ts'
import { ticketStatuses } from './ticket-states.ts'

/**
 * What the route step tells the engage step, in order, on the `<prefix>events` stream (field `e`, JSON).
 * The stream entry id is the event's own id: unique and stable, so a consumer can key its work on it.
 */
export const incidentEventSchema = z.object({
  type: z.enum(['incident.opened', 'incident.updated', 'incident.cleared']),
  /** The incident's id. */
  id: z.string(),
  correlationKey: z.string(),
  at: z.string(),
  incident: incidentSchema,
})
export type IncidentEvent = z.infer<typeof incidentEventSchema>

/** A ticket as its events carry it: bounded whatever the ticket's size, its timeline and incidents counted. */
export const ticketSummarySchema = ticketSchema
  .omit({ timeline: true, incidents: true, incidentCount: true })
  .extend({
    counts: z.object({
      timeline: z.number().int(),
      /** `ticket.offered` entries so far: 1 on the first offer. */
      offers: z.number().int(),
      incidents: z.number().int(),
    }),
  })
export type TicketSummary = z.infer<typeof ticketSummarySchema>

export function summarize({
  timeline,
  incidents,
  incidentCount,
  reporter,
  ...ticket
}: Ticket): TicketSummary {
  return {
    ...ticket,
    // Events reach every key holder and webhook: the reporter's phone and email go masked.
    ...(reporter && {
      reporter: {
        ...reporter,
        ...(reporter.phone && { phone: maskPhone(reporter.phone) }),
        ...(reporter.email && { email: maskEmail(reporter.email) }),
      },
    }),
    counts: {
      timeline: timeline.length,
      offers: timeline.filter((e) => e.type === 'ticket.offered').length,
      incidents: incidentCount ?? incidents.length,
    },
  }
}

// An event written before issue 15 carried the whole ticket: read as its summary.
const olderWholeTicket = (value: unknown) => {
  if (typeof value !== 'object' || value === null || !('timeline' in value)) return value
  const whole = ticketSchema.safeParse(value)
  return whole.success ? summarize(whole.data) : value
}

// "State changed" is any ticket event whose `from` and `to` differ; `from` is null on creation. The event
// carries its entry's change and the ticket's summary, not the whole ticket (issue 15).
export const ticketEventSchema = z.object({
  type: z.enum(ticketEventTypes),
  /** The ticket's id. */
  id: z.string(),
  correlationKey: z.string(),
  at: z.string(),
  by: z.string(),
  detail: z.string().nullable(),
  from: z.enum(ticketStatuses).nullable(),
  to: z.enum(ticketStatuses),
  /** The entry was counted in the ticket's `folded` instead of kept on its timeline. */
  folded: z.boolean().default(false),
  ticket: z.preprocess(olderWholeTicket, ticketSummarySchema),
})
export type TicketEvent = z.infer<typeof ticketEventSchema>

/** Issue 18: a webhook's receiver failed long enough that its deliveries are held until an admin resumes it. */
export const webhookEventSchema = z.object({
  type: z.enum(['webhook.paused']),
  /** The webhook's id. */
  id: z.string(),
  correlationKey: z.string(),
  at: z.string(),
  webhook: z.object({ id: z.string(), url: z.string() }),
  reason: z.string(),
})
export type WebhookEvent = z.infer<typeof webhookEventSchema>

/** Issue 19: a device command was queued, sent, answered or expired; the event carries the command as it is now. */
export const commandEventSchema = z.object({
  type: z.enum(['command.queued', 'command.sent', 'command.done', 'command.failed', 'command.expired']),
  /** The command's id. */
  id: z.string(),
  /** `command:<device id>`: a device's commands in order. */
  correlationKey: z.string(),
  at: z.string(),
  command: commandSchema,
})
export type CommandEvent = z.infer<typeof commandEventSchema>

export const vigieEventSchema = z.discriminatedUnion('type', [
  incidentEventSchema,
  ticketEventSchema,
  webhookEventSchema,
  commandEventSchema,
])
export type VigieEvent = z.infer<typeof vigieEventSchema>

/** Stream entries are capped near this length: the notifier reads them within seconds. */
export const eventsMaxLength = 100_000
