import mqtt from 'mqtt'
import type { SimDevice } from './sim-device.ts'
import type { CommandListener, DeviceLink, Transport } from './transport.ts'

export type MqttTransportOptions = {
  /** mqtt://host:port (or mqtts://, ws://). */
  url: string
  connectTimeoutMs?: number
  keepaliveSeconds?: number
  /** How soon a connection the broker dropped is tried again; 0 never. */
  reconnectPeriodMs?: number
  /** Called with errors of a connected client (they would otherwise crash the process as unhandled). */
  onError?: (deviceId: string, error: Error) => void
}

/**
 * DESIGN.md § MQTT: one real connection per device, username and client id = device id, password = its
 * secret, last will `offline` on devices/<id>/status, `online` published once connected, and (when asked)
 * a QoS 1 subscription to its commands.
 */
export function createMqttTransport({
  url,
  connectTimeoutMs = 30_000,
  keepaliveSeconds = 60,
  reconnectPeriodMs = 2_000,
  onError = () => {},
}: MqttTransportOptions): Transport {
  return {
    connect: async (
      device: SimDevice,
      { onCommand }: { onCommand?: CommandListener } = {},
    ): Promise<DeviceLink> => {
      const status = `devices/${device.id}/status`
      const commands = `devices/${device.id}/commands/`
      const client = await mqtt.connectAsync(url, {
        clientId: device.id,
        username: device.id,
        password: device.secret,
        clean: true,
        keepalive: keepaliveSeconds,
        connectTimeout: connectTimeoutMs,
        reconnectPeriod: reconnectPeriodMs,
        will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: false },
      })
      client.on('error', (error) => onError(device.id, error))
      // Back after the broker dropped it: a device says it is online again.
      client.on('connect', (connack) => {
        if (connack.sessionPresent === false) client.publish(status, 'online', { qos: 1 })
      })
      // A command that comes before the fleet holds the link is handed over just after it does.
      let early: [string, string][] | null = []
      if (onCommand) {
        client.on('message', (topic, payload) => {
          if (!topic.startsWith(commands)) return
          const message: [string, string] = [topic.slice(commands.length), payload.toString('utf8')]
          if (early) early.push(message)
          else onCommand(...message)
        })
        // mqtt.js subscribes again by itself after a reconnect that lost the session.
        await client.subscribeAsync(`${commands}#`, { qos: 1 })
      }
      await client.publishAsync(status, 'online', { qos: 1 })
      setImmediate(() => {
        const held = early ?? []
        early = null
        for (const message of held) onCommand?.(...message)
      })
      return {
        publish: async (topic, payload, qos) => {
          await client.publishAsync(topic, payload, { qos })
        },
        close: async (how) => {
          if (how === 'clean') {
            await client.publishAsync(status, 'offline', { qos: 1 }).catch(() => {})
            await client.endAsync()
            return
          }
          // No DISCONNECT packet, so the broker publishes the will; pending publishes fail instead of waiting.
          client.options.reconnectPeriod = 0
          await client.endAsync(true)
        },
      }
    },
  }
}
