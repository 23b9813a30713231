import { z } from 'zod'

/** DESIGN.md § HTTP API: a list answers { items, next }, next a cursor or null. */
export function listSchema<Item extends z.ZodType>(item: Item) {
  return z.object({ items: z.array(item), next: z.string().nullable() })
}

/** What error-handler.ts sends for every refused or failed request. */
export const errorResponseSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
})
