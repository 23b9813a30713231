import type { Redis } from 'ioredis'

/** The stream id just after `id`, so that XTRIM MINID of it removes `id` too. */
function after(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-')
  return `${ms}-${BigInt(seq) + 1n}`
}

function isBefore(a: string, b: string): boolean {
  const [am = '0', as = '0'] = a.split('-')
  const [bm = '0', bs = '0'] = b.split('-')
  return BigInt(am) < BigInt(bm) || (am === bm && BigInt(as) < BigInt(bs))
}

/**
 * Removes a stream's entries older than `minId`, at most `step` per command: one exact XTRIM of a year's
 * events would hold Redis, and every device's PUBACK behind it, for seconds. Stops early when `stopped()`.
 */
export async function trimStreamBefore({
  redis,
  key,
  minId,
  step = 1000,
  stopped = () => false,
}: {
  redis: Redis
  key: string
  minId: string
  step?: number
  stopped?: () => boolean
}): Promise<number> {
  let removed = 0
  while (!stopped()) {
    // The id of the step-th oldest entry bounds this round; its fields are not needed, but XRANGE brings them.
    const oldest = await redis.xrange(key, '-', '+', 'COUNT', step)
    const last = oldest.at(-1)?.[0]
    if (last === undefined || !isBefore(oldest[0]?.[0] ?? last, minId)) break
    const bound = isBefore(last, minId) ? after(last) : minId
    removed += Number(await redis.xtrim(key, 'MINID', bound))
    if (bound === minId) break
  }
  return removed
}
