import type { Redis } from 'ioredis'

/** A page of a stream, newest first, and the entry id the next page starts before, or null at the end. */
export type StreamPage<Item> = { items: Item[]; next: string | null }

/**
 * Stream ids only grow, so "before this id" is a position new entries never shift. Each entry holds
 * one field, the record as JSON, which `decode` checks (with the entry's id, for records that carry it).
 */
export async function readStreamPage<Item>(
  redis: Redis,
  key: string,
  { limit, before }: { limit: number; before?: string | undefined },
  decode: (record: unknown, id: string) => Item,
): Promise<StreamPage<Item>> {
  const entries = await redis.xrevrange(key, before ? `(${before}` : '+', '-', 'COUNT', limit + 1)
  const kept = entries.slice(0, limit)
  return {
    items: kept.map(([id, fields]) => decode(JSON.parse(fields[1] ?? 'null'), id)),
    next: entries.length > limit ? (kept.at(-1)?.[0] ?? null) : null,
  }
}
