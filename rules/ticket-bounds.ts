import { VigieError } from '../domain/index.ts'
import type { Ticket, TicketEventType, TimelineEntry } from './record-schemas.ts'
import { isCustomerNotice } from './ticket-facts.ts'

/** TICKET_TIMELINE_MAX and TICKET_TIMELINE_MAX_BYTES: entries, and bytes of the timeline's JSON. */
export type TimelineCap = { maxEntries: number; maxBytes: number }

/** A new timeline entry, and whether it was counted in `folded` instead of kept. */
export type Appended = { entry: TimelineEntry; folded: boolean }

// A ticket lists its first incident and the latest ones; a flapping device joins them forever (issue 15).
export const listedIncidents = 10

// Bounded by the state machine, by maxOffers, or by one per survey sent; KPIs, dispatch and CSAT read them.
const kept = new Set<TicketEventType>([
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
  'ticket.survey_answered',
])

// Software repeats these without bound (a flapping device, a chatty notifier): counted past half the cap.
const foldable = new Set<TicketEventType>([
  'ticket.incident_joined',
  'ticket.incident_cleared',
  'ticket.incident_suppressed',
  'ticket.notified',
  'ticket.notification_failed',
])

// KPIs read only the first customer contact and the first customer notice.
const firstOfItsKind = (timeline: TimelineEntry[], entry: TimelineEntry) =>
  (entry.type === 'ticket.customer_contacted' && !timeline.some((e) => e.type === entry.type)) ||
  (isCustomerNotice(entry) && !timeline.some(isCustomerNotice))

const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value))

/** The incident joins the ticket: listed while it is the first or among the latest, and counted. */
export function withIncident(ticket: Ticket, incidentId: string): Ticket {
  if (ticket.incidents.includes(incidentId)) return ticket
  const incidents = [...ticket.incidents, incidentId]
  return {
    ...ticket,
    incidents:
      incidents.length > listedIncidents
        ? [...incidents.slice(0, 1), ...incidents.slice(1 - listedIncidents)]
        : incidents,
    incidentCount: (ticket.incidentCount ?? ticket.incidents.length) + 1,
  }
}

/**
 * Applies the cap to the entries a change appended (README § Incidents, tickets and their events): an entry
 * of a change of status, of a kept type, or the first of its kind is always kept; an automatic repeat is
 * folded into a count once the timeline holds half the cap; anything else (a person's comment) past the
 * cap is refused, the whole change with it.
 */
export function boundTimeline(
  before: Ticket,
  next: Ticket,
  cap: TimelineCap,
): { ticket: Ticket; appended: Appended[] } {
  const added = next.timeline.slice(before.timeline.length)
  if (added.length === 0) return { ticket: next, appended: [] }
  const statusChanged = next.status !== before.status
  const timeline = next.timeline.slice(0, before.timeline.length)
  const folded = { ...next.folded }
  const appended: Appended[] = []
  let bytes = bytesOf(timeline)
  const fits = (size: number, share: number) =>
    timeline.length < cap.maxEntries * share && bytes + size <= cap.maxBytes * share
  for (const entry of added) {
    const size = bytesOf(entry) + 1
    const automatic = foldable.has(entry.type)
    if (
      statusChanged ||
      kept.has(entry.type) ||
      firstOfItsKind(timeline, entry) ||
      fits(size, automatic ? 0.5 : 1)
    ) {
      timeline.push(entry)
      bytes += size
      appended.push({ entry, folded: false })
    } else if (automatic) {
      folded[entry.type] = (folded[entry.type] ?? 0) + 1
      appended.push({ entry, folded: true })
    } else {
      throw new VigieError({
        code: 'TICKET_TIMELINE_FULL',
        message:
          `Ticket ${next.id}: its timeline is full (${timeline.length} entries, ${bytes} bytes; ` +
          `TICKET_TIMELINE_MAX ${cap.maxEntries}, TICKET_TIMELINE_MAX_BYTES ${cap.maxBytes}): ` +
          `no more ${entry.type.replace('ticket.', '')} entries; changes of status are still recorded`,
        details: { entries: timeline.length, bytes, maxEntries: cap.maxEntries, maxBytes: cap.maxBytes },
      })
    }
  }
  return { ticket: { ...next, timeline, folded }, appended }
}
