import type { Redis } from 'ioredis'
import type { RuleKeys } from './keys.ts'
import { type Kpis, kpisFromSums } from './kpis.ts'
import { ticketSchema } from './record-schemas.ts'
import { type Facts, ticketFacts } from './ticket-facts.ts'

const hourMs = 3_600_000
const dayMs = 24 * hourMs

/** A stretch of [from, to) read from one period's sums, or (partial) from its tickets. */
type Segment = { period: string } | { from: number; to: number }

const nextMonth = (t: number) => {
  const d = new Date(t)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}

/**
 * Covers [from, to) with the fewest whole months, days and hours, and the partial hours at its ends: a
 * year reads about 12 + 60 + 46 sums and two hours of tickets, however many tickets it holds.
 */
export function segmentsOf(from: number, to: number): Segment[] {
  const segments: Segment[] = []
  let t = from
  while (t < to) {
    const iso = new Date(t).toISOString()
    const month = nextMonth(t)
    if (t === Date.UTC(new Date(t).getUTCFullYear(), new Date(t).getUTCMonth(), 1) && month <= to) {
      segments.push({ period: iso.slice(0, 7) })
      t = month
    } else if (t % dayMs === 0 && t + dayMs <= to) {
      segments.push({ period: iso.slice(0, 10) })
      t += dayMs
    } else if (t % hourMs === 0 && t + hourMs <= to) {
      segments.push({ period: iso.slice(0, 13) })
      t += hourMs
    } else {
      const end = Math.min(to, Math.floor(t / hourMs) * hourMs + hourMs)
      segments.push({ from: t, to: end })
      t = end
    }
  }
  return segments
}

// A month's sums hold about as many fields as eight days' or sixteen hours' (YYYY-MM, YYYY-MM-DD, YYYY-MM-DDTHH).
const weightOf = (segment: Segment, sites: number) =>
  'period' in segment ? sites * (segment.period.length === 7 ? 8 : segment.period.length === 10 ? 2 : 1) : 1

/** Segments in runs of about two months' fields each. */
function batchesOf<S extends Segment>(segments: S[], sites: number): S[][] {
  const batches: S[][] = []
  let batch: S[] = []
  let weight = 0
  for (const segment of segments) {
    batch.push(segment)
    weight += weightOf(segment, sites)
    if (weight >= 16) {
      batches.push(batch)
      batch = []
      weight = 0
    }
  }
  if (batch.length > 0) batches.push(batch)
  return batches
}

const addInto = (sums: Facts, field: string, n: number) => sums.set(field, (sums.get(field) ?? 0) + n)

/** Adds one period's sums, HGETALL's flat reply (field, count, field, count…), into these. */
function addFlat(sums: Facts, flat: string[]): void {
  for (let i = 0; i < flat.length; i += 2) addInto(sums, flat[i] ?? '', Number(flat[i + 1]))
}

/**
 * KPIs over the tickets created in [from, to), of one site or every site, from the sums kept as tickets
 * move (rules/ticket-indexes.ts). Open bounds stop at the first and last ticket.
 */
export async function readKpis({
  redis,
  keys,
  from,
  to,
  site,
}: {
  redis: Redis
  keys: RuleKeys
  from?: number | undefined
  to?: number | undefined
  site?: string | undefined
}): Promise<Kpis> {
  const sites = site === undefined ? await redis.smembers(keys.ticketSites) : [site]
  const [first, last] = await Promise.all([
    redis.zrange(keys.tickets, 0, 0, 'WITHSCORES'),
    redis.zrange(keys.tickets, -1, -1, 'WITHSCORES'),
  ])
  const sums: Facts = new Map()
  if (sites.length === 0 || first.length < 2 || last.length < 2) return kpisFromSums(sums)
  const start = Math.max(from ?? -Infinity, Number(first[1]))
  const end = Math.min(to ?? Infinity, Number(last[1]) + 1)
  const segments = start < end ? segmentsOf(start, end) : []
  const partial: string[] = []
  // A few periods per round trip: a year's 26,000 fields in one reply were parsed in one 30 ms turn of the loop.
  for (const batch of batchesOf(segments, sites.length)) {
    const pipeline = redis.pipeline()
    for (const segment of batch) {
      if ('period' in segment)
        // The flat reply: ioredis's object form, then Object.entries, doubled a year's cost on the loop.
        for (const s of sites) pipeline.call('HGETALL', keys.kpiAggregate(s, segment.period))
      else
        pipeline.zrangebyscore(
          site === undefined ? keys.tickets : keys.ticketsBy('site', site),
          segment.from,
          `(${segment.to}`,
        )
    }
    const replies = (await pipeline.exec()) ?? []
    // Each period's sites' sums first, in order; a partial hour's ticket ids where it came.
    const isSums = batch.flatMap((segment) => ('period' in segment ? sites.map(() => true) : [false]))
    for (const [index, [err, reply]] of replies.entries()) {
      if (err) throw err
      const flat = reply as string[]
      if (!isSums[index]) partial.push(...flat)
      else addFlat(sums, flat)
    }
  }
  // The edges' few tickets: their facts computed as the sums would have counted them.
  const docs = partial.length > 0 ? await redis.mget(partial.map(keys.ticket)) : []
  for (const doc of docs) {
    if (!doc) continue
    const ticket = ticketSchema.parse(JSON.parse(doc))
    if (sites.includes(ticket.site)) for (const [field, n] of ticketFacts(ticket)) addInto(sums, field, n)
  }
  return kpisFromSums(sums)
}

/**
 * KPIs of each UTC day (`YYYY-MM-DD`), of one site or every site, each from that day's kept sums alone:
 * the figures readKpis gives over the day, however many tickets it holds, in a few round trips.
 */
export async function readDailyKpis({
  redis,
  keys,
  days,
  site,
}: {
  redis: Redis
  keys: RuleKeys
  days: string[]
  site?: string | undefined
}): Promise<(Kpis & { day: string })[]> {
  const sites = site === undefined ? await redis.smembers(keys.ticketSites) : [site]
  const sums: Facts[] = days.map(() => new Map())
  let done = 0
  for (const batch of batchesOf(
    days.map((period) => ({ period })),
    sites.length,
  )) {
    const pipeline = redis.pipeline()
    for (const { period } of batch)
      for (const s of sites) pipeline.call('HGETALL', keys.kpiAggregate(s, period))
    // Each day's sites in order: reply i is day done + ⌊i / sites⌋.
    for (const [index, [err, reply]] of ((await pipeline.exec()) ?? []).entries()) {
      if (err) throw err
      const day = sums[done + Math.floor(index / sites.length)]
      if (day) addFlat(day, reply as string[])
    }
    done += batch.length
  }
  return days.map((day, i) => ({ day, ...kpisFromSums(sums[i] ?? new Map()) }))
}
