import { z } from 'zod'
import { severitySchema } from '../config/index.ts'
import { ticketStatuses } from './ticket-states.ts'

/** One occurrence of a rule firing for a device or a zone (DESIGN.md § Domain words). */
export const incidentSchema = z.object({
  id: z.string(),
  correlationKey: z.string(),
  rule: z.string(),
  severity: severitySchema,
  site: z.string(),
  zone: z.string().nullable(),
  device: z.string().nullable(),
  status: z.enum(['active', 'cleared']),
  openedAt: z.string(),
  updatedAt: z.string(),
  clearedAt: z.string().nullable(),
  /** Readings that matched again while active, and the last value seen. */
  count: z.number().int(),
  lastValue: z.unknown(),
})
export type Incident = z.infer<typeof incidentSchema>

/** A ticket's timeline entry types; each entry is also an event of the same type. */
export const ticketEventTypes = [
  'ticket.created',
  'ticket.offered',
  'ticket.declined',
  'ticket.offer_expired',
  'ticket.escalated',
  'ticket.acknowledged',
  'ticket.en_route',
  'ticket.on_site',
  'ticket.resolved',
  'ticket.closed',
  'ticket.cancelled',
  'ticket.commented',
  'ticket.incident_joined',
  'ticket.incident_cleared',
  'ticket.incident_suppressed',
  'ticket.notified',
  'ticket.notification_failed',
  'ticket.survey_answered',
  'ticket.customer_contacted',
] as const
export type TicketEventType = (typeof ticketEventTypes)[number]

export const timelineEntrySchema = z.object({
  at: z.string(),
  type: z.enum(ticketEventTypes),
  by: z.string(),
  detail: z.string().nullable(),
})
export type TimelineEntry = z.infer<typeof timelineEntrySchema>

export const timelineEntry = (
  at: number,
  type: TicketEventType,
  by: string,
  detail: string | null = null,
): TimelineEntry => ({ at: new Date(at).toISOString(), type, by, detail })

export const offerSchema = z.object({
  technician: z.string(),
  expiresAt: z.string(),
  /** From the technician's live position and the dispatch travel speed, when the offer was made. */
  distanceKm: z.number().optional(),
  etaMinutes: z.number().int().optional(),
  /** What a reply names to pick this offer among the technician's other open ones ("1 4F2"). */
  code: z.string().optional(),
})

/** Who reported a ticket opened from outside (POST /api/tickets): a person, and the customer they are if known. */
export const reporterSchema = z.object({
  name: z.string(),
  phone: z.string().optional(),
  email: z.string().optional(),
  customer: z.string().optional(),
})
export type Reporter = z.infer<typeof reporterSchema>

/** The caller's own reference for a ticket opened from outside: unique per source (a CRM's case id). */
export const externalRefSchema = z.object({ source: z.string(), id: z.string() })
export type ExternalRef = z.infer<typeof externalRefSchema>

/** DESIGN.md § HTTP API: the work for an incident. */
export const ticketSchema = z.object({
  id: z.string(),
  correlationKey: z.string(),
  /** The first incident and the latest ones; `incidentCount` counts every one that joined. */
  incidents: z.array(z.string()),
  incidentCount: z.number().int().optional(),
  rule: z.string(),
  device: z.string().nullable(),
  site: z.string(),
  zone: z.string().nullable(),
  severity: severitySchema,
  status: z.enum(ticketStatuses),
  assignee: z.string().nullable(),
  offer: offerSchema.nullable(),
  createdAt: z.string(),
  slaDueAt: z.string(),
  resolvedAt: z.string().nullable(),
  timeline: z.array(timelineEntrySchema),
  /** Automatic entries counted, by type, instead of kept once the timeline was half full (rules/ticket-bounds.ts). */
  folded: z.partialRecord(z.enum(ticketEventTypes), z.number().int()).optional(),
  /** The ticket opened on the same key within a week of this one's resolution: not fixed at the first visit. */
  revisitedBy: z.string().optional(),
  /** A ticket a person reported (rules/external-ticket.ts): what they said, the skill it needs, who, and their reference. */
  title: z.string().optional(),
  skill: z.string().optional(),
  reporter: reporterSchema.optional(),
  externalRef: externalRefSchema.optional(),
})
export type Ticket = z.infer<typeof ticketSchema>
