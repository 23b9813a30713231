import type { Redis } from 'ioredis'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { type Broker, type BrokerSettings, createBroker } from '../../broker/index.ts'
import type { Device, MqttAccount } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createIngest, type Ingest } from '../../ingest/index.ts'
import { createLogger, type Logger } from '../../service/index.ts'
import { openTestRedis } from './redis.ts'

export type BrokerHarness = {
  port: number
  /** Set when the settings asked for MQTT over TLS. */
  mqttsPort?: number
  ingest: Ingest
  broker: Broker
  redis: Redis
  /** The key prefix of this harness's Redis keys. */
  prefix: string
  connect: (options: IClientOptions) => Promise<MqttClient>
  /** Resolves with the CONNACK refusal code, or rejects when the connection was accepted. */
  refusal: (options: IClientOptions) => Promise<number | undefined>
  close: () => Promise<void>
}

export const testDevices: Device[] = [
  { id: 'temp-1', kind: 'temperature', site: 's1', secret: 'secret-temp-1' },
  { id: 'door-1', kind: 'door', site: 's1', secret: 'secret-door-1' },
  { id: 'aed-1', kind: 'aed', site: 's1', secret: 'secret-aed-1' },
]

export const testAccounts: MqttAccount[] = [
  {
    username: 'integration',
    password: 'integration-password',
    publish: ['devices/+/commands/#', 'integrations/#'],
    subscribe: ['#'],
    deny: ['devices/+/commands/secret/#'],
  },
  { username: 'operator', password: 'operator-password', publish: ['#'], subscribe: ['#'], deny: [] },
]

/** A real broker on a free port, over a real Redis with a fresh prefix, with test devices provisioned. */
export async function startBrokerHarness(
  settings: Partial<BrokerSettings> = {},
  { log = createLogger({ level: 'silent' }) }: { log?: Logger } = {},
): Promise<BrokerHarness> {
  const { redis, prefix } = await openTestRedis()
  const ingest = createIngest({
    clock: systemClock,
    redis,
    settings: {
      redisPrefix: prefix,
      logShards: 4,
      readingsRetention: 10_000,
      deviceReadingsRetention: 1000,
      deadLetterRetention: 1000,
    },
    log,
  })
  await ingest.registry.seed(testDevices)
  const broker = await createBroker({
    clock: systemClock,
    settings: {
      bindHost: '127.0.0.1',
      mqttPort: 0,
      mqttMaxPacketSize: 262_144,
      mqttConnectTimeout: 5000,
      mqttDrainTimeout: 5000,
      mqttRetainedMax: 100_000,
      mqttRetainedMaxBytes: 64 * 1_048_576,
      mqttRetainedPerClient: 10_000,
      mqttRetainedBytesPerClient: 8 * 1_048_576,
      mqttAuthPendingMax: 1000,
      mqttAuthPendingPerAddress: 64,
      mqttAuthPendingPerUser: 4,
      // Refusals are the tests' subject here, not their timing: answered after 50 ms instead of 1 s.
      mqttAuthFailureDelay: 50,
      mqttBacklogMax: 10_000,
      mqttSubscriberMaxLag: 10_000,
      mqttProxyProtocol: 'off',
      ...settings,
    },
    mqttAccounts: testAccounts,
    ingest,
    log,
  })
  const { mqttPort: port, mqttsPort } = await broker.listen()
  const clients: MqttClient[] = []
  const base = { host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: 5000 }
  // A device's client id is its id (DESIGN.md § MQTT): given unless the test sets one.
  const withClientId = (options: IClientOptions): IClientOptions =>
    options.clientId === undefined && testDevices.some((d) => d.id === options.username)
      ? { ...options, clientId: options.username }
      : options

  return {
    port,
    ...(mqttsPort === undefined ? {} : { mqttsPort }),
    ingest,
    broker,
    redis,
    prefix,
    connect: async (options) => {
      const client = await mqtt.connectAsync({ ...base, ...withClientId(options) })
      clients.push(client)
      return client
    },
    refusal: (options) =>
      new Promise((resolve, reject) => {
        const client = mqtt.connect({ ...base, ...withClientId(options) })
        clients.push(client)
        client.once('connect', () => reject(new Error('the broker accepted the connection')))
        client.once('error', (error) => resolve((error as Error & { code?: number }).code))
      }),
    close: async () => {
      await Promise.all(clients.map((client) => client.endAsync(true)))
      await broker.close()
      await redis.quit()
    },
  }
}
