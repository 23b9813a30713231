import type { Redis } from 'ioredis'

/** Where a page of a sorted set stopped: the score and member of the last entry it passed. */
export type SortedSetPosition = readonly [score: number, member: string]

/** A page of a list and where the next one starts, or null at the end. */
export type Page<Item, Position> = { items: Item[]; next: Position | null }

export type SortedSetPageOptions<Item> = {
  redis: Redis
  key: string
  /** newest: highest score first (ties by member, descending), oldest: the reverse. */
  order: 'newest' | 'oldest'
  limit: number
  after?: SortedSetPosition | undefined
  /** The records of these members, null for one that is gone. */
  load: (members: string[]) => Promise<(Item | null)[]>
  keep?: (item: Item) => boolean
  /** Entries examined at most per page, so a filter that matches little cannot scan the whole set. */
  scanLimit?: number
}

/**
 * Keyset paging over a sorted set: a page starts right after a (score, member) position, so entries added
 * meanwhile never shift it. Redis orders equal scores by member bytes, hence Buffer.compare below.
 */
export async function readSortedSetPage<Item>({
  redis,
  key,
  order,
  limit,
  after,
  load,
  keep,
  scanLimit = 10_000,
}: SortedSetPageOptions<Item>): Promise<Page<Item, SortedSetPosition>> {
  const newest = order === 'newest'
  const passed = (score: number, member: string) => {
    if (!after || score !== after[0]) return false
    const byBytes = Buffer.compare(Buffer.from(member), Buffer.from(after[1]))
    return newest ? byBytes >= 0 : byBytes <= 0
  }
  const found: { item: Item; position: SortedSetPosition }[] = []
  let bound: number | string = after ? after[0] : newest ? '+inf' : '-inf'
  // Entries at the bound's score already read: they come first in the next batch and are skipped by offset.
  let offset = 0
  let examined = 0
  let last: SortedSetPosition | null = null
  while (found.length <= limit) {
    if (examined >= scanLimit) return { items: found.map((f) => f.item), next: last }
    const size = Math.min(Math.max(limit + 1 - found.length, keep ? 100 : 0), 1000, scanLimit - examined)
    const flat = newest
      ? await redis.zrevrangebyscore(key, bound, '-inf', 'WITHSCORES', 'LIMIT', offset, size)
      : await redis.zrangebyscore(key, bound, '+inf', 'WITHSCORES', 'LIMIT', offset, size)
    const batch: SortedSetPosition[] = []
    for (let i = 0; i + 1 < flat.length; i += 2) batch.push([Number(flat[i + 1]), flat[i] ?? ''])
    const fresh = batch.filter(([score, member]) => !passed(score, member))
    const records = fresh.length ? await load(fresh.map(([, member]) => member)) : []
    for (const [i, position] of fresh.entries()) {
      const item = records[i]
      if (item !== null && item !== undefined && (keep?.(item) ?? true) && found.length <= limit)
        found.push({ item, position })
    }
    examined += batch.length
    const tail = batch.at(-1)
    if (!tail || batch.length < size) break
    last = tail
    offset = (tail[0] === bound ? offset : 0) + batch.filter(([score]) => score === tail[0]).length
    bound = tail[0]
  }
  const items = found.slice(0, limit)
  const more = found.length > limit
  return { items: items.map((f) => f.item), next: more ? (found[limit - 1]?.position ?? null) : null }
}
