import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Redis, Result } from 'ioredis'
import { type SiteFile, ticketTimelineDefaults } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import { createCompareAndDelete } from '../streams/index.ts'
import { eventsMaxLength, summarize, type TicketEvent } from './events.ts'
import type { RuleKeys } from './keys.ts'
import { readDailyKpis, readKpis } from './kpi-sums.ts'
import {
  type Incident,
  type Ticket,
  type TicketEventType,
  ticketSchema,
  timelineEntry,
} from './record-schemas.ts'
import { type Page, readSortedSetPage, type SortedSetPosition } from './sorted-set-page.ts'
import { type Appended, boundTimeline, type TimelineCap, withIncident } from './ticket-bounds.ts'
import { encodeOps, type IndexOp, ticketIndexOps } from './ticket-indexes.ts'
import { isFinished, nextStatus, type TicketAction, type TicketStatus } from './ticket-states.ts'

export type TicketStore = ReturnType<typeof createTicketStore>

export type TicketQuery = {
  limit: number
  after?: SortedSetPosition | undefined
  status?: string | undefined
  device?: string | undefined
  rule?: string | undefined
  zone?: string | undefined
  site?: string | undefined
  correlationKey?: string | undefined
}

// The index a filtered page reads: the most selective field given; the others are checked on each ticket.
const indexPreference = [
  ['device', 'device'],
  ['correlationKey', 'key'],
  ['rule', 'rule'],
  ['zone', 'zone'],
  ['site', 'site'],
  ['status', 'status'],
] as const

/** A stored ticket, decoded by its schema: a document that does not fit is an error, not a guess. */
const parse = (doc: string): Ticket => ticketSchema.parse(JSON.parse(doc))

/** The timeline entry of a status a person or telemetry moved the ticket to. */
const statusEvents: Record<TicketStatus, TicketEventType> = {
  open: 'ticket.declined',
  assigned: 'ticket.offered',
  acknowledged: 'ticket.acknowledged',
  en_route: 'ticket.en_route',
  on_site: 'ticket.on_site',
  resolved: 'ticket.resolved',
  closed: 'ticket.closed',
  cancelled: 'ticket.cancelled',
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** rules/scripts/swap-ticket.lua: numberOfKeys, then its KEYS and ARGV. */
    vigieSwapTicket(numberOfKeys: number, ...args: (string | number)[]): Result<number | string, Context>
  }
}

const swapScript = readFileSync(new URL('./scripts/swap-ticket.lua', import.meta.url), 'utf8')
const weekMs = 7 * 86_400_000

