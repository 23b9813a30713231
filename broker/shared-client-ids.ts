import { readFileSync } from 'node:fs'
import type { Redis, Result } from 'ioredis'
import { z } from 'zod'
import type { BrokerKeys } from './keys.ts'

// Checked and written in one step: two nodes cannot both give one client id to two identities.
const claimScript = readFileSync(new URL('./scripts/claim-client-id.lua', import.meta.url), 'utf8')
const releaseScript = readFileSync(new URL('./scripts/release-client-id.lua', import.meta.url), 'utf8')
const renewScript = readFileSync(new URL('./scripts/renew-node.lua', import.meta.url), 'utf8')

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** broker/scripts/claim-client-id.lua */
    vigieClaimClientId(
      clientIds: string,
      nodes: string,
      clientId: string,
      owner: string,
      holder: string,
      persistent: '0' | '1',
      now: number,
    ): Result<string, Context>
    /** broker/scripts/release-client-id.lua */
    vigieReleaseClientId(clientIds: string, clientId: string, holder: string): Result<number, Context>
    /** broker/scripts/renew-node.lua */
    vigieRenewNode(nodes: string, nodeId: string, until: number, now: number): Result<number, Context>
  }
}

// What claim-client-id.lua writes for each client id.
const holdingSchema = z.object({ owner: z.string(), holder: z.string(), persistent: z.boolean() })

export type SharedClientIds = ReturnType<typeof createSharedClientIds>

/**
 * The client-id book of every broker node on one Redis (MQTT_CLUSTER=on): a persistent session's queue lives
 * in Redis, so the rule that a client id belongs to one identity must hold whichever node a login reaches.
 * Each node renews a lease; a clean session held on a node past its lease no longer holds its id.
 */
export function createSharedClientIds({
  redis,
  keys,
  nodeId,
  now,
  leaseMs = 30_000,
  onError,
}: {
  redis: Redis
  keys: BrokerKeys
  nodeId: string
  now: () => number
  leaseMs?: number
  onError: (error: unknown) => void
}) {
  redis.defineCommand('vigieClaimClientId', { numberOfKeys: 2, lua: claimScript })
  redis.defineCommand('vigieReleaseClientId', { numberOfKeys: 1, lua: releaseScript })
  redis.defineCommand('vigieRenewNode', { numberOfKeys: 1, lua: renewScript })
  let timer: NodeJS.Timeout | undefined
  let connections = 0

  const renew = () => redis.vigieRenewNode(keys.nodes, nodeId, now() + leaseMs, now())

  return {
    /** Names a new connection of this node: what claim and release take as its holder. */
    holderFor: (): string => `${nodeId}/${++connections}`,

    /** null when the owner may use the client id (now recorded as this connection's), else the owner holding it. */
    claim: async (clientId: string, owner: string, holder: string, persistent: boolean) => {
      const other = await redis.vigieClaimClientId(
        keys.clientIds,
        keys.nodes,
        clientId,
        owner,
        holder,
        persistent ? '1' : '0',
        now(),
      )
      return other === '' ? null : other
    },

    release: async (clientId: string, holder: string): Promise<void> => {
      await redis.vigieReleaseClientId(keys.clientIds, clientId, holder)
    },

    /** Whether a connection on a live node other than this one holds the client id now. */
    connectedElsewhere: async (clientId: string, exceptNode: string): Promise<boolean> => {
      const text = await redis.hget(keys.clientIds, clientId)
      if (text === null) return false
      const node = holdingSchema.parse(JSON.parse(text)).holder.replace(/\/[^/]*$/, '')
      if (node === '' || node === exceptNode) return false
      return Number((await redis.hget(keys.nodes, node)) ?? 0) > now()
    },

    /** Takes the node's lease before the first login, and renews it at a third of its length. */
    start: async () => {
      await renew()
      timer = setInterval(() => renew().catch(onError), Math.floor(leaseMs / 3))
      timer.unref()
    },

    /** Gives the lease up: this node's clean sessions are gone. */
    close: async () => {
      clearInterval(timer)
      await redis.vigieRenewNode(keys.nodes, nodeId, 0, now())
    },
  }
}
