import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { SiteFile } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import type { Incident } from './incident-store.ts'
import type { RuleKeys } from './keys.ts'
import { isFinished, nextStatus, type TicketAction, type TicketStatus } from './ticket-states.ts'

export type TimelineEntry = { at: string; type: string; by: string; detail: string | null }

/** DESIGN.md § HTTP API: the work for an incident. */
export type Ticket = {
  id: string
  correlationKey: string
  incidents: string[]
  rule: string
  device: string | null
  site: string
  zone: string | null
  severity: Incident['severity']
  status: TicketStatus
  assignee: string | null
  offer: { technician: string; expiresAt: string } | null
  createdAt: string
  slaDueAt: string
  resolvedAt: string | null
  timeline: TimelineEntry[]
}

export type TicketStore = ReturnType<typeof createTicketStore>

const entry = (at: number, type: string, by: string, detail: string | null = null): TimelineEntry => ({
  at: new Date(at).toISOString(),
  type,
  by,
  detail,
})

export function createTicketStore({
  redis,
  keys,
  sla,
}: {
  redis: Redis
  keys: RuleKeys
  sla: SiteFile['sla']
}) {
  async function get(id: string): Promise<Ticket | null> {
    const doc = await redis.get(keys.ticket(id))
    return doc ? (JSON.parse(doc) as Ticket) : null
  }

  /** Reads, changes and writes one ticket atomically (optimistic: WATCH, then retried on a conflict). */
  async function update(id: string, change: (ticket: Ticket) => Ticket): Promise<Ticket> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const connection = redis.duplicate()
      try {
        await connection.watch(keys.ticket(id))
        const doc = await connection.get(keys.ticket(id))
        if (!doc) throw new VigieError({ code: 'NOT_FOUND', message: `No ticket ${id}` })
        const next = change(JSON.parse(doc) as Ticket)
        const done = await connection.multi().set(keys.ticket(id), JSON.stringify(next)).exec()
        if (done) return next
      } finally {
        connection.disconnect()
      }
    }
    throw new VigieError({ code: 'CONFLICT', message: `Ticket ${id} is changing too fast; try again` })
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
          ...t,
          incidents: t.incidents.includes(incident.id) ? t.incidents : [...t.incidents, incident.id],
          timeline: [...t.timeline, entry(at, 'incident.raised_again', 'telemetry', incident.id)],
        }))
        return { ticket, created: false }
      }
      const ticket: Ticket = {
        id,
        correlationKey: incident.correlationKey,
        incidents: [incident.id],
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
          entry(
            at,
            'ticket.created',
            'telemetry',
            `${incident.rule} on ${incident.device ?? incident.zone ?? incident.site}`,
          ),
        ],
      }
      await redis.multi().set(keys.ticket(id), JSON.stringify(ticket)).zadd(keys.tickets, at, id).exec()
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
          timeline: [...t.timeline, entry(at, `ticket.${status}`, by, detail)],
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

    note: (id: string, type: string, by: string, at: number, detail: string | null = null): Promise<Ticket> =>
      update(id, (t) => ({ ...t, timeline: [...t.timeline, entry(at, type, by, detail)] })),

    openTicketOf: async (correlationKey: string): Promise<string | null> =>
      redis.get(keys.openTicket(correlationKey)),

    /** Newest first, optionally filtered. */
    list: async ({
      limit,
      status,
      device,
      rule,
      zone,
    }: {
      limit: number
      status?: string
      device?: string
      rule?: string
      zone?: string
    }) => {
      const ids = await redis.zrevrange(keys.tickets, 0, 9999)
      const docs = ids.length ? await redis.mget(ids.map(keys.ticket)) : []
      return docs
        .filter((doc): doc is string => doc !== null)
        .map((doc) => JSON.parse(doc) as Ticket)
        .filter(
          (t) =>
            (status === undefined || t.status === status) && (device === undefined || t.device === device),
        )
        .filter((t) => (rule === undefined || t.rule === rule) && (zone === undefined || t.zone === zone))
        .slice(0, limit)
    },
  }
}
