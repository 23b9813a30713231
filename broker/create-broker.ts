import { randomUUID } from 'node:crypto'
import type { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { createServer as createTcpServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createSecureContext, createServer as createTlsServer, type SecureContext, TLSSocket } from 'node:tls'
import { Aedes, type Client, type PublishPacket } from 'aedes'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { createWebSocketStream, type WebSocket } from 'ws'
import type { MqttAccount, Settings } from '../config/index.ts'
import type { Clock } from '../domain/index.ts'
import type { Ingest } from '../ingest/index.ts'
import { type MqttIdentity, mayPublish, mayReceive, mayRetain, maySubscribe } from './access-policy.ts'
import { createBoundedEmitter } from './bounded-emitter.ts'
import { createClientIdBook, ownerOf } from './client-ids.ts'
import { createClusterParts } from './cluster-parts.ts'
import { createConnectSteps, maxClientIdBytes } from './connect-steps.ts'
import { createLoginGuard } from './login-guard.ts'
import { guardConnection } from './packet-size-guard.ts'
import { createProxyProtocol, type ProxyProtocol } from './proxy-protocol.ts'
import { createRetainedBook } from './retained-book.ts'
import { createServiceAccounts } from './service-accounts.ts'
import { watchSlowClients } from './slow-clients.ts'

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
  | 'mqttRetainedMax'
  | 'mqttRetainedMaxBytes'
  | 'mqttRetainedPerClient'
  | 'mqttRetainedBytesPerClient'
  | 'mqttAuthPendingMax'
  | 'mqttAuthPendingPerAddress'
  | 'mqttAuthPendingPerUser'
  | 'mqttAuthFailureDelay'
  | 'mqttBacklogMax'
  | 'mqttSubscriberMaxLag'
  | 'mqttProxyProtocol'
> &
  Partial<Pick<Settings, 'mqttCluster' | 'redisPrefix'>>

export type Broker = {
  /** Listens on MQTT_PORT (and MQTTS_PORT); resolves with the ports bound. */
  listen: () => Promise<{ mqttPort: number; mqttsPort?: number }>
  /** MQTT over WebSocket: the HTTP server hands each /mqtt socket here. */
  handleWebSocket: (socket: WebSocket, request: IncomingMessage) => void
  isReady: () => boolean
  /** Connected MQTT clients, for metrics and tests. */
  connectedClients: () => number
  /** Logins being checked or held before their answer. */
  loginsPending: () => number
  /** What /metrics shows of the broker. */
  figures: () => {
    clients: number
    backlog: number
    loginsPending: number
    slowDropped: number
    proxyRefused: number
  }
  /** Publishes at QoS 1 as the broker itself (device commands, issue 19); persistent sessions offline keep it. */
  publish: (topic: string, payload: string) => Promise<void>
  /** Stops taking connections, then disconnects every client. */
  close: () => Promise<void>
}

const asBuffer = (packet: PublishPacket): Buffer =>
  Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)

