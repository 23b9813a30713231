import type { Redis } from 'ioredis'
import {
  codeOf,
  nextStatus,
  offerTimerMember,
  type Ticket,
  type TicketEventType,
  type TicketStore,
  type TimelineEntry,
} from '../rules/index.ts'

const entry = (at: number, type: TicketEventType, by: string, detail: string | null): TimelineEntry => ({
  at: new Date(at).toISOString(),
  type,
  by,
  detail,
})

/**
 * The dispatcher's offer, withdrawal and escalation, made to a technician the history chose, through the
 * ticket store's update exactly as rules/dispatcher.ts makes them (same fields, same timeline entries,
 * same offer timer). The dispatcher's own `dispatch` reads 10,000 tickets and the whole roster for each
 * offer, which would make a year take hours; accepting goes through the dispatcher itself.
 */
export function createOfferMoves({
  redis,
  offerTimersKey,
  tickets,
  offerTimeout,
}: {
  redis: Redis
  /** rules' offer-timers: the worker expires what nobody answered from it. */
  offerTimersKey: string
  tickets: TicketStore
  offerTimeout: number
}) {
  return {
    offer: async (
      ticketId: string,
      { technician, distanceKm, etaMinutes }: { technician: string; distanceKm: number; etaMinutes: number },
      at: number,
    ): Promise<Ticket> => {
      const expiresAt = at + offerTimeout
      const detail = `${technician} ${distanceKm.toFixed(2)} km, ETA ${etaMinutes} min`
      const updated = await tickets.update(ticketId, (t) =>
        t.status !== 'open'
          ? t
          : {
              ...t,
              status: nextStatus(t.status, 'assign'),
              assignee: technician,
              offer: {
                technician,
                expiresAt: new Date(expiresAt).toISOString(),
                distanceKm,
                etaMinutes,
                code: codeOf({ ...t, offer: null }),
              },
              timeline: [...t.timeline, entry(at, 'ticket.offered', 'dispatch', detail)],
            },
      )
      if (updated.offer?.technician === technician)
        await redis.zadd(offerTimersKey, expiresAt, offerTimerMember.of(ticketId, technician))
      return updated
    },

    /** A decline or an offer left to expire: the ticket is open again. */
    withdraw: async (
      ticketId: string,
      technician: string,
      at: number,
      type: 'ticket.declined' | 'ticket.offer_expired',
      by: string,
    ): Promise<Ticket> => {
      const updated = await tickets.update(ticketId, (t) =>
        t.offer?.technician !== technician
          ? t
          : {
              ...t,
              status: nextStatus(t.status, 'decline'),
              assignee: null,
              offer: null,
              timeline: [...t.timeline, entry(at, type, by, technician)],
            },
      )
      await redis.zrem(offerTimersKey, offerTimerMember.of(ticketId, technician))
      return updated
    },

    escalate: (ticketId: string, at: number, why: string): Promise<Ticket> =>
      tickets.update(ticketId, (t) => ({
        ...t,
        offer: null,
        timeline: [...t.timeline, entry(at, 'ticket.escalated', 'dispatch', why)],
      })),
  }
}
