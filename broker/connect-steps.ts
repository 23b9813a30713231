import type { Duplex } from 'node:stream'
import type { AuthenticateError, Client, ConnectPacket } from 'aedes'
import type { Logger } from 'pino'
import type { Ingest } from '../ingest/index.ts'
import { type MqttIdentity, mayPublish, mayRetain } from './access-policy.ts'
import { type ClientIdBook, ownerOf } from './client-ids.ts'
import type { createLoginGuard } from './login-guard.ts'
import type { ServiceAccounts } from './service-accounts.ts'
import type { SharedClientIds } from './shared-client-ids.ts'

/** Issue 15: longer ids are refused in every protocol version, counted in bytes as they travel. */
export const maxClientIdBytes = 256

type AuthenticateCallback = (error: AuthenticateError | null, success: boolean | null) => void

function refusal(returnCode: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError
}

/**
 * aedes' preConnect and authenticate steps: who is connecting (a device by its secret, an account by its
 * password), through the login guard, and whether that identity may use the client id and the will it gave.
 */
export function createConnectSteps({
  ingest,
  accounts,
  clientIds,
  sharedIds,
  guard,
  addressOf,
  onIdentified,
  log,
}: {
  ingest: Ingest
  accounts: ServiceAccounts
  clientIds: ClientIdBook
  /** MQTT_CLUSTER=on: the book of every node, which also says where a device is connected now. */
  sharedIds?: SharedClientIds | undefined
  guard: ReturnType<typeof createLoginGuard>
  addressOf: (conn: Duplex) => string
  onIdentified: (client: Client, identity: MqttIdentity) => void
  log: Logger
}) {
  const refusedIds = new WeakMap<Client, string>()

  const preConnect = (
    client: Client,
    packet: ConnectPacket,
    callback: (error: Error | null, success: boolean) => void,
  ) => {
    // Refused from authenticate, which can answer CONNACK 2; preConnect can only drop the connection.
    if (packet.clientId === '' && packet.clean === false)
      refusedIds.set(client, 'an empty client id needs a clean session') // [MQTT-3.1.3-8]
    else if (Buffer.byteLength(packet.clientId, 'utf8') > maxClientIdBytes)
      refusedIds.set(client, `a client id is at most ${maxClientIdBytes} bytes`)
    callback(null, true)
  }

  async function identify(username: string | undefined, password: Buffer | undefined) {
    if (!username || !password) return null
    const secret = password.toString('utf8')
    const device = await ingest.registry.authenticate(username, secret)
    if (device) return { type: 'device', id: device.id, kind: device.kind } satisfies MqttIdentity
    return accounts.authenticate(username, secret)
  }

  /** Why this identity may not connect as this client with this will, or null. */
  async function refusedFor(client: Client, identity: MqttIdentity): Promise<AuthenticateError | null> {
    if (identity.type === 'device' && client.id !== identity.id)
      return refusal(2, "a device's client id is its device id")
    if (identity.type === 'account' && (await ingest.registry.get(client.id)) !== null)
      return refusal(2, 'a device id is not a client id for an account')
    if (!clientIds.mayUse(client.id, ownerOf(identity)))
      return refusal(2, 'this client id belongs to another identity')
    // [MQTT-3.1.2-8] the will is published later, so its topic is checked now, with the rest of the ACL.
    const will = (client as unknown as { _will?: { topic?: string; retain?: boolean } | null })._will
    if (will?.topic !== undefined && !mayPublish(identity, will.topic))
      return refusal(5, `will topic ${will.topic} not allowed`)
    if (will?.topic !== undefined && will.retain && !mayRetain(identity, will.topic))
      return refusal(5, `a retained will on ${will.topic} is not allowed`)
    return null
  }

  /** Whether no other identity holds the client id on any node; the claim is released when the connection ends. */
  async function claimEverywhere(client: Client, owner: string): Promise<boolean> {
    if (!sharedIds || client.closed) return false
    const holder = sharedIds.holderFor()
    // Before the claim, so a connection that ends meanwhile still releases it (after it, on one Redis connection).
    client.conn.once('close', () => {
      sharedIds
        .release(client.id, holder)
        .catch((err: unknown) => log.warn({ err }, 'client id not released'))
    })
    return (await sharedIds.claim(client.id, owner, holder, !client.clean)) === null
  }

  const authenticate = (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    callback: AuthenticateCallback,
  ) => {
    const refusedId = refusedIds.get(client)
    if (refusedId) return callback(refusal(2, refusedId), null)
    const address = addressOf(client.conn)
    const slot = guard.enter(address, username ?? '')
    if (!slot) {
      log.warn({ address, pending: guard.pending() }, 'mqtt login refused: too many logins pending')
      return callback(refusal(3, 'server busy'), null)
    }
    client.conn.once('close', slot.release)
    const run = async () => {
      await slot.ready
      if (client.closed) return slot.release()
      const identity = await identify(username, password)
      if (!identity) {
        log.info({ address, username }, 'mqtt login refused')
        await slot.failed()
        return callback(refusal(4, 'bad user name or password'), null)
      }
      slot.succeeded()
      const refused = await refusedFor(client, identity)
      if (refused) {
        log.info({ address, username, clientId: client.id, reason: refused.message }, 'mqtt login refused')
        return callback(refused, null)
      }
      if (sharedIds && !(await claimEverywhere(client, ownerOf(identity)))) {
        log.info(
          { address, username, clientId: client.id },
          'mqtt login refused: client id held on another node',
        )
        return callback(refusal(2, 'this client id belongs to another identity'), null)
      }
      // Checked and claimed in one turn of the event loop: two logins cannot both take a free id.
      if (!clientIds.mayUse(client.id, ownerOf(identity)))
        return callback(refusal(2, 'this client id belongs to another identity'), null)
      clientIds.claim(client.id, ownerOf(identity), client, !client.clean)
      client.conn.once('close', () => clientIds.release(client.id, client))
      onIdentified(client, identity)
      callback(null, true)
    }
    run().catch((error: unknown) => {
      slot.release()
      log.error({ err: error }, 'mqtt authentication failed')
      callback(refusal(3, 'server unavailable'), null)
    })
  }

  return { preConnect, authenticate }
}