export async function createBroker({
  settings,
  mqttAccounts,
  ingest,
  log,
  clock,
  redis,
  onDelivered,
}: {
  settings: BrokerSettings
  mqttAccounts: MqttAccount[]
  ingest: Ingest
  log: Logger
  clock: Clock
  /** With MQTT_CLUSTER=on, duplicated for the sessions and the bus that the broker nodes share. */
  redis?: Redis
  /** A QoS 1 message a client acknowledged (its PUBACK): how a device command is known delivered. */
  onDelivered?: (clientId: string, topic: string, payload: Buffer) => void
}): Promise<Broker> {
  const nodeId = randomUUID()
  // aedes' registry of its connected clients by id, which its types do not show; empty until aedes is made.
  let clientsById = (): Record<string, Client> => ({})

  const cluster =
    settings.mqttCluster === 'on' && redis && settings.redisPrefix
      ? createClusterParts({
          redis,
          prefix: settings.redisPrefix,
          nodeId,
          now: clock.now,
          log,
          connectedHere: (clientId) => clientsById()[clientId]?.closed === false,
        })
      : undefined
  const accounts = await createServiceAccounts(mqttAccounts)
  const identities = new WeakMap<Client, MqttIdentity>()
  const addresses = new WeakMap<Duplex, string>()
  const clientIds = createClientIdBook()
  const retained = createRetainedBook({
    maxMessages: settings.mqttRetainedMax,
    maxBytes: settings.mqttRetainedMaxBytes,
    perClientMessages: settings.mqttRetainedPerClient,
    perClientBytes: settings.mqttRetainedBytesPerClient,
  })
  const servers: Server[] = []
  // Every connection, registered client or not: aedes.close() ends only the clients that finished CONNECT.
  const open = new Set<Duplex>()
  let listening = false

  const guard = createLoginGuard({
    maxPending: settings.mqttAuthPendingMax,
    perAddress: settings.mqttAuthPendingPerAddress,
    perUser: settings.mqttAuthPendingPerUser,
    failureDelayMs: settings.mqttAuthFailureDelay,
    now: clock.now,
  })
  const { preConnect, authenticate } = createConnectSteps({
    ingest,
    accounts,
    clientIds,
    sharedIds: cluster?.clientIds,
    guard,
    addressOf: (conn) => addresses.get(conn) ?? 'unknown',
    onIdentified: (client, identity) => identities.set(client, identity),
    log,
  })

  // Connections that a newer one of the same client id on another node replaced ($SYS/<node>/new/clients).
  const takenOver = new WeakSet<Client>()

  /** A device connection that a newer one of the same device replaced: its will and its end are stale. */
  const superseded = (client: Client) => {
    if (takenOver.has(client)) return true
    const holder = clientIds.holder(client.id)
    return holder !== null && holder !== client
  }

  /** Why this publish may not be stored as retained, or null. */
  function retainRefusal(identity: MqttIdentity, packet: PublishPacket): string | null {
    if (!packet.retain) return null
    if (!mayRetain(identity, packet.topic)) return `may not retain on ${packet.topic}`
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    const bytes = payload.length === 0 ? 0 : payload.length + Buffer.byteLength(packet.topic)
    return retained.admit(ownerOf(identity), packet.topic, bytes)
  }

  let slowDropped = 0
  const mq = createBoundedEmitter({
    concurrency: 1000,
    highWater: settings.mqttBacklogMax,
    ...(cluster ? { inner: cluster.bus } : {}),
  })
  if (cluster) {
    // Registered before aedes' own listener, which closes the replaced connection and so publishes its will.
    mq.on('$SYS/+/new/clients', (packet, done) => {
      const replaced = clientsById()[packet.payload.toString()]
      if (replaced && packet.topic.split('/')[1] !== nodeId) takenOver.add(replaced)
      done()
    })
  }
  const aedes = await Aedes.createBroker({
    id: nodeId,
    mq,
    ...(cluster ? { persistence: cluster.persistence } : {}),
    connectTimeout: settings.mqttConnectTimeout,
    drainTimeout: settings.mqttDrainTimeout,
    maxClientsIdLength: maxClientIdBytes,
    preConnect,
    authenticate,

    authorizePublish: (client, packet, callback) => {
      // aedes publishes the will of a client gone before restart with client null; it was checked at CONNECT.
      if (!client) return callback(null)
      const identity = identities.get(client)
      if (!identity || !mayPublish(identity, packet.topic)) {
        return callback(new Error(`not allowed to publish to ${packet.topic}`))
      }
      // The will of a device session its own newer one replaced: the device is online, not gone.
      if (identity.type === 'device' && client.closed && superseded(client))
        return callback(new Error('will of a replaced session'))
      const refused = retainRefusal(identity, packet)
      if (refused) {
        log.warn({ clientId: client.id, topic: packet.topic, reason: refused }, 'retained publish refused')
        return callback(new Error(refused))
      }
      if (!packet.topic.startsWith('devices/')) return callback(null)
      // Stored before aedes sends the PUBACK (DESIGN.md § Known defects): QoS 1 means durable.
      ingest
        .accept({
          topic: packet.topic,
          payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
          receivedAt: clock.now(),
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
      if (identity && !mayReceive(identity, packet.topic)) return null
      // aedes keeps no outgoing copy for a clean session, so its PUBACK names nothing: sent once handed to it.
      if (onDelivered && client.clean && packet.qos > 0)
        onDelivered(client.id, packet.topic, asBuffer(packet))
      return packet
    },
  })

  const registry = (aedes as unknown as { clients: Record<string, Client> }).clients
  clientsById = () => registry

  // The node's lease on the shared client-id book, before any login can claim an id under it.
  await cluster?.clientIds.start()

  aedes.on('clientReady', (client) => {
    const identity = identities.get(client)
    if (identity?.type !== 'device' || superseded(client)) return
    ingest.states
      .setOnline(identity.id, true, clock.now())
      .catch((err: unknown) => log.warn({ err }, 'online not recorded'))
  })
  aedes.on('ack', (packet, client) => {
    // A persistent session's PUBACK: aedes hands back the packet it kept (none for a clean session).
    if (!onDelivered || !client || !packet || !('topic' in packet) || !packet.topic) return
    onDelivered(client.id, packet.topic, asBuffer(packet))
  })
  aedes.on('clientDisconnect', (client) => {
    const identity = identities.get(client)
    // A takeover by a newer connection of the same device leaves the device online.
    if (identity?.type !== 'device' || superseded(client)) return
    ingest.states
      .setOnline(identity.id, false, clock.now())
      .catch((err: unknown) => log.warn({ err }, 'offline not recorded'))
  })
  const stopWatching = watchSlowClients({
    clients: () => Object.values(clientsById()),
    maxLagMs: settings.mqttSubscriberMaxLag,
    now: clock.now,
    onTooSlow: (client, behindMs) => {
      slowDropped++
      log.warn(
        { clientId: client.id, behindMs, backlog: mq.length },
        'mqtt client dropped: too far behind the messages sent to it',
      )
      client.conn.destroy()
    },
  })

  // With MQTT_CLUSTER=on, aedes reports here what its Redis store failed to do; unheard, it would end the process.
  ;(aedes as unknown as EventEmitter).on('error', (err: Error) => log.error({ err }, 'mqtt broker error'))
  aedes.on('clientError', (client, error) =>
    log.debug({ clientId: client.id, err: error }, 'mqtt client error'),
  )
  aedes.on('connectionError', (_client, error) => log.debug({ err: error }, 'mqtt connection error'))

  function handle(inner: Duplex, address: string, request?: IncomingMessage) {
    open.add(inner)
    inner.once('close', () => open.delete(inner))
    const conn = guardConnection(inner, {
      gate: mq,
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

  // With it on, every MQTT(S) connection is read through it first; off, a header is just bad MQTT.
  const proxyProtocol =
    settings.mqttProxyProtocol === 'on'
      ? createProxyProtocol({ timeoutMs: settings.mqttConnectTimeout, log })
      : null

  /** A connection that must begin with a PROXY protocol header; then MQTT, or TLS when a context is given. */
  const onProxiedSocket = (accept: ProxyProtocol['accept'], context?: SecureContext) => (socket: Socket) => {
    socket.setNoDelay(true)
    socket.on('error', () => socket.destroy())
    open.add(socket)
    socket.once('close', () => open.delete(socket))
    accept(socket, (address) => {
      if (!context) return handle(socket, address)
      // The handshake is bounded by aedes' connect timeout, which starts now.
      const tls = new TLSSocket(socket, { isServer: true, secureContext: context })
      tls.on('error', () => tls.destroy())
      handle(tls, address)
    })
  }

  function listenOn(server: Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      // A node's fleet reconnects at once (issue 17): each SYN dropped past the accept queue costs its device
      // a retransmit 1 s later, then 3, 7, 15 s; Linux caps this at net.core.somaxconn (4096 since 5.4).
      server.listen({ port, host: settings.bindHost, backlog: 65_535 }, () => {
        server.off('error', reject)
        servers.push(server)
        const address = server.address()
        resolve(typeof address === 'object' && address ? address.port : port)
      })
    })
  }

  return {
    listen: async () => {
      const mqttPort = await listenOn(
        createTcpServer(proxyProtocol ? onProxiedSocket(proxyProtocol.accept) : onSocket),
        settings.mqttPort,
      )
      let mqttsPort: number | undefined
      if (settings.mqttsPort !== undefined && settings.tlsCert && settings.tlsKey) {
        const credentials = { cert: readFileSync(settings.tlsCert), key: readFileSync(settings.tlsKey) }
        const tls = proxyProtocol
          ? createTcpServer(onProxiedSocket(proxyProtocol.accept, createSecureContext(credentials)))
          : createTlsServer(credentials, onSocket)
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

    loginsPending: () => guard.pending(),

    figures: () => ({
      clients: aedes.connectedClients,
      backlog: mq.length,
      loginsPending: guard.pending(),
      slowDropped,
      proxyRefused: proxyProtocol?.refused() ?? 0,
    }),

    publish: (topic, payload) =>
      new Promise<void>((resolve, reject) =>
        aedes.publish(
          { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
          (error) => (error ? reject(error) : resolve()),
        ),
      ),

    close: async () => {
      listening = false
      stopWatching()
      // server.close() waits for open connections: aedes.close() ends its clients, then the rest (still
      // connecting, or their login being checked) are cut.
      const closed = Promise.all(
        servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      )
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      log.debug({ left: open.size }, 'mqtt clients closed')
      for (const conn of open) conn.destroy()
      await closed
      await cluster?.close()
    },
  }
}
