import { VigieError } from '../domain/index.ts'

// DESIGN.md § Domain words: open → assigned → acknowledged → en_route → on_site → resolved → closed, or cancelled.
export const ticketStatuses = [
  'open',
  'assigned',
  'acknowledged',
  'en_route',
  'on_site',
  'resolved',
  'closed',
  'cancelled',
] as const
export type TicketStatus = (typeof ticketStatuses)[number]

export type TicketAction =
  | 'assign'
  | 'ack'
  | 'decline'
  | 'en-route'
  | 'on-site'
  | 'resolve'
  | 'close'
  | 'cancel'

const moves: Record<TicketAction, { from: readonly TicketStatus[]; to: TicketStatus }> = {
  assign: { from: ['open'], to: 'assigned' },
  // A dispatcher may take an unassigned ticket directly.
  ack: { from: ['open', 'assigned'], to: 'acknowledged' },
  decline: { from: ['assigned'], to: 'open' },
  'en-route': { from: ['acknowledged'], to: 'en_route' },
  'on-site': { from: ['acknowledged', 'en_route'], to: 'on_site' },
  resolve: { from: ['open', 'assigned', 'acknowledged', 'en_route', 'on_site'], to: 'resolved' },
  close: { from: ['resolved'], to: 'closed' },
  cancel: { from: ['open', 'assigned', 'acknowledged', 'en_route', 'on_site'], to: 'cancelled' },
}

/** The status an action leads to, or a 409 naming the current status. */
export function nextStatus(current: TicketStatus, action: TicketAction): TicketStatus {
  const move = moves[action]
  if (!move.from.includes(current)) {
    throw new VigieError({
      code: 'CONFLICT',
      message: `Cannot ${action} a ticket that is ${current}`,
      details: { status: current, allowedFrom: move.from },
    })
  }
  return move.to
}

export function isFinished(status: TicketStatus): boolean {
  return status === 'resolved' || status === 'closed' || status === 'cancelled'
}
