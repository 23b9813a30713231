import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrokerHarness, startBrokerHarness } from '../support/broker-harness.ts'
import { waitFor } from '../support/wait-for.ts'

let harness: BrokerHarness
beforeAll(async () => {
  harness = await startBrokerHarness()
})
afterAll(() => harness.close())

const device = () => harness.connect({ username: 'temp-1', password: 'secret-temp-1' })
const integration = () => harness.connect({ username: 'integration', password: 'integration-password' })
const closed = (client: MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()))
/** The QoS granted, or 128 when refused (mqtt.js rejects a refused subscription, carrying the SUBACK). */
async function granted(client: MqttClient, filter: string): Promise<number | undefined> {
  try {
    return (await client.subscribeAsync(filter, { qos: 1 }))[0]?.qos
  } catch (error) {
    return (error as { packet?: { granted?: number[] } }).packet?.granted?.[0]
  }
}

describe('what a device may publish', () => {
  it('may publish under its own devices/<id>/', async () => {
    const client = await device()
    await client.publishAsync(
      'devices/temp-1/telemetry',
      JSON.stringify({ type: 'temperature', celsius: 20 }),
      { qos: 1 },
    )
    expect(await harness.ingest.readings.recent('temp-1', 1)).toMatchObject([
      { device: 'temp-1', celsius: 20 },
    ])
  })

  it('is disconnected for publishing as another device, and nothing is stored', async () => {
    const client = await device()
    const gone = closed(client)
    client.publish('devices/door-1/telemetry', JSON.stringify({ type: 'door', open: true }), { qos: 1 })
    await gone
    expect(await harness.ingest.readings.recent('door-1', 10)).toEqual([])
  })

  it('is disconnected for publishing to $SYS/', async () => {
    const client = await harness.connect({ username: 'integration', password: 'integration-password' })
    const gone = closed(client)
    client.publish('$SYS/broker/fake', 'x', { qos: 1 })
    await gone
  })
})

describe('what a device may subscribe to', () => {
  it('gets its own commands and is refused anything else with SUBACK 0x80', async () => {
    const client = await device()
    expect(await granted(client, 'devices/temp-1/commands/#')).toBe(1)
    expect(await granted(client, 'devices/temp-1/commands/reboot')).toBe(1)
    expect(await granted(client, '#')).toBe(128)
    expect(await granted(client, 'devices/+/commands/#')).toBe(128)
    expect(await granted(client, 'devices/temp-1/telemetry')).toBe(128)
    expect(client.connected).toBe(true)
  })

  it('receives a command an integration sends it', async () => {
    const client = await device()
    await client.subscribeAsync('devices/temp-1/commands/#', { qos: 1 })
    const received = new Promise<string>((resolve) => client.once('message', (topic) => resolve(topic)))
    await (await integration()).publishAsync('devices/temp-1/commands/reboot', 'now', { qos: 1 })
    expect(await received).toBe('devices/temp-1/commands/reboot')
  })
})

describe('service accounts', () => {
  it('publish by their allow list and never to a denied topic', async () => {
    const client = await integration()
    await client.publishAsync('integrations/erp/sync', 'ok', { qos: 1 })
    const gone = closed(client)
    client.publish('devices/temp-1/commands/secret/key', 'x', { qos: 1 })
    await gone
  })

  it('are refused a subscription inside a denied filter, and a wider one never delivers denied topics', async () => {
    const watcher = await integration()
    expect(await granted(watcher, 'devices/+/commands/secret/#')).toBe(128)
    expect(await granted(watcher, 'devices/#')).toBe(1)
    const topics: string[] = []
    watcher.on('message', (topic) => topics.push(topic))
    const operator = await harness.connect({ username: 'operator', password: 'operator-password' })
    // Messages of one publisher arrive in order: once the marker is in, the denied one would have been too.
    await operator.publishAsync('devices/temp-1/commands/secret/rotate', 'x', { qos: 1 })
    await operator.publishAsync('devices/temp-1/commands/marker', 'x', { qos: 1 })
    await waitFor(() => topics.includes('devices/temp-1/commands/marker'), { what: 'the marker' })
    expect(topics.filter((topic) => topic.includes('/secret/'))).toEqual([])
  })

  it('do not see $ topics through #', async () => {
    const client = await integration()
    expect(await granted(client, '#')).toBe(1)
    const topics: string[] = []
    client.on('message', (topic) => topics.push(topic))
    await client.publishAsync('integrations/marker', 'x', { qos: 1 })
    await waitFor(() => topics.includes('integrations/marker'), { what: 'the marker' })
    expect(topics.filter((topic) => topic.startsWith('$'))).toEqual([])
  })
})
