import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { createLease } from '../streams/index.ts'
import type { RuleKeys } from './keys.ts'
import { type Ticket, ticketSchema } from './record-schemas.ts'
import { ticketIndexOps } from './ticket-indexes.ts'
import type { TicketStore } from './ticket-store.ts'

/** The layout rules/ticket-indexes.ts writes; a deployment with another (or none) builds it once on start. */
export const ticketIndexVersion = '1'
const weekMs = 7 * 86_400_000
const batch = 500

/** The keys a build writes beside the documents: cleared before a build that follows a dead one. */
async function clearDerived(redis: Redis, keys: RuleKeys): Promise<void> {
  await redis.del(keys.ticketCounts, keys.technicianLoads, keys.ticketSites)
  for (const pattern of [keys.ticketsBy('status', '*'), keys.kpiAggregate('*', '*'), keys.offersOf('*')]) {
    // Each family's prefix, then every key of it; SCAN keeps Redis answering others meanwhile.
    const match = `${pattern.slice(0, pattern.indexOf('*'))}*`
    let cursor = '0'
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000)
      cursor = next
      if (found.length > 0) await redis.unlink(...found)
    } while (cursor !== '0')
  }
}

/**
 * Builds the ticket indexes, counters and KPI sums of a deployment that predates them, from its tickets,
 * once: the first process to start takes the build's lease (renewed as it goes), the others wait for the
 * result. A build whose process died leaves a mark that the next builder sees: it clears what was half
 * written and builds again; a builder that lost its lease stops writing. A ticket changed during the build
 * may count twice in the sums; the build takes seconds on a year of tickets, before any role starts.
 */
export async function ensureTicketIndexes({
  redis,
  keys,
  tickets,
  logger,
  claimMs = 30_000,
  pollMs = 250,
}: {
  redis: Redis
  keys: RuleKeys
  tickets: Pick<TicketStore, 'update'>
  logger: Logger
  /** How long a builder's lease lasts without renewal: a dead builder's is taken over after it. */
  claimMs?: number
  pollMs?: number
}): Promise<{ built: number } | null> {
  const lease = createLease({ redis, key: keys.ticketIndexBuildLease, ttlMs: claimMs, owner: randomUUID() })
  const buildMark = keys.ticketIndexBuildMark
  for (;;) {
    const result = await claimOrWait()
    if (result !== 'lost') return result
  }

  /** null once built by anyone else; 'lost' when this build lost its lease (another builds it again). */
  async function claimOrWait(): Promise<{ built: number } | null | 'lost'> {
    for (;;) {
      const mark = await redis.get(keys.ticketIndexVersion)
      if (mark === ticketIndexVersion) return null
      if (await lease.acquire()) {
        const [current, counted, begun] = await Promise.all([
          redis.get(keys.ticketIndexVersion),
          redis.exists(keys.ticketCounts),
          redis.exists(buildMark),
        ])
        // An earlier vigie's claim was this mark itself, without a lifetime: its build may be half done.
        const legacy = current === 'building'
        if (current === ticketIndexVersion) {
          await lease.release()
          return null
        }
        // Counters kept, and no build begun: the stores wrote the indexes from the first ticket on.
        if (counted === 1 && begun === 0 && !legacy) {
          await redis.set(keys.ticketIndexVersion, ticketIndexVersion)
          await lease.release()
          return null
        }
        if (begun === 1 || legacy) {
          logger.warn('an earlier ticket index build did not finish: clearing it and building again')
          await clearDerived(redis, keys)
        }
        await redis.set(buildMark, '1')
        return build()
      }
      // Another process builds: its result, or its lease lapsing, is seen at the next look.
      await new Promise<void>((resolve) => setTimeout(resolve, pollMs))
    }
  }

  function lost(): 'lost' {
    logger.warn('the ticket index build lost its lease to another process: leaving the build to it')
    return 'lost'
  }

  async function build(): Promise<{ built: number } | 'lost'> {
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
      // Renewed before each write: a builder that lost its lease writes nothing more.
      if (!(await lease.renew())) return lost()
      await pipeline.exec()
    }
    // Through the store's swap, so the sums move as they would have when the repeat was opened.
    for (const [n, [id, by]] of revisits.entries()) {
      await tickets.update(id, (t) => (t.revisitedBy === undefined ? { ...t, revisitedBy: by } : t))
      if (n % 500 === 499 && !(await lease.renew())) return lost()
    }
    await redis.multi().set(keys.ticketIndexVersion, ticketIndexVersion).del(buildMark).exec()
    await lease.release()
    if (built > 0)
      logger.info(
        { tickets: built, revisits: revisits.length, ms: Math.round(performance.now() - started) },
        'ticket indexes built',
      )
    return { built }
  }
}
