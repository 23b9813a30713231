import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const site = `
sites: [{ id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
  - { id: door-1, kind: door, site: s1, secret: "secret-door-1" }
  - { id: door-2, kind: door, site: s1, secret: "secret-door-2" }
rules: []
mqttAccounts:
  - { username: watcher, password: "watcher-password", subscribe: ["#"] }
  - { username: filler, password: "filler-password", publish: ["fill/#"], subscribe: ["#"] }
  - { username: other, password: "other-password", publish: ["other/#"], subscribe: ["#"] }
`

let world: TestService
const clients: MqttClient[] = []

beforeAll(async () => {
  world = await startTestService({
    site,
    env: {
      MQTT_RETAINED_MAX: '80',
      MQTT_RETAINED_MAX_BYTES: '1048576',
      MQTT_RETAINED_PER_CLIENT: '50',
      MQTT_RETAINED_BYTES_PER_CLIENT: '20480',
    },
  })
})
afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)))
  await world?.close()
})

async function connect(options: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port: world.mqttPort,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  })
  client.on('error', () => {})
  clients.push(client)
  return client
}
const device = (id: string) => connect({ username: id, password: `secret-${id}`, clientId: id })
const account = (name: string) => connect({ username: name, password: `${name}-password` })

/** Publishes at QoS 1 and tells whether the broker acknowledged it (false: it closed the connection). */
async function accepted(client: MqttClient, topic: string, payload: string, retain = false) {
  let onClose = () => {}
  const closed = new Promise<false>((resolve) => {
    onClose = () => resolve(false)
    client.once('close', onClose)
  })
  // The listener goes with the answer: a client that publishes fifty times must not collect fifty of them.
  return Promise.race([
    client.publishAsync(topic, payload, { qos: 1, retain }).then(() => true),
    closed,
  ]).finally(() => client.off('close', onClose))
}

/** Retained messages a new subscriber to `filter` is given: at least `expected`, then a marker closes the count. */
async function retainedUnder(filter: string, expected: number): Promise<string[]> {
  const reader = await account('watcher')
  const topics: string[] = []
  reader.on('message', (topic, _payload, packet) => {
    if (packet.retain) topics.push(topic)
  })
  const marked: string[] = []
  reader.on('message', (topic) => {
    if (topic === 'fill/marker') marked.push(topic)
  })
  await reader.subscribeAsync(filter, { qos: 1 })
  await waitFor(() => topics.length >= expected, { what: `${expected} retained messages` })
  await reader.subscribeAsync('fill/marker', { qos: 1 })
  const writer = await account('filler')
  await writer.publishAsync('fill/marker', 'm', { qos: 1 })
  await waitFor(() => marked.length > 0, { what: 'the marker' })
  return topics
}

describe('what a device may publish', () => {
  it('is its telemetry and its status only: any other topic of its own closes the connection', async () => {
    const watcher = await account('watcher')
    const seen: string[] = []
    watcher.on('message', (topic) => seen.push(topic))
    await watcher.subscribeAsync('devices/#', { qos: 1 })

    const door = await device('door-1')
    expect(await accepted(door, 'devices/door-1/commands/unlock', '{"id":"x"}')).toBe(false)
    const again = await device('door-1')
    expect(await accepted(again, 'devices/door-1/firmware', 'evil')).toBe(false)
    const third = await device('door-1')
    expect(await accepted(third, 'devices/door-1/telemetry', '{"type":"door","open":false}')).toBe(true)
    expect(await accepted(third, 'devices/door-1/status', 'online')).toBe(true)
    await waitFor(() => seen.includes('devices/door-1/status'), { what: 'the status' })
    expect(seen).not.toContain('devices/door-1/commands/unlock')
    expect(seen).not.toContain('devices/door-1/firmware')
  })

  it('retains only on its status', async () => {
    const door = await device('door-2')
    expect(await accepted(door, 'devices/door-2/telemetry', '{"type":"door","open":true}', true)).toBe(false)
    const again = await device('door-2')
    expect(await accepted(again, 'devices/door-2/status', 'online', true)).toBe(true)
    const retained = await retainedUnder('devices/door-2/#', 1)
    expect(retained).toEqual(['devices/door-2/status'])
  })
})

describe('retained messages', () => {
  it('are capped per client in count: the 51st closes the connection and is not kept', async () => {
    let filler = await account('filler')
    let kept = 0
    for (let i = 0; i < 60; i++) {
      if (!(await accepted(filler, `fill/count/${i}`, 'x', true))) {
        filler = await account('filler')
        continue
      }
      kept++
    }
    expect(kept).toBe(50)
    expect(await retainedUnder('fill/count/#', 50)).toHaveLength(50)
    // Clearing one (an empty retained payload) makes room for another.
    expect(await accepted(filler, 'fill/count/0', '', true)).toBe(true)
    expect(await accepted(filler, 'fill/count/new', 'x', true)).toBe(true)
    for (let i = 0; i < 60; i++) await accepted(filler, `fill/count/${i}`, '', true)
    await accepted(filler, 'fill/count/new', '', true)
  })

  it('are capped per client in bytes', async () => {
    const filler = await account('filler')
    expect(await accepted(filler, 'fill/bytes/a', 'x'.repeat(15_000), true)).toBe(true)
    expect(await accepted(filler, 'fill/bytes/b', 'x'.repeat(15_000), true)).toBe(false)
    const again = await account('filler')
    // Replacing its own message counts its new size only.
    expect(await accepted(again, 'fill/bytes/a', 'y'.repeat(16_000), true)).toBe(true)
    expect(await accepted(again, 'fill/bytes/a', '', true)).toBe(true)
  })

  it('are capped in all, across clients', async () => {
    let filler = await account('filler')
    let other = await account('other')
    let kept = 0
    for (let i = 0; i < 45; i++) {
      if (await accepted(filler, `fill/total/${i}`, 'x', true)) kept++
      else filler = await account('filler')
      if (await accepted(other, `other/total/${i}`, 'x', true)) kept++
      else other = await account('other')
    }
    // door-2's retained status is one of the 80.
    expect(kept).toBe(79)
  })
})