export function createTicketStore({
  redis,
  keys,
  sla,
  timelineCap = ticketTimelineDefaults,
}: {
  redis: Redis
  keys: RuleKeys
  sla: SiteFile['sla']
  /** TICKET_TIMELINE_MAX and TICKET_TIMELINE_MAX_BYTES. */
  timelineCap?: TimelineCap
}) {
  redis.defineCommand('vigieSwapTicket', { lua: swapScript })
  const compareAndDelete = createCompareAndDelete({ redis })

  async function get(id: string): Promise<Ticket | null> {
    const doc = await redis.get(keys.ticket(id))
    return doc ? parse(doc) : null
  }

  /** Each new timeline entry, kept or folded, is also an event: its change and the ticket's summary. */
  const eventsOf = (before: Ticket | null, after: Ticket, appended: Appended[]): string[] => {
    const ticket = summarize(after)
    return appended.map(({ entry, folded }) =>
      JSON.stringify({
        type: entry.type,
        id: after.id,
        correlationKey: after.correlationKey,
        at: entry.at,
        by: entry.by,
        detail: entry.detail,
        from: before?.status ?? null,
        to: after.status,
        folded,
        ticket,
      } satisfies TicketEvent),
    )
  }

  /**
   * Writes `next` over `doc` (the document as read, '' for a new one) with its indexes, events and `extra`
   * writes; 1 when written, 0 on a conflict, or the value of an `extra` CLAIM's key that was taken.
   */
  async function write(
    doc: string,
    before: Ticket | null,
    next: Ticket,
    appended: Appended[],
    extra: IndexOp[] = [],
  ): Promise<number | string> {
    const ops = encodeOps([...ticketIndexOps(keys, before, next), ...extra], 3)
    const swapped = await redis.vigieSwapTicket(
      2 + ops.keys.length,
      keys.ticket(next.id),
      keys.events,
      ...ops.keys,
      doc,
      JSON.stringify(next),
      eventsMaxLength,
      ops.args.length / 4,
      ...ops.args,
      ...eventsOf(before, next, appended),
    )
    return swapped
  }

  const swap = async (doc: string, before: Ticket | null, next: Ticket, appended: Appended[]) =>
    (await write(doc, before, next, appended)) === 1

  /**
   * Reads, changes and writes one ticket atomically: compare-and-swap on the document, retried on a conflict.
   * `extra` writes go in the same step when the ticket changes (a customer's history entry).
   */
  async function update(
    id: string,
    change: (ticket: Ticket) => Ticket,
    extra: IndexOp[] = [],
  ): Promise<Ticket> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const doc = await redis.get(keys.ticket(id))
      if (!doc) throw new VigieError({ code: 'NOT_FOUND', message: `No ticket ${id}` })
      const before = parse(doc)
      const changed = change(before)
      if (changed === before) return before
      const { ticket: next, appended } = boundTimeline(before, changed, timelineCap)
      if ((await write(doc, before, next, appended, extra)) === 1) return next
    }
    throw new VigieError({ code: 'CONFLICT', message: `Ticket ${id} is changing too fast; try again` })
  }

  /** A new ticket on a key marks the key's tickets resolved in the week before it: they were not fixed. */
  async function markRevisited(ticket: Ticket, at: number): Promise<void> {
    const earlier = await redis.zrevrangebyscore(
      keys.ticketsBy('key', ticket.correlationKey),
      `(${at}`,
      at - 5 * weekMs,
      'LIMIT',
      0,
      10,
    )
    const resolvedWithin = (t: Ticket) => {
      const resolved = t.resolvedAt === null ? Number.NaN : Date.parse(t.resolvedAt)
      return at - resolved > 0 && at - resolved <= weekMs && t.revisitedBy === undefined
    }
    // One read of the candidates: usually none qualifies, and this runs before the new ticket's offer.
    const others = earlier.filter((other) => other !== ticket.id)
    const docs = others.length > 0 ? await redis.mget(others.map(keys.ticket)) : []
    for (const doc of docs) {
      const candidate = doc ? parse(doc) : null
      if (candidate && resolvedWithin(candidate))
        await update(candidate.id, (t) => (resolvedWithin(t) ? { ...t, revisitedBy: ticket.id } : t))
    }
  }

  function page({ limit, after, ...filter }: TicketQuery): Promise<Page<Ticket, SortedSetPosition>> {
    const chosen = indexPreference.find(([name]) => filter[name] !== undefined)
    const rest = indexPreference.filter(([name]) => name !== chosen?.[0] && filter[name] !== undefined)
    const value = (t: Ticket, name: (typeof indexPreference)[number][0]) =>
      name === 'correlationKey' ? t.correlationKey : t[name]
    return readSortedSetPage({
      redis,
      key: chosen ? keys.ticketsBy(chosen[1], filter[chosen[0]] ?? '') : keys.tickets,
      order: 'newest',
      limit,
      after,
      load: async (ids) => (await redis.mget(ids.map(keys.ticket))).map((doc) => (doc ? parse(doc) : null)),
      ...(rest.length > 0 && {
        keep: (t: Ticket) => rest.every(([name]) => value(t, name) === filter[name]),
      }),
    })
  }

  return {
    get,
    update,

    /** The ticket for a newly opened incident: a new one, or the unfinished one of the same key. */
    openFor: async (incident: Incident, at: number): Promise<{ ticket: Ticket; created: boolean }> => {
      const id = randomUUID()
      const claimed = await redis.set(keys.openTicket(incident.correlationKey), id, 'NX')
      if (claimed !== 'OK') {
        const existing = (await redis.get(keys.openTicket(incident.correlationKey))) ?? ''
        const ticket = await update(existing, (t) => ({
          ...withIncident(t, incident.id),
          timeline: [...t.timeline, timelineEntry(at, 'ticket.incident_joined', 'telemetry', incident.id)],
        }))
        return { ticket, created: false }
      }
      const ticket: Ticket = {
        id,
        correlationKey: incident.correlationKey,
        incidents: [incident.id],
        incidentCount: 1,
        rule: incident.rule,
        device: incident.device,
        site: incident.site,
        zone: incident.zone,
        severity: incident.severity,
        status: 'open',
        assignee: null,
        offer: null,
        createdAt: new Date(at).toISOString(),
        slaDueAt: new Date(at + sla[incident.severity]).toISOString(),
        resolvedAt: null,
        timeline: [
          timelineEntry(
            at,
            'ticket.created',
            'telemetry',
            `${incident.rule} on ${incident.device ?? incident.zone ?? incident.site}`,
          ),
        ],
        folded: {},
      }
      const appended = ticket.timeline.map((entry) => ({ entry, folded: false }))
      if (!(await swap('', null, ticket, appended)))
        throw new VigieError({ code: 'CONFLICT', message: `Ticket ${id} exists already` })
      await markRevisited(ticket, at)
      return { ticket, created: true }
    },

    /** A state change by a person or by telemetry; illegal ones are a 409 with the current status. */
    act: async (
      id: string,
      action: TicketAction,
      by: string,
      at: number,
      detail: string | null = null,
    ): Promise<Ticket> => {
      const ticket = await update(id, (t) => {
        const status = nextStatus(t.status, action)
        return {
          ...t,
          status,
          resolvedAt: status === 'resolved' ? new Date(at).toISOString() : t.resolvedAt,
          timeline: [...t.timeline, timelineEntry(at, statusEvents[status], by, detail)],
        }
      })
      if (isFinished(ticket.status)) {
        // The key is free again: the next incident there opens a new ticket.
        await compareAndDelete(keys.openTicket(ticket.correlationKey), id)
      }
      return ticket
    },

    note: (
      id: string,
      type: TicketEventType,
      by: string,
      at: number,
      detail: string | null = null,
      extra: IndexOp[] = [],
    ): Promise<Ticket> =>
      update(id, (t) => ({ ...t, timeline: [...t.timeline, timelineEntry(at, type, by, detail)] }), extra),

    /**
     * Writes a new ticket built by the caller (rules/external-ticket.ts) with its `extra` writes, in one step:
     * the ticket, or the id a CLAIM in `extra` found taken (nothing written then).
     */
    create: async (
      ticket: Ticket,
      extra: IndexOp[] = [],
    ): Promise<{ ticket: Ticket } | { taken: string }> => {
      const appended = ticket.timeline.map((entry) => ({ entry, folded: false }))
      const written = await write('', null, ticket, appended, extra)
      if (typeof written === 'string') return { taken: written }
      if (written !== 1)
        throw new VigieError({ code: 'CONFLICT', message: `Ticket ${ticket.id} exists already` })
      return { ticket }
    },

    /** The tickets offered to this technician now, oldest offer first, read through their index. */
    offersOf: async (technician: string): Promise<Ticket[]> => {
      const ids = await redis.smembers(keys.offersOf(technician))
      if (ids.length === 0) return []
      const docs = await redis.mget(ids.map(keys.ticket))
      return docs
        .flatMap((doc) => (doc ? [parse(doc)] : []))
        .filter((t) => t.offer?.technician === technician)
        .sort((a, b) => (a.offer?.expiresAt ?? '').localeCompare(b.offer?.expiresAt ?? ''))
    },

    openTicketOf: async (correlationKey: string): Promise<string | null> =>
      redis.get(keys.openTicket(correlationKey)),

    /** Newest first, optionally filtered, from after a position; read through the filter's own index. */
    page,

    /** Unfinished tickets assigned to each technician, from the counter kept as tickets move. */
    loads: async (): Promise<Map<string, number>> => {
      const loads = await redis.hgetall(keys.technicianLoads)
      return new Map(Object.entries(loads).flatMap(([id, n]) => (Number(n) > 0 ? [[id, Number(n)]] : [])))
    },

    /** KPIs over the tickets created in [from, to), from the sums kept per site and period. */
    kpis: (range: { from?: number | undefined; to?: number | undefined; site?: string | undefined }) =>
      readKpis({ redis, keys, ...range }),

    /** KPIs of each UTC day (YYYY-MM-DD), each from that day's kept sums. */
    dailyKpis: (query: { days: string[]; site?: string | undefined }) =>
      readDailyKpis({ redis, keys, ...query }),

    /** Counters kept as tickets move: `status:<status>` and `open:<severity>`. */
    counts: async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        Object.entries(await redis.hgetall(keys.ticketCounts)).map(([field, n]) => [field, Number(n)]),
      ),
    /** The first page only, for those who want just the newest few. */
    list: async (query: TicketQuery): Promise<Ticket[]> => (await page(query)).items,
  }
}
