import { randomUUID } from 'node:crypto'
import type { Redis, Result } from 'ioredis'
import { type SiteFile, ticketTimelineDefaults } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import { eventsMaxLength, summarize, type TicketEvent } from './events.ts'
import type { RuleKeys } from './keys.ts'
import { type Incident, type Ticket, type TicketEventType, timelineEntry } from './record-schemas.ts'
import { type Page, readSortedSetPage, type SortedSetPosition } from './sorted-set-page.ts'
import { type Appended, boundTimeline, type TimelineCap, withIncident } from './ticket-bounds.ts'
import { isFinished, nextStatus, type TicketAction, type TicketStatus } from './ticket-states.ts'

export type TicketStore = ReturnType<typeof createTicketStore>

export type TicketQuery = {
  limit: number
  after?: SortedSetPosition | undefined
  status?: string | undefined
  device?: string | undefined
  rule?: string | undefined
  zone?: string | undefined
}

const parse = (doc: string) => JSON.parse(doc) as Ticket

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

// The ticket changes only if nobody changed it since it was read; its events go out, and the sets that
// index it (KEYS[3..]: the first ARGV[5] it leaves, the rest it joins) change, in the same step.
const swapScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
local leaving = tonumber(ARGV[5])
for i = 3, #KEYS do
  if i - 2 <= leaving then redis.call('SREM', KEYS[i], ARGV[4]) else redis.call('SADD', KEYS[i], ARGV[4]) end
end
for i = 6, #ARGV do redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[i]) end
return 1
`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** numberOfKeys, then the ticket, events and index keys, then the ARGV the script names. */
    vigieSwapTicket(numberOfKeys: number, ...args: (string | number)[]): Result<number, Context>
  }
}

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

  /** The sets a ticket in this state belongs to: its technician's open offers while it is offered. */
  const indexesOf = (ticket: Ticket | null): string[] =>
    ticket?.offer ? [keys.offersOf(ticket.offer.technician)] : []
  async function get(id: string): Promise<Ticket | null> {
    const doc = await redis.get(keys.ticket(id))
    return doc ? (JSON.parse(doc) as Ticket) : null
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

  /** Reads, changes and writes one ticket atomically: compare-and-swap on the document, retried on a conflict. */
  async function update(id: string, change: (ticket: Ticket) => Ticket): Promise<Ticket> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const doc = await redis.get(keys.ticket(id))
      if (!doc) throw new VigieError({ code: 'NOT_FOUND', message: `No ticket ${id}` })
      const before = JSON.parse(doc) as Ticket
      const changed = change(before)
      if (changed === before) return before
      const { ticket: next, appended } = boundTimeline(before, changed, timelineCap)
      const [was, is] = [indexesOf(before), indexesOf(next)]
      const leaves = was.filter((key) => !is.includes(key))
      const joins = is.filter((key) => !was.includes(key))
      const swapped = await redis.vigieSwapTicket(
        2 + leaves.length + joins.length,
        keys.ticket(id),
        keys.events,
        ...leaves,
        ...joins,
        doc,
        JSON.stringify(next),
        eventsMaxLength,
        id,
        leaves.length,
        ...eventsOf(before, next, appended),
      )
      if (swapped === 1) return next
    }
    throw new VigieError({ code: 'CONFLICT', message: `Ticket ${id} is changing too fast; try again` })
  }

  function page({ limit, after, ...filter }: TicketQuery): Promise<Page<Ticket, SortedSetPosition>> {
    const { status, device, rule, zone } = filter
    const filtered = Object.values(filter).some((value) => value !== undefined)
    return readSortedSetPage({
      redis,
      key: keys.tickets,
      order: 'newest',
      limit,
      after,
      load: async (ids) => (await redis.mget(ids.map(keys.ticket))).map((doc) => (doc ? parse(doc) : null)),
      ...(filtered && {
        keep: (t: Ticket) =>
          (status === undefined || t.status === status) &&
          (device === undefined || t.device === device) &&
          (rule === undefined || t.rule === rule) &&
          (zone === undefined || t.zone === zone),
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
      const multi = redis.multi().set(keys.ticket(id), JSON.stringify(ticket)).zadd(keys.tickets, at, id)
      for (const key of indexesOf(ticket)) multi.sadd(key, id)
      for (const event of eventsOf(
        null,
        ticket,
        ticket.timeline.map((entry) => ({ entry, folded: false })),
      ))
        multi.xadd(keys.events, 'MAXLEN', '~', eventsMaxLength, '*', 'e', event)
      await multi.exec()
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
        await redis.eval(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
          1,
          keys.openTicket(ticket.correlationKey),
          id,
        )
      }
      return ticket
    },

    note: (
      id: string,
      type: TicketEventType,
      by: string,
      at: number,
      detail: string | null = null,
    ): Promise<Ticket> =>
      update(id, (t) => ({ ...t, timeline: [...t.timeline, timelineEntry(at, type, by, detail)] })),

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

    /** Newest first, optionally filtered, from after a position; the sorted set is read in pages, not whole. */
    page,
    /** The first page only, for those who want just the newest few. */
    list: async (query: TicketQuery): Promise<Ticket[]> => (await page(query)).items,
  }
}
