import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { createServer as createTcpServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createServer as createTlsServer } from 'node:tls'
import { Aedes, type AuthenticateError, type Client } from 'aedes'
import type { Logger } from 'pino'
import { createWebSocketStream, type WebSocket } from 'ws'
import type { MqttAccount, Settings } from '../config/index.ts'
import type { Ingest } from '../ingest/index.ts'
import { type MqttIdentity, mayPublish, mayReceive, maySubscribe } from './access-policy.ts'
import { createAuthThrottle } from './auth-throttle.ts'
import { guardConnection } from './packet-size-guard.ts'
import { createServiceAccounts } from './service-accounts.ts'
import { createTrampolinedEmitter } from './trampolined-emitter.ts'

export type BrokerSettings = Pick<
  Settings,
  | 'bindHost'
  | 'mqttPort'
  | 'mqttsPort'
  | 'tlsCert'
  | 'tlsKey'
  | 'mqttMaxPacketSize'
  | 'mqttConnectTimeout'
  | 'mqttDrainTimeout'
>

export type Broker = {
  /** Listens on MQTT_PORT (and MQTTS_PORT); resolves with the ports bound. */
  listen: () => Promise<{ mqttPort: number; mqttsPort?: number }>
  /** MQTT over WebSocket: the HTTP server hands each /mqtt socket here. */
  handleWebSocket: (socket: WebSocket, request: IncomingMessage) => void
  isReady: () => boolean
  /** Connected MQTT clients, for metrics and tests. */
  connectedClients: () => number
  /** Stops taking connections, then disconnects every client. */
  close: () => Promise<void>
}

function authError(returnCode: 2 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError
}

