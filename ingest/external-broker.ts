import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { type Clock, VigieError } from '../domain/index.ts'
import type { Ingest } from './create-ingest.ts'

export type ExternalBrokerIngest = {
  /** Connects, subscribes, and resolves once readings flow; rejects when the first connection fails. */
  start: () => Promise<void>
  /** Lets the message being stored get its PUBACK, then disconnects; the session stays on the broker. */
  close: () => Promise<void>
  isReady: () => boolean
  /** Publishes at QoS 1 through the same session; resolves on the broker's PUBACK (issue 19: device commands). */
  publish: (topic: string, payload: string) => Promise<void>
}

export type ExternalBrokerOptions = {
  /** MQTT_EXTERNAL_URL; its credentials (mqtt://user:pass@host:port) are never logged. */
  url: string
  ingest: Pick<Ingest, 'accept'>
  log: Logger
  clock: Clock
  /** The session's name on the broker: the same id on every start finds the readings queued meanwhile. */
  clientId?: string
}

const deviceTopics = ['devices/+/telemetry', 'devices/+/status']

// MQTT 5 ends a session at disconnect unless told otherwise; a week rides out an outage without a retired
// vigie leaving a queue behind forever.
const sessionExpirySeconds = 7 * 24 * 60 * 60

/** DESIGN.md § Real components: ingest as a client of an existing broker (Mosquitto, EMQX, HiveMQ). */
export function createExternalBrokerIngest({
  url,
  ingest,
  log,
  clock,
  clientId = 'vigie-ingest',
}: ExternalBrokerOptions): ExternalBrokerIngest {
  const broker = withoutCredentials(url)
  let client: MqttClient | undefined
  let subscribed = false
  let closing = false
  // Set when a message could not be stored: later ones wait for the redelivery that follows a reconnect.
  let stalled = false
  let storing: Promise<void> = Promise.resolve()

  async function store(packet: IPublishPacket, done: (error?: Error) => void): Promise<void> {
    if (closing || stalled) return done(new Error('not storing: closing or waiting for redelivery'))
    try {
      // No topicAliasMaximum is offered, so the broker sends every topic in full.
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
      await ingest.accept({ topic: packet.topic, payload, receivedAt: clock.now() })
    } catch (error) {
      stalled = true
      log.error(
        { err: error, topic: packet.topic },
        'message not stored; reconnecting to have it redelivered',
      )
      done(error instanceof Error ? error : new Error(String(error)))
      // Unacknowledged, the message is sent again when the session resumes [MQTT-4.4.0-1].
      client?.stream.destroy()
      return
    }
    done()
  }

  function connect(): MqttClient {
    const options: IClientOptions = {
      clientId,
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: sessionExpirySeconds },
      // A broker restarting may refuse logins for a while; a refusal at start still fails the start.
      reconnectOnConnackError: true,
    }
    const next = mqtt.connect(url, options)
    // mqtt.js sends a QoS 1 PUBACK only once this calls back, and hands over the next message only then: each
    // reading is in the log before the broker forgets it, in arrival order, so one device's order is kept.
    // (customHandleAcks would cover MQTT 5 QoS 1 and 2 only, not QoS 0 readings.)
    next.handleMessage = (packet, done) => {
      storing = store(packet, done)
    }
    // One warning per outage, not one per reconnect attempt; a failed first attempt fails start() instead.
    let down = true
    let connections = 0
    next.on('connect', (connack) => {
      stalled = false
      down = false
      log.info({ broker, clientId, sessionPresent: connack.sessionPresent }, 'external broker connected')
      // mqtt.js subscribes again by itself; what was published in between is gone with the old session.
      if (connections++ > 0 && !connack.sessionPresent)
        log.warn(
          { broker, clientId },
          'external broker lost the session; readings sent meanwhile may be missing',
        )
    })
    next.on('offline', () => {
      if (!down) log.warn({ broker }, 'external broker connection lost; reconnecting')
      down = true
    })
    next.on('error', (err) => {
      if (down) log.debug({ err, broker }, 'external broker still unreachable')
      else log.warn({ err, broker }, 'external broker error')
    })
    return next
  }

  return {
    start: async () => {
      if (client) return
      closing = false
      const next = connect()
      client = next
      try {
        await firstConnection(next)
        const granted = await next.subscribeAsync(deviceTopics, { qos: 1 })
        const refused = granted.filter((grant) => grant.qos >= 0x80)
        if (refused.length > 0)
          throw new Error(`subscription refused: ${refused.map((g) => g.topic).join(', ')}`)
        for (const grant of granted.filter((g) => g.qos === 0)) {
          log.warn(
            { broker, topic: grant.topic },
            'external broker granted QoS 0: readings sent while down are lost',
          )
        }
        subscribed = true
        log.info({ broker, topics: deviceTopics }, 'external ingest subscribed')
      } catch (cause) {
        client = undefined
        await next.endAsync(true)
        const reason = cause instanceof Error ? cause.message : String(cause)
        throw new VigieError({
          code: 'MQTT_EXTERNAL_UNAVAILABLE',
          message: `MQTT_EXTERNAL_URL: cannot take readings from ${broker}: ${reason}`,
          cause,
        })
      }
    },

    close: async () => {
      const current = client
      if (!current) return
      closing = true
      await storing
      client = undefined
      subscribed = false
      await current.endAsync()
      log.info({ broker }, 'external ingest closed')
    },

    isReady: () => !closing && subscribed && client?.connected === true,

    publish: async (topic, payload) => {
      const current = client
      if (!current || closing)
        throw new VigieError({
          code: 'MQTT_EXTERNAL_UNAVAILABLE',
          message: `MQTT_EXTERNAL_URL: not connected to ${broker}, nothing published`,
        })
      // mqtt.js keeps a QoS 1 message through a reconnect and resolves once the broker acknowledged it.
      await current.publishAsync(topic, payload, { qos: 1 })
    },
  }
}

/** Resolves on the first CONNACK; rejects when the first attempt errs or closes before it. */
function firstConnection(client: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: Error | undefined
    const settle = (error?: Error) => {
      client.off('connect', onConnect)
      client.off('error', onError)
      client.off('close', onClose)
      if (error) reject(error)
      else resolve()
    }
    const onConnect = () => settle()
    const onError = (error: Error) => {
      failure ??= error
    }
    const onClose = () => settle(failure ?? new Error('connection closed before CONNACK'))
    client.on('connect', onConnect)
    client.on('error', onError)
    client.on('close', onClose)
  })
}

function withoutCredentials(url: string): string {
  const parsed = new URL(url)
  parsed.username = ''
  parsed.password = ''
  return parsed.toString()
}
