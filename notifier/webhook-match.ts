import type { Webhook } from '../config/index.ts'
import {
  type IncidentEvent,
  incidentEventSchema,
  type TicketEvent,
  ticketEventTypes,
} from '../rules/index.ts'

/** What webhooks carry: incident and ticket events (not their own webhook.paused). */
export type DeliverableEvent = IncidentEvent | TicketEvent

/** Every type of the events stream a webhook may ask for. */
export const webhookEventTypes: readonly string[] = [
  ...incidentEventSchema.shape.type.options,
  ...ticketEventTypes,
]

/** The patterns that name no event type of the stream (a typo would silently never match). */
export function unknownEventPatterns(patterns: readonly string[]): string[] {
  return patterns.filter((pattern) =>
    pattern.endsWith('.*')
      ? !webhookEventTypes.some((type) => type.startsWith(pattern.slice(0, -1)))
      : !webhookEventTypes.includes(pattern),
  )
}

/** The site an event is about. */
export const siteOf = (event: DeliverableEvent): string =>
  'ticket' in event ? event.ticket.site : event.incident.site

/** What deliveries are kept in order by: one ticket, or one incident. */
export const orderKeyOf = (event: DeliverableEvent): string =>
  'ticket' in event ? `ticket.${event.id}` : `incident.${event.id}`

/** Issue 18: the event's type is one of `events` (exact, or under a `prefix.*`) and its site one of `sites`. */
export function webhookMatches(webhook: Pick<Webhook, 'events' | 'sites'>, event: DeliverableEvent): boolean {
  const typed = webhook.events.some((pattern) =>
    pattern.endsWith('.*') ? event.type.startsWith(pattern.slice(0, -1)) : pattern === event.type,
  )
  return typed && (webhook.sites === undefined || webhook.sites.includes(siteOf(event)))
}
