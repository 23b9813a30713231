import type { Redis } from 'ioredis'
import type { Location, Rule, Site, SiteFile } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import { offerTimerMember, type RuleKeys } from './keys.ts'
import { offerCode } from './offer-codes.ts'
import { type Ticket, type TicketEventType, timelineEntry } from './record-schemas.ts'
import type { TechnicianRoster } from './technician-roster.ts'
import { nextStatus } from './ticket-states.ts'
import type { TicketStore } from './ticket-store.ts'

export type Dispatcher = ReturnType<typeof createDispatcher>

/** Who answers an offer: its technician by default; a dispatcher (`override`) answers for whoever holds it. */
export type Answering = { override?: boolean }

/** Issue 15: a technician answers only the offer they hold now; an old call or SMS acts on nothing else. */
function mustHold(ticket: Ticket, technician: string): void {
  if (ticket.offer?.technician === technician) return
  const now = ticket.offer ? 'it went to someone else' : `it is ${ticket.status.replace('_', ' ')}`
  throw new VigieError({
    code: 'CONFLICT',
    message: `Ticket ${ticket.id.slice(0, 8)} is no longer offered to you: ${now}. Nothing was done.`,
    details: { status: ticket.status },
  })
}

/**
 * DESIGN.md § dispatch: offer the ticket to the nearest qualified technician on shift; on a decline or no
 * answer in time, the next; after maxOffers, or with nobody left, the supervisors. Every change goes
 * through the ticket's optimistic update, so two workers dispatching at once make one offer.
 */
