import type { Redis } from 'ioredis'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../domain/index.ts'
import { createIngest, type Ingest } from '../../ingest/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

// Issue 17: two broker nodes of one deployment (MQTT_CLUSTER=on) on one Redis, each in this process.
const site = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices: [{ id: door-1, kind: door, site: s1, secret: "secret-door-1" }]
rules: []
mqttAccounts:
  - { username: watcher, password: "watcher-password", subscribe: ["devices/#"] }
  - { username: other, password: "other-password", subscribe: ["devices/#"] }
`
const env = { VIGIE_ROLES: 'broker', MQTT_CLUSTER: 'on' }

let nodeA: TestService
let nodeB: TestService
let ingest: Ingest
let redis: Redis
const clients: MqttClient[] = []

beforeAll(async () => {
  nodeA = await startTestService({ site, env })
  nodeB = await startTestService({ site, env, prefix: nodeA.prefix })
  ;({ redis } = await openTestRedis())
  ingest = createIngest({
    clock: systemClock,
    redis,
    settings: {
      redisPrefix: nodeA.prefix,
      logShards: 16,
      readingsRetention: 10_000,
      deviceReadingsRetention: 1000,
      deadLetterRetention: 100,
    },
    log: createLogger({ level: 'silent' }),
  })
})
afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)))
  await nodeA?.close()
  await nodeB?.close()
  await redis?.quit()
})

async function connect(node: TestService, options: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port: node.mqttPort,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  })
  client.on('error', () => {}) // a takeover ends a connection: expected
  clients.push(client)
  return client
}

/** The CONNACK return code of a refused connection. */
function refusal(node: TestService, options: IClientOptions): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({ host: '127.0.0.1', port: node.mqttPort, reconnectPeriod: 0, ...options })
    clients.push(client)
    client.once('connect', () => reject(new Error('the broker accepted the connection')))
    client.once('error', (error) => resolve((error as Error & { code?: number }).code))
  })
}

const door = (clientOptions: IClientOptions = {}): IClientOptions => ({
  clientId: 'door-1',
  username: 'door-1',
  password: 'secret-door-1',
  will: { topic: 'devices/door-1/status', payload: Buffer.from('offline'), qos: 1, retain: false },
  ...clientOptions,
})

const account = (username: string, clientId: string, clean: boolean): IClientOptions => ({
  username,
  password: `${username}-password`,
  clientId,
  clean,
})

describe('several broker nodes on one Redis', () => {
  it('ends the session of a device that reconnected to another node, without its will, and keeps it online', async () => {
    const watcher = await connect(nodeB, account('watcher', 'watcher-status', true))
    const seen: string[] = []
    watcher.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`))
    await watcher.subscribeAsync('devices/door-1/#', { qos: 1 })

    const first = await connect(nodeA, door())
    await first.publishAsync('devices/door-1/status', 'online', { qos: 1 })
    await waitFor(async () => (await ingest.states.get('door-1')).online, { what: 'door-1 online' })
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()))

    const second = await connect(nodeB, door())
    await firstClosed
    // Published on node B after node A ended the replaced session: by then its will was judged.
    await second.publishAsync('devices/door-1/telemetry', JSON.stringify({ type: 'door', open: false }), {
      qos: 1,
    })
    await waitFor(() => seen.some((line) => line.startsWith('devices/door-1/telemetry')), {
      what: 'the reading after the takeover, through the shared bus',
    })

    expect(seen).toContain('devices/door-1/status online')
    expect(seen).not.toContain('devices/door-1/status offline')
    expect((await ingest.states.get('door-1')).online).toBe(true)
    expect(second.connected).toBe(true)
    expect(first.connected).toBe(false)
  })

  it("keeps a persistent session's client id for its account on every node", async () => {
    const owner = await connect(nodeA, account('watcher', 'watcher-persistent', false))
    await owner.subscribeAsync('devices/+/telemetry', { qos: 1 })
    // Online on node A: another account may not take it over from node B.
    expect(await refusal(nodeB, account('other', 'watcher-persistent', true))).toBe(2)
    await owner.endAsync()
    // Offline, its queue in Redis: still not another account's.
    expect(await refusal(nodeB, account('other', 'watcher-persistent', false))).toBe(2)
    const back = await connect(nodeB, account('watcher', 'watcher-persistent', false))
    expect(back.connected).toBe(true)
  })

  it("keeps two deployments on one Redis apart: one's messages never reach the other's subscribers", async () => {
    const elsewhere = await startTestService({ site, env })
    try {
      const watcher = await connect(elsewhere, account('watcher', 'watcher-elsewhere', true))
      const seen: string[] = []
      watcher.on('message', (_topic, payload) => seen.push(JSON.parse(payload.toString()).from))
      await watcher.subscribeAsync('devices/#', { qos: 1 })
      await nodeA.publish('door-1', { type: 'door', open: true, from: 'this deployment' })
      await elsewhere.publish('door-1', { type: 'door', open: true, from: 'the other deployment' })
      await waitFor(() => seen.includes('the other deployment'), { what: "the other deployment's reading" })
      expect(seen).toEqual(['the other deployment'])
    } finally {
      await elsewhere.close()
    }
  })

  it("frees a clean session's client id on every node once its connection ends", async () => {
    const holder = await connect(nodeA, account('watcher', 'shared-name', true))
    expect(await refusal(nodeB, account('other', 'shared-name', true))).toBe(2)
    await holder.endAsync()
    const next = await waitFor(
      () => connect(nodeB, account('other', 'shared-name', true)).catch(() => undefined),
      { what: 'the freed client id' },
    )
    expect(next.connected).toBe(true)
  })
})
