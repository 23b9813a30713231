// aedes-persistence-redis ships no types: the part of its options that broker/cluster-parts.ts uses.
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis'

  function aedesPersistenceRedis(options: {
    /** Used as given (its keyPrefix included) and disconnected when the persistence is destroyed. */
    conn: Redis
    /** Queued messages sent to a persistent session when it reconnects (default 1000). */
    maxSessionDelivery?: number
  }): {
    /** The wills of nodes not among the live brokers (by id), read by aedes every four heartbeats. */
    streamWill: (brokers: Record<string, number>) => AsyncIterable<unknown>
    delWill: (client: { id: string; brokerId: string }) => Promise<unknown>
  }

  export = aedesPersistenceRedis
}