export function createDispatcher({
  redis,
  keys,
  tickets,
  roster,
  world,
  placeOf,
}: {
  redis: Redis
  keys: RuleKeys
  tickets: TicketStore
  roster: TechnicianRoster
  world: Pick<SiteFile, 'sites' | 'rules' | 'dispatch'>
  /** Where a device is, when it has a location of its own. */
  placeOf: (deviceId: string) => Promise<Location | null>
}) {
  const sites = new Map(world.sites.map((site) => [site.id, site]))
  const rules = new Map(world.rules.map((rule) => [rule.id, rule]))
  const { offerTimeout, maxOffers, travelSpeedKmh, supervisors } = world.dispatch

  const offered = (ticket: Ticket) =>
    new Set(
      ticket.timeline
        .filter((e) => e.type === 'ticket.offered')
        .map((e) => (e.detail ?? '').split(' ')[0] ?? ''),
    )

  async function escalate(ticket: Ticket, now: number, why: string): Promise<Ticket> {
    if (ticket.timeline.some((e) => e.type === 'ticket.escalated')) return ticket
    const names = supervisors.map((s) => s.name).join(', ') || 'no supervisor configured'
    return tickets.update(ticket.id, (t) => ({
      ...t,
      offer: null,
      timeline: [...t.timeline, timelineEntry(now, 'ticket.escalated', 'dispatch', `${why}; to ${names}`)],
    }))
  }

  /** Makes the next offer for an open ticket, or escalates; does nothing for a ticket that is not open. */
  async function dispatch(ticketId: string, now: number): Promise<Ticket | null> {
    const ticket = await tickets.get(ticketId)
    if (ticket?.status !== 'open') return ticket
    const already = offered(ticket)
    if (already.size >= maxOffers) return escalate(ticket, now, `${already.size} offers without an answer`)
    const site: Site | undefined = sites.get(ticket.site)
    const rule: Rule | undefined = rules.get(ticket.rule)
    if (!site) return escalate(ticket, now, `unknown site ${ticket.site}`)
    const place = (ticket.device ? await placeOf(ticket.device) : null) ?? site.location
    // A reported ticket names its skill; telemetry's take their rule's.
    const skill = ticket.skill ?? rule?.skill
    const [best] = await roster.candidates({
      at: now,
      place,
      skill,
      site,
      exclude: already,
      loads: await tickets.loads(),
    })
    if (!best) return escalate(ticket, now, `no technician on shift${skill ? ` with skill ${skill}` : ''}`)

    const expiresAt = now + offerTimeout
    const etaMinutes = Math.max(1, Math.round((best.distanceKm / travelSpeedKmh) * 60))
    const detail = `${best.technician.id} ${best.distanceKm.toFixed(2)} km, ETA ${etaMinutes} min`
    const held = await tickets.offersOf(best.technician.id)
    const code = offerCode(ticketId, new Set(held.flatMap((t) => (t.offer?.code ? [t.offer.code] : []))))
    const updated = await tickets.update(ticketId, (t) => {
      // Another worker made this offer first: leave its offer alone.
      if (t.status !== 'open') return t
      return {
        ...t,
        status: nextStatus(t.status, 'assign'),
        assignee: best.technician.id,
        offer: {
          technician: best.technician.id,
          expiresAt: new Date(expiresAt).toISOString(),
          distanceKm: Math.round(best.distanceKm * 1000) / 1000,
          etaMinutes,
          code,
        },
        timeline: [...t.timeline, timelineEntry(now, 'ticket.offered', 'dispatch', detail)],
      }
    })
    if (updated.offer?.technician === best.technician.id) {
      await redis.zadd(keys.offerTimers, expiresAt, offerTimerMember.of(ticketId, best.technician.id))
    }
    return updated
  }

  /**
   * A declined or expired offer goes back to open, then to the next technician. An offer that moved on
   * meanwhile is left alone, or refused (`strict`) when its technician declined it.
   */
  async function withdraw(
    ticketId: string,
    technician: string,
    now: number,
    type: TicketEventType,
    by: string,
    strict = false,
  ): Promise<Ticket> {
    await tickets.update(ticketId, (t) => {
      if (strict) mustHold(t, technician)
      if (t.offer?.technician !== technician) return t
      return {
        ...t,
        status: nextStatus(t.status, 'decline'),
        assignee: null,
        offer: null,
        timeline: [...t.timeline, timelineEntry(now, type, by, technician)],
      }
    })
    await redis.zrem(keys.offerTimers, offerTimerMember.of(ticketId, technician))
    return (
      (await dispatch(ticketId, now)) ??
      (await tickets.get(ticketId)) ??
      Promise.reject(new Error(`ticket ${ticketId} vanished`))
    )
  }

  return {
    dispatch,

    /** The offered technician (or a dispatcher) accepts: the ticket is acknowledged and the offer closes. */
    accept: async (
      ticketId: string,
      by: string,
      now: number,
      note: string | null = null,
      { override = false }: Answering = {},
    ): Promise<Ticket> => {
      const ticket = await tickets.update(ticketId, (t) => {
        if (!override) mustHold(t, by)
        return {
          ...t,
          status: nextStatus(t.status, 'ack'),
          assignee: t.assignee ?? by,
          offer: null,
          timeline: [...t.timeline, timelineEntry(now, 'ticket.acknowledged', by, note)],
        }
      })
      await redis.zrem(keys.offerTimers, offerTimerMember.of(ticketId, ticket.assignee ?? by))
      return ticket
    },

    /** The offered technician declines, or a dispatcher withdraws the offer from whoever holds it. */
    decline: async (
      ticketId: string,
      by: string,
      now: number,
      { override = false }: Answering = {},
    ): Promise<Ticket> => {
      if (!override) return withdraw(ticketId, by, now, 'ticket.declined', by, true)
      const ticket = await tickets.get(ticketId)
      if (!ticket) throw new VigieError({ code: 'NOT_FOUND', message: `No ticket ${ticketId}` })
      nextStatus(ticket.status, 'decline') // 409 unless an offer is out
      return withdraw(ticketId, ticket.offer?.technician ?? ticket.assignee ?? '', now, 'ticket.declined', by)
    },

    /**
     * Withdraws offers nobody answered in time, `due` as the worker's tick read them from offer-timers;
     * each is claimed by one worker (ZREM) before it acts.
     */
    expireOffers: async (now: number, due: string[]): Promise<void> => {
      for (const member of due) {
        if ((await redis.zrem(keys.offerTimers, member)) !== 1) continue
        const { ticket, technician } = offerTimerMember.read(member)
        await withdraw(ticket, technician, now, 'ticket.offer_expired', 'dispatch')
      }
    },
  }
}
