import { z } from 'zod'

/** How many items one page of a list holds at most. */
export const limitSchema = z.coerce.number().int().min(1).max(1000).default(100)

/** Sorted-set lists (tickets, incidents, notifications): the score and member of the last item returned. */
export const scoredPosition = z.tuple([z.number(), z.string().min(1).max(256)])

const maxStreamIdPart = 2n ** 64n - 1n

/** Streams (readings, dead letters): the entry id of the last item returned; ids only grow. */
export const streamPosition = z
  .string()
  .regex(/^\d{1,20}-\d{1,20}$/)
  // Redis refuses a range from a part past 2^64 - 1 or from before 0-0, and that was a 500, not a 400.
  .refine((id) => {
    // zod runs this after a failed regex too: read the parts only when they are digits.
    const [, ms = '', seq = ''] = /^(\d+)-(\d+)$/.exec(id) ?? []
    if (!ms || !seq) return false
    const [high, low] = [BigInt(ms), BigInt(seq)]
    return high <= maxStreamIdPart && low <= maxStreamIdPart && high + low > 0n
  }, 'not a stream entry id')

/** One part of the key of a list in key order (technicians, maintenance windows). */
export const keyPart = z.string().min(1).max(256)

/** A cursor is a keyset position as base64url JSON: opaque to clients, stable as new items arrive. */
export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url')
}

function decodeCursor(text: string): unknown {
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
}

/** The optional `cursor` query parameter, decoded to a position of this shape; anything else is a 400. */
export function cursorSchema<Position extends z.ZodType>(position: Position) {
  return z
    .string()
    .max(1024)
    .regex(/^[\w-]+$/, 'not a cursor')
    .transform((text, ctx): z.output<Position> => {
      const parsed = position.safeParse(decodeCursor(text))
      // Re-encoding must give the same text back, so an edited or padded cursor is refused, not reinterpreted.
      if (!parsed.success || encodeCursor(parsed.data) !== text) {
        ctx.addIssue({ code: 'custom', message: 'not a cursor this list gave' })
        return z.NEVER
      }
      return parsed.data
    })
    .optional()
    .meta({ description: 'The `next` of the previous page; omit for the first page' })
}

/** A store's page with its next position as a cursor. */
export function nextCursor(position: unknown): string | null {
  return position === null || position === undefined ? null : encodeCursor(position)
}

/** Items read one past the limit: the extra one only says there is a next page, which starts after the last kept. */
export function pageOf<Item>(read: Item[], limit: number, positionOf: (item: Item) => unknown) {
  const items = read.slice(0, limit)
  const last = items.at(-1)
  return { items, next: read.length > limit && last !== undefined ? encodeCursor(positionOf(last)) : null }
}

const compareKeys = (a: readonly string[], b: readonly string[]): number => {
  for (const [i, part] of a.entries()) {
    const other = b[i] ?? ''
    if (part !== other) return part < other ? -1 : 1
  }
  return 0
}

/** A page of a small list held in memory, ordered by a key of strings; it starts after the given key. */
export function pageByKey<Item>(
  all: Item[],
  keyOf: (item: Item) => readonly string[],
  { limit, after }: { limit: number; after?: readonly string[] | undefined },
) {
  const keyed = all
    .map((item) => ({ item, key: keyOf(item) }))
    .filter(({ key }) => after === undefined || compareKeys(key, after) > 0)
    .sort((a, b) => compareKeys(a.key, b.key))
  const page = pageOf(keyed, limit, ({ key }) => key)
  return { items: page.items.map(({ item }) => item), next: page.next }
}
