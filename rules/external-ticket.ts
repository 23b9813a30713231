import { randomUUID } from 'node:crypto'
import type { Severity, SiteFile } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import { customerHistoryMax, customerHistoryOps } from './customer-history.ts'
import type { Dispatcher } from './dispatcher.ts'
import type { RuleKeys } from './keys.ts'
import { type ExternalRef, type Reporter, type Ticket, timelineEntry } from './record-schemas.ts'
import type { IndexOp } from './ticket-indexes.ts'
import type { TicketStore } from './ticket-store.ts'

/** The rule of a ticket a person reported: no rule id can start with "@", so it never meets a real one. */
export const reportedRule = '@reported'

/** A ticket someone outside reported (a customer's call, a CRM case), as POST /api/tickets gives it. */
export type TicketReport = {
  site: string
  zone: string | null
  device: string | null
  title: string
  severity: Severity
  skill?: string | undefined
  reporter: Reporter
  externalRef: ExternalRef
}

export type TicketIntake = ReturnType<typeof createTicketIntake>

/**
 * Opens tickets that people reported (issue 18) and dispatches them like telemetry's. The external
 * reference is claimed in the ticket's own write, so the same reference twice, even at once, opens one
 * ticket; the second gets the first's. The report is the customer's contact with support: the ticket
 * counts as noticed by the customer first (README § KPIs), and enters the reporting customer's history.
 */
export function createTicketIntake({
  keys,
  tickets,
  dispatcher,
  sla,
  historyMax = customerHistoryMax,
}: {
  keys: RuleKeys
  tickets: TicketStore
  dispatcher?: Dispatcher | undefined
  sla: SiteFile['sla']
  historyMax?: number
}) {
  return {
    /** The ticket for this report and whether it was created now (false: its reference had one already). */
    open: async (
      report: TicketReport,
      by: string,
      at: number,
    ): Promise<{ ticket: Ticket; created: boolean }> => {
      const { externalRef: ref, reporter } = report
      const id = randomUUID()
      const ticket: Ticket = {
        id,
        correlationKey: `${reportedRule}:${ref.source}:${ref.id}`,
        incidents: [],
        incidentCount: 0,
        rule: reportedRule,
        device: report.device,
        site: report.site,
        zone: report.zone,
        severity: report.severity,
        status: 'open',
        assignee: null,
        offer: null,
        createdAt: new Date(at).toISOString(),
        slaDueAt: new Date(at + sla[report.severity]).toISOString(),
        resolvedAt: null,
        timeline: [
          timelineEntry(at, 'ticket.created', by, report.title),
          // Reported, so not fixed before the customer noticed: the KPIs read this entry.
          timelineEntry(at, 'ticket.customer_contacted', reporter.name, `${ref.source} ${ref.id}`),
        ],
        folded: {},
        title: report.title,
        ...(report.skill ? { skill: report.skill } : {}),
        reporter,
        externalRef: ref,
      }
      const extra: IndexOp[] = [{ command: 'CLAIM', key: keys.externalTicket(ref.source, ref.id), value: id }]
      if (reporter.customer)
        extra.push(
          ...customerHistoryOps(
            keys,
            reporter.customer,
            at,
            [
              { kind: 'ticket', ticket: id },
              { kind: 'customer-contact', at, ticket: id, via: 'reported' },
            ],
            historyMax,
          ),
        )
      const written = await tickets.create(ticket, extra)
      if ('taken' in written) {
        const existing = await tickets.get(written.taken)
        if (!existing)
          throw new VigieError({
            code: 'CONFLICT',
            message: `${ref.source} ${ref.id} named ticket ${written.taken}, which is gone`,
          })
        return { ticket: existing, created: false }
      }
      const dispatched = dispatcher ? await dispatcher.dispatch(id, at) : null
      return { ticket: dispatched ?? ticket, created: true }
    },

    /** A customer reached support about a ticket: noted on it and entered in their history in one write. */
    contact: (
      ticketId: string,
      customer: string,
      by: string,
      at: number,
      text: string | null,
    ): Promise<Ticket> =>
      tickets.note(
        ticketId,
        'ticket.customer_contacted',
        by,
        at,
        text,
        customerHistoryOps(
          keys,
          customer,
          at,
          [{ kind: 'customer-contact', at, ticket: ticketId, via: 'support' }],
          historyMax,
        ),
      ),
  }
}