export async function createBroker({
  settings,
  mqttAccounts,
  ingest,
  log,
}: {
  settings: BrokerSettings
  mqttAccounts: MqttAccount[]
  ingest: Ingest
  log: Logger
}): Promise<Broker> {
  const accounts = await createServiceAccounts(mqttAccounts)
  const throttle = createAuthThrottle()
  const identities = new WeakMap<Client, MqttIdentity>()
  const addresses = new WeakMap<Duplex, string>()
  const refusedIds = new WeakSet<Client>()
  const servers: Server[] = []
  let listening = false

  const aedes = await Aedes.createBroker({
    mq: createTrampolinedEmitter({ concurrency: 100 }),
    connectTimeout: settings.mqttConnectTimeout,
    drainTimeout: settings.mqttDrainTimeout,
    maxClientsIdLength: 128,

    preConnect: (client, packet, callback) => {
      // aedes accepts this; [MQTT-3.1.3-8] says CONNACK 2, sent from authenticate below.
      if (packet.clientId === '' && packet.clean === false) refusedIds.add(client)
      callback(null, true)
    },

    authenticate: (client, username, password, callback) => {
      if (refusedIds.has(client))
        return callback(authError(2, 'an empty client id needs a clean session'), null)
      const address = addresses.get(client.conn) ?? 'unknown'
      const delay = throttle.delayFor(address)
      const check = async (): Promise<MqttIdentity | null> => {
        if (!username || !password) return null
        const secret = password.toString('utf8')
        const device = await ingest.registry.authenticate(username, secret)
        if (device) return { type: 'device', id: device.id, kind: device.kind }
        return accounts.authenticate(username, secret)
      }
      const decide = () =>
        check().then(
          (identity) => {
            if (!identity) {
              throttle.failed(address)
              log.info({ address, username }, 'mqtt login refused')
              return callback(authError(4, 'bad user name or password'), null)
            }
            throttle.succeeded(address)
            // [MQTT-3.1.2-8] the will is published later, so its topic is checked now, with the rest of the ACL.
            const will = (client as unknown as { _will?: { topic?: string } | null })._will
            if (will?.topic !== undefined && !mayPublish(identity, will.topic)) {
              return callback(authError(5, `will topic ${will.topic} not allowed`), null)
            }
            identities.set(client, identity)
            callback(null, true)
          },
          (error: unknown) => {
            log.error({ err: error }, 'mqtt authentication failed')
            callback(
              Object.assign(new Error('server unavailable'), { returnCode: 3 }) as AuthenticateError,
              null,
            )
          },
        )
      if (delay > 0) setTimeout(decide, delay)
      else void decide()
    },

    authorizePublish: (client, packet, callback) => {
      // aedes publishes the will of a client gone before restart with client null; it was checked at CONNECT.
      if (!client) return callback(null)
      const identity = identities.get(client)
      if (!identity || !mayPublish(identity, packet.topic)) {
        return callback(new Error(`not allowed to publish to ${packet.topic}`))
      }
      if (!packet.topic.startsWith('devices/')) return callback(null)
      // Stored before aedes sends the PUBACK (DESIGN.md § Known defects): QoS 1 means durable.
      ingest
        .accept({
          topic: packet.topic,
          payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
          receivedAt: Date.now(),
          ...(identity.type === 'device' ? { kind: identity.kind } : {}),
        })
        .then(
          () => callback(null),
          (error: unknown) => {
            log.error(
              { err: error, topic: packet.topic },
              'reading not stored; client disconnected so it retries',
            )
            callback(error as Error)
          },
        )
    },

    authorizeSubscribe: (client, subscription, callback) => {
      const identity = identities.get(client)
      // null grants 0x80 in the SUBACK [MQTT-3.9.3-2] and keeps the connection.
      callback(null, identity && maySubscribe(identity, subscription.topic) ? subscription : null)
    },

    authorizeForward: (client, packet) => {
      const identity = identities.get(client)
      return identity && !mayReceive(identity, packet.topic) ? null : packet
    },
  })

  aedes.on('clientReady', (client) => {
    const identity = identities.get(client)
    if (identity?.type !== 'device') return
    ingest.states
      .setOnline(identity.id, true, Date.now())
      .catch((err: unknown) => log.warn({ err }, 'online not recorded'))
  })
  aedes.on('clientDisconnect', (client) => {
    const identity = identities.get(client)
    if (identity?.type !== 'device') return
    // A takeover by a newer connection of the same client id leaves the device online.
    const current = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[client.id]
    if (current && current !== client) return
    ingest.states
      .setOnline(identity.id, false, Date.now())
      .catch((err: unknown) => log.warn({ err }, 'offline not recorded'))
  })
  aedes.on('clientError', (client, error) =>
    log.debug({ clientId: client.id, err: error }, 'mqtt client error'),
  )
  aedes.on('connectionError', (_client, error) => log.debug({ err: error }, 'mqtt connection error'))

  function handle(inner: Duplex, address: string, request?: IncomingMessage) {
    const conn = guardConnection(inner, {
      maxPacketSize: settings.mqttMaxPacketSize,
      onRefused: (reason) => log.warn({ address, reason }, 'mqtt connection closed: packet too large'),
    })
    addresses.set(conn, address)
    aedes.handle(conn, request)
  }

  function onSocket(socket: Socket) {
    socket.setNoDelay(true)
    socket.on('error', () => socket.destroy())
    handle(socket, socket.remoteAddress ?? 'unknown')
  }

  function listenOn(server: Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen({ port, host: settings.bindHost }, () => {
        server.off('error', reject)
        servers.push(server)
        const address = server.address()
        resolve(typeof address === 'object' && address ? address.port : port)
      })
    })
  }

  return {
    listen: async () => {
      const mqttPort = await listenOn(createTcpServer(onSocket), settings.mqttPort)
      let mqttsPort: number | undefined
      if (settings.mqttsPort !== undefined && settings.tlsCert && settings.tlsKey) {
        const tls = createTlsServer(
          { cert: readFileSync(settings.tlsCert), key: readFileSync(settings.tlsKey) },
          onSocket,
        )
        mqttsPort = await listenOn(tls, settings.mqttsPort)
      }
      listening = true
      log.info({ mqttPort, mqttsPort }, 'mqtt broker listening')
      return mqttsPort === undefined ? { mqttPort } : { mqttPort, mqttsPort }
    },

    handleWebSocket: (socket, request) => {
      handle(createWebSocketStream(socket), request.socket.remoteAddress ?? 'unknown', request)
    },

    isReady: () => listening && !aedes.closed,

    connectedClients: () => aedes.connectedClients,

    close: async () => {
      listening = false
      // server.close() waits for open connections, which aedes.close() ends.
      const closed = Promise.all(
        servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      )
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await closed
    },
  }
}
