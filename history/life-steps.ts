import type { Notification } from '../notifier/index.ts'
import type { TicketAction, TicketEventType } from '../rules/index.ts'

/** The statuses a ticket may still be in when the year ends. */
export const openStages = ['open', 'assigned', 'acknowledged', 'en_route', 'on_site'] as const
export type OpenStage = (typeof openStages)[number]

/** One message as the notifier would make it, before the ticket's id is known. */
export type MessagePlan = {
  /** What follows the ticket id in the request key: `<kind>:<customer>` or `<event id>:<technician>`. */
  keySuffix: string
  event: string
  audience: Notification['audience']
  recipient: string
  channel: Notification['channel']
  to: string
  template: string
}

/**
 * One thing that happens to a ticket, at a time: written through the store that production writes it
 * with. A life is these, oldest first; the ticket's id appears once `open` ran.
 */
export type LifeStep = { at: number } & (
  | { kind: 'open'; value: unknown }
  | { kind: 'offer'; technician: string; distanceKm: number; etaMinutes: number }
  | { kind: 'withdraw'; technician: string; type: 'ticket.declined' | 'ticket.offer_expired'; by: string }
  | { kind: 'escalate'; why: string }
  | { kind: 'accept'; by: string; note: string | null; override: boolean }
  | { kind: 'act'; action: TicketAction; by: string; detail: string | null }
  | { kind: 'note'; type: TicketEventType; by: string; detail: string | null }
  | { kind: 'clear'; value: unknown }
  | { kind: 'rejoin'; value: unknown }
  | { kind: 'queue'; message: MessagePlan }
  | {
      kind: 'outcome'
      message: MessagePlan
      attempts: number
      status: 'sent' | 'failed'
      providerId: string | null
      error: string | null
    }
  | { kind: 'receipt'; message: MessagePlan; providerId: string }
)
