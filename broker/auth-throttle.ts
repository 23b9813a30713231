/**
 * Slows down an address after repeated failed logins: from the third failure, each answer waits
 * twice as long as the last (100 ms, 200 ms, … up to 5 s). Forgotten after ten quiet minutes.
 */
export function createAuthThrottle({
  freeFailures = 2,
  baseMs = 100,
  maxMs = 5000,
  forgetMs = 600_000,
} = {}) {
  const failures = new Map<string, { count: number; last: number }>()

  function sweep(now: number) {
    for (const [address, entry] of failures) if (now - entry.last > forgetMs) failures.delete(address)
  }

  return {
    delayFor: (address: string, now = Date.now()): number => {
      const entry = failures.get(address)
      if (!entry || now - entry.last > forgetMs || entry.count <= freeFailures) return 0
      return Math.min(maxMs, baseMs * 2 ** (entry.count - freeFailures - 1))
    },
    failed: (address: string, now = Date.now()) => {
      if (failures.size > 10_000) sweep(now)
      const entry = failures.get(address)
      failures.set(address, { count: (entry?.count ?? 0) + 1, last: now })
    },
    succeeded: (address: string) => {
      failures.delete(address)
    },
  }
}
