import type { MqttIdentity } from './access-policy.ts'

/** One string per identity: a device and an account of the same name are different owners. */
export const ownerOf = (identity: MqttIdentity): string =>
  identity.type === 'device' ? `device:${identity.id}` : `account:${identity.username}`

type Holding = { owner: string; connection: object | null; persistent: boolean }

export type ClientIdBook = ReturnType<typeof createClientIdBook>

/**
 * Who holds each client id: the identity of its online connection or of its persistent session. A client id
 * belongs to one identity, so a login cannot take over (and read the queue of) another identity's session.
 */
export function createClientIdBook() {
  const holdings = new Map<string, Holding>()

  return {
    /** Whether this owner may use the client id now: free, or already its own. */
    mayUse: (clientId: string, owner: string): boolean => {
      const holding = holdings.get(clientId)
      return holding === undefined || holding.owner === owner
    },

    /** Records the connection as the client id's current one; call in the same turn as mayUse. */
    claim: (clientId: string, owner: string, connection: object, persistent: boolean) => {
      holdings.set(clientId, { owner, connection, persistent })
    },

    /** The connection that holds the client id now, if any. */
    holder: (clientId: string): object | null => holdings.get(clientId)?.connection ?? null,

    /** A connection ended: a clean session frees its id, a persistent one keeps it for its owner. */
    release: (clientId: string, connection: object) => {
      const holding = holdings.get(clientId)
      if (holding?.connection !== connection) return
      if (holding.persistent) holding.connection = null
      else holdings.delete(clientId)
    },

    size: () => holdings.size,
  }
}
