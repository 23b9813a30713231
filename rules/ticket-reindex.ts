import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { RuleKeys } from './keys.ts'
import { type Ticket, ticketSchema } from './record-schemas.ts'
import { ticketIndexOps } from './ticket-indexes.ts'
import type { TicketStore } from './ticket-store.ts'

/** The layout rules/ticket-indexes.ts writes; a deployment with another (or none) builds it once on start. */
export const ticketIndexVersion = '1'
const weekMs = 7 * 86_400_000
const batch = 500

/**
 * Builds the ticket indexes, counters and KPI sums of a deployment that predates them, from its tickets,
 * once: the first process to start claims the build, the others go on. A ticket changed during the
 * build may count twice in the sums; the build takes seconds on a year of tickets, before any role starts.
 */
export async function ensureTicketIndexes({
  redis,
  keys,
  tickets,
  logger,
}: {
  redis: Redis
  keys: RuleKeys
  tickets: Pick<TicketStore, 'update'>
  logger: Logger
}): Promise<{ built: number } | null> {
  // Counters already kept mean the stores wrote the indexes from the first ticket on: only the mark is missing.
  if ((await redis.exists(keys.ticketCounts)) === 1) {
    await redis.set(keys.ticketIndexVersion, ticketIndexVersion, 'NX')
    return null
  }
  const claimed = await redis.set(keys.ticketIndexVersion, 'building', 'NX')
  if (claimed !== 'OK') return null
  const started = performance.now()
  // Per correlation key, the tickets resolved so far: a later ticket within a week marks them revisited.
  const resolvedOf = new Map<string, { id: string; resolvedAt: number }[]>()
  const revisits: [string, string][] = []
  let built = 0
  for (let offset = 0; ; offset += batch) {
    const ids = await redis.zrange(keys.tickets, offset, offset + batch - 1)
    if (ids.length === 0) break
    const docs = await redis.mget(ids.map(keys.ticket))
    const pipeline = redis.pipeline()
    for (const doc of docs) {
      if (!doc) continue
      const ticket: Ticket = ticketSchema.parse(JSON.parse(doc))
      const created = Date.parse(ticket.createdAt)
      const earlier = resolvedOf.get(ticket.correlationKey) ?? []
      for (const prior of earlier)
        if (created > prior.resolvedAt && created - prior.resolvedAt <= weekMs)
          revisits.push([prior.id, ticket.id])
      if (ticket.resolvedAt !== null)
        resolvedOf.set(ticket.correlationKey, [
          ...earlier.slice(-4),
          { id: ticket.id, resolvedAt: Date.parse(ticket.resolvedAt) },
        ])
      const ops = ticketIndexOps(keys, null, ticket).filter((op) => op.key !== keys.tickets)
      for (const op of ops) {
        if (op.command === 'ZADD') pipeline.zadd(op.key, op.score, op.member)
        else if (op.command === 'HINCRBY') pipeline.hincrby(op.key, op.field, op.by)
        else if (op.command === 'SADD') pipeline.sadd(op.key, op.member)
      }
      built++
    }
    await pipeline.exec()
  }
  // Through the store's swap, so the sums move as they would have when the repeat was opened.
  for (const [id, by] of revisits)
    await tickets.update(id, (t) => (t.revisitedBy === undefined ? { ...t, revisitedBy: by } : t))
  await redis.set(keys.ticketIndexVersion, ticketIndexVersion)
  if (built > 0)
    logger.info(
      { tickets: built, revisits: revisits.length, ms: Math.round(performance.now() - started) },
      'ticket indexes built',
    )
  return { built }
}
