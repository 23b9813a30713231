import type { Redis } from 'ioredis'
import type { RuleKeys } from './keys.ts'
import type { Ticket, TicketEventType } from './record-schemas.ts'
import { isCustomerNotice } from './ticket-facts.ts'
import type { TicketStore } from './ticket-store.ts'

// Automatic repeats a finished ticket no longer needs one by one; the first notice and contact stay (KPIs).
const folding = new Set<TicketEventType>([
  'ticket.incident_joined',
  'ticket.incident_cleared',
  'ticket.incident_suppressed',
  'ticket.notified',
  'ticket.notification_failed',
  'ticket.customer_contacted',
])

/**
 * A finished ticket's timeline with its automatic repeats counted in `folded` instead of kept, and only its
 * first and last incidents listed. What the KPIs read stays (rules/ticket-facts.ts), so no sum moves;
 * the same ticket when there is nothing to fold.
 */
export function compactTimeline(ticket: Ticket): Ticket {
  const folded = { ...ticket.folded }
  let notice = false
  let contact = false
  const timeline = ticket.timeline.filter((entry) => {
    if (!folding.has(entry.type)) return true
    if (!notice && isCustomerNotice(entry)) {
      notice = true
      return true
    }
    if (!contact && entry.type === 'ticket.customer_contacted') {
      contact = true
      return true
    }
    folded[entry.type] = (folded[entry.type] ?? 0) + 1
    return false
  })
  const incidents =
    ticket.incidents.length > 2
      ? [ticket.incidents[0] ?? '', ticket.incidents.at(-1) ?? '']
      : ticket.incidents
  if (timeline.length === ticket.timeline.length && incidents === ticket.incidents) return ticket
  return {
    ...ticket,
    timeline,
    folded,
    incidents,
    incidentCount: ticket.incidentCount ?? ticket.incidents.length,
  }
}

const finished = ['closed', 'cancelled', 'resolved'] as const

/**
 * Compacts the finished tickets created before `createdBefore`, oldest first, from where the last sweep
 * stopped (a cursor per status, kept in Redis); answers how many it compacted. Each goes through the
 * ticket's atomic update, so a ticket that moved meanwhile is read again, and its indexes stay right.
 */
export async function compactFinishedTickets({
  redis,
  keys,
  tickets,
  createdBefore,
  batch = 200,
  max = 2000,
  stopped = () => false,
}: {
  redis: Redis
  keys: RuleKeys
  tickets: Pick<TicketStore, 'update'>
  createdBefore: number
  batch?: number
  /** Tickets looked at per call at most: a backlog (an upgrade, a year of history) is worked off over sweeps. */
  max?: number
  /** Asked between tickets: a closing process stops here, and the next sweep goes on from the cursor. */
  stopped?: () => boolean
}): Promise<number> {
  let compacted = 0
  let looked = 0
  for (const status of finished) {
    if (stopped()) break
    const from = (await redis.hget(keys.compactionCursor, status)) ?? '-inf'
    for (let start = from; looked < max; ) {
      const found = await redis.zrangebyscore(
        keys.ticketsBy('status', status),
        start,
        `(${createdBefore}`,
        'WITHSCORES',
        'LIMIT',
        0,
        batch,
      )
      if (found.length === 0) break
      let last = start
      for (let i = 0; i < found.length && !stopped(); i += 2) {
        looked++
        let changed = false
        await tickets.update(found[i] ?? '', (t) => {
          const compact = t.status === status ? compactTimeline(t) : t
          changed = compact !== t
          return compact
        })
        if (changed) compacted++
        last = found[i + 1] ?? last
      }
      // Scores are creation times: the next batch starts at the last one's, ties read again harmlessly.
      await redis.hset(keys.compactionCursor, status, last)
      if (stopped() || found.length < batch * 2 || last === start) break
      start = last
    }
  }
  return compacted
}
