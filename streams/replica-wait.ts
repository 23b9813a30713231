import type { Redis } from 'ioredis'
import { VigieError } from '../domain/index.ts'

/** Resolves once every write this connection sent before it is on enough replicas; throws otherwise. */
export type ReplicaWait = () => Promise<void>

/**
 * Acknowledged means replicated (issue 17): WAIT on the connection that wrote, coalesced so that the
 * callers of one turn of the event loop share one round trip. WAIT counts the writes of its own connection
 * (Redis keeps each client's replication offset), so it must be the connection the writes went through.
 */
export function createReplicaWait({
  redis,
  replicas,
  timeoutMs,
}: {
  redis: Redis
  /** 0: nothing to wait for (no replicas, or the setting off). */
  replicas: number
  timeoutMs: number
}): ReplicaWait {
  if (replicas === 0) return async () => {}
  let next: Promise<void> | undefined
  return () => {
    // Joined until it goes out: a write that completed before this call was sent before the WAIT.
    next ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        next = undefined
        redis.wait(replicas, timeoutMs).then((acked) => {
          if (acked >= replicas) return resolve()
          reject(
            new VigieError({
              code: 'REDIS_NOT_REPLICATED',
              message: `${acked} of ${replicas} replicas acknowledged the write within ${timeoutMs} ms`,
            }),
          )
        }, reject)
      })
    })
    return next
  }
}
