import { z } from 'zod'
import { incidentSchema, ticketEventTypes, ticketSchema } from './record-schemas.ts'
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

// "State changed" is any ticket event whose `from` and `to` differ; `from` is null on creation.
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
  ticket: ticketSchema,
})
export type TicketEvent = z.infer<typeof ticketEventSchema>

export const vigieEventSchema = z.discriminatedUnion('type', [incidentEventSchema, ticketEventSchema])
export type VigieEvent = z.infer<typeof vigieEventSchema>

/** Stream entries are capped near this length: the notifier reads them within seconds. */
export const eventsMaxLength = 100_000
