import { Readable } from 'node:stream'
import aedesPersistenceRedis from 'aedes-persistence-redis'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { MessageBus } from './bounded-emitter.ts'
import { brokerKeys } from './keys.ts'
import { createRedisBus } from './redis-bus.ts'
import { createSharedClientIds, type SharedClientIds } from './shared-client-ids.ts'

export type ClusterParts = {
  bus: MessageBus
  persistence: ReturnType<typeof aedesPersistenceRedis>
  clientIds: SharedClientIds
  /** After aedes closed: gives the node's lease up and closes the sessions' connection. */
  close: () => Promise<void>
}

/**
 * What lets several broker nodes serve one fleet (MQTT_CLUSTER=on): aedes' sessions, queues, wills and retained
 * messages in Redis, its message bus over Redis pub/sub, and the client-id book shared by every node.
 */
export function createClusterParts({
  redis,
  prefix,
  nodeId,
  now,
  log,
  connectedHere,
}: {
  /** Duplicated: the bus's two connections and the sessions' one; the client-id scripts run on it. */
  redis: Redis
  prefix: string
  nodeId: string
  now: () => number
  log: Logger
  /** Whether a client id has a live connection on this node. */
  connectedHere: (clientId: string) => boolean
}): ClusterParts {
  const keys = brokerKeys(prefix)
  // One warning per ten seconds: ioredis reconnects on its own and reports every failed try.
  let warnedAt = Number.NEGATIVE_INFINITY
  const onError = (err: unknown) => {
    if (now() - warnedAt < 10_000) return
    warnedAt = now()
    log.warn({ err }, 'mqtt cluster: redis unavailable; retrying')
  }
  const sessions = redis.duplicate({ keyPrefix: keys.sessions })
  sessions.on('error', onError)
  const clientIds = createSharedClientIds({ redis, keys, nodeId, now, onError })
  // A persistent session that comes back gets its whole queue, as with aedes' default in-memory store.
  const persistence = aedesPersistenceRedis({ conn: sessions, maxSessionDelivery: 100_000 })
  // aedes publishes the wills of a node gone dead; one whose client is connected again, here or on a live
  // node, is stale: it is dropped, not published (aedes would judge it with the new connection).
  const streamWill = persistence.streamWill.bind(persistence)
  persistence.streamWill = (brokers) =>
    Readable.from(
      (async function* () {
        for await (const will of streamWill(brokers)) {
          const { clientId, brokerId } = will as { clientId: string; brokerId: string }
          if (connectedHere(clientId) || (await clientIds.connectedElsewhere(clientId, brokerId))) {
            await persistence.delWill({ id: clientId, brokerId })
            log.info({ clientId }, 'stale will of a dead node dropped: its client is connected again')
          } else yield will
        }
      })(),
    )
  return {
    bus: createRedisBus({ redis, channels: keys.busChannels, onError }),
    persistence,
    clientIds,
    close: async () => {
      await clientIds.close().catch(onError)
      await sessions.quit().catch(onError)
    },
  }
}
