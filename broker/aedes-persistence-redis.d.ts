// aedes-persistence-redis ships no types: the part of its options that broker/cluster-parts.ts uses.
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis'

  function aedesPersistenceRedis(options: {
    /** Used as given (its keyPrefix included) and disconnected when the persistence is destroyed. */
    conn: Redis
    /** Queued messages sent to a persistent session when it reconnects (default 1000). */
    maxSessionDelivery?: number
  }): { destroy: (callback?: () => void) => void }

  export = aedesPersistenceRedis
}
