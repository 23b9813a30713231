import { once } from 'node:events'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawConnected } from '../support/raw-mqtt.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const site = `
sites: [{ id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
  - { id: door-1, kind: door, site: s1, secret: "secret-door-1" }
  - { id: door-2, kind: door, site: s1, secret: "secret-door-2" }
  - { id: temp-1, kind: temperature, site: s1, secret: "secret-temp-1" }
rules: []
mqttAccounts:
  - { username: integration, password: "integration-password", publish: ["devices/+/commands/#", "integrations/#"], subscribe: ["#"] }
  - { username: bridge, password: "bridge-password", publish: ["integrations/#"], subscribe: ["#"] }
`

let world: TestService
const clients: MqttClient[] = []

beforeAll(async () => {
  world = await startTestService({ site })
})
afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)))
  await world?.close()
})

const base = () => ({ host: '127.0.0.1', port: world.mqttPort, reconnectPeriod: 0, connectTimeout: 5000 })

async function connect(options: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync({ ...base(), ...options })
  clients.push(client)
  return client
}

/** The CONNACK refusal code, or 0 when the broker let the client in. */
function connackCode(options: IClientOptions): Promise<number> {
  return new Promise((resolve) => {
    const client = mqtt.connect({ ...base(), ...options })
    clients.push(client)
    client.once('connect', () => resolve(0))
    client.once('error', (error) => resolve((error as Error & { code?: number }).code ?? -1))
  })
}

const device = (id: string, options: IClientOptions = {}): IClientOptions => ({
  username: id,
  password: `secret-${id}`,
  clientId: id,
  ...options,
})
const online = async (id: string) => (await world.api<{ online: boolean }>(`/api/devices/${id}`)).online

describe("a device logging in under another device's client id", () => {
  it('is refused with CONNACK 2, and the real device keeps its session and its queued command', async () => {
    const victim = await connect(device('door-1', { clean: false }))
    await victim.subscribeAsync('devices/door-1/commands/#', { qos: 1 })
    await victim.endAsync()
    const integration = await connect({ username: 'integration', password: 'integration-password' })
    await integration.publishAsync('devices/door-1/commands/unlock', '{"id":"c1"}', { qos: 1 })

    const stolen: string[] = []
    const attacker = mqtt.connect({ ...base(), ...device('door-2', { clientId: 'door-1', clean: false }) })
    clients.push(attacker)
    attacker.on('message', (topic) => stolen.push(topic))
    const outcome = await new Promise<number>((resolve) => {
      attacker.once('connect', () => resolve(0))
      attacker.once('error', (error) => resolve((error as Error & { code?: number }).code ?? -1))
    })
    if (outcome === 0) await waitFor(() => stolen.length > 0, { what: 'what the attacker receives' })
    expect(stolen).toEqual([])
    expect(outcome).toBe(2)

    const received: string[] = []
    const back = mqtt.connect({ ...base(), ...device('door-1', { clean: false }) })
    clients.push(back)
    back.on('message', (topic) => received.push(topic))
    await waitFor(() => back.connected, { what: 'door-1 back' })
    await waitFor(() => received.includes('devices/door-1/commands/unlock'), { what: 'the queued command' })
    expect(stolen).toEqual([])
  })

  it('is refused for any client id but its own device id, empty included', async () => {
    expect(await connackCode(device('door-2', { clientId: 'someone-else' }))).toBe(2)
    expect(await connackCode(device('door-2', { clientId: '' }))).toBe(2)
    expect(await connackCode(device('door-2'))).toBe(0)
  })
})

describe('an account', () => {
  it("is refused a device's id as its client id", async () => {
    expect(
      await connackCode({ username: 'integration', password: 'integration-password', clientId: 'temp-1' }),
    ).toBe(2)
  })

  it('is refused a client id whose persistent session belongs to another account, and keeps its own', async () => {
    const owner = await connect({
      username: 'integration',
      password: 'integration-password',
      clientId: 'shared-name',
      clean: false,
    })
    await owner.subscribeAsync('integrations/owned/#', { qos: 1 })
    await owner.endAsync()
    expect(
      await connackCode({ username: 'bridge', password: 'bridge-password', clientId: 'shared-name' }),
    ).toBe(2)
    const again = await connect({
      username: 'integration',
      password: 'integration-password',
      clientId: 'shared-name',
      clean: false,
    })
    expect(again.connected).toBe(true)
  })

  it('is refused a client id another account holds online', async () => {
    await connect({ username: 'integration', password: 'integration-password', clientId: 'live-name' })
    expect(
      await connackCode({ username: 'bridge', password: 'bridge-password', clientId: 'live-name' }),
    ).toBe(2)
  })

  it('may use any other client id, and an empty one with a clean session', async () => {
    expect(
      await connackCode({ username: 'bridge', password: 'bridge-password', clientId: 'mosqsub|4242-host' }),
    ).toBe(0)
    expect(await connackCode({ username: 'bridge', password: 'bridge-password', clientId: '' })).toBe(0)
  })
})

describe('a client id over 256 bytes', () => {
  const long = '€'.repeat(86) // 258 bytes in 86 characters
  it.each([3, 4] as const)(
    'is refused with CONNACK 2 in MQTT protocol version %i',
    async (protocolVersion) => {
      expect(
        await connackCode({
          username: 'integration',
          password: 'integration-password',
          clientId: long,
          protocolVersion,
        }),
      ).toBe(2)
    },
  )
})

describe('online state', () => {
  it('stays online when a device takes over its own session, its old will notwithstanding', async () => {
    const will = {
      topic: 'devices/door-2/status',
      payload: Buffer.from('offline'),
      qos: 1 as const,
      retain: false,
    }
    const first = await connect(device('door-2', { will }))
    first.on('error', () => {})
    await waitFor(() => online('door-2'), { what: 'door-2 online' })
    const second = await connect(device('door-2', { will }))
    await waitFor(() => first.disconnected || !first.connected, { what: 'the first session kicked' })
    // A reading after the takeover orders every write of the takeover before it in the log.
    await second.publishAsync('devices/door-2/telemetry', '{"type":"door","open":false}', { qos: 1 })
    await waitFor(
      async () =>
        (await world.api<{ lastSeen: string | null }>('/api/devices/door-2')).lastSeen !== null
          ? true
          : undefined,
      { what: 'the reading' },
    )
    expect(await online('door-2')).toBe(true)
  })

  it('turns offline at the keepalive of a device that vanished without a will', async () => {
    const socket = await rawConnected(world.mqttPort, {
      clientId: 'temp-1',
      username: 'temp-1',
      password: 'secret-temp-1',
      keepalive: 1,
    })
    await waitFor(() => online('temp-1'), { what: 'temp-1 online' })
    await once(socket, 'close')
    await waitFor(async () => !(await online('temp-1')), { what: 'temp-1 offline' })
  })
})
