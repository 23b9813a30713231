import { connect as connectTcp, type Socket } from 'node:net'
import mqtt from 'mqtt'
import mqttPacket from 'mqtt-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecret, hashSecret, ingestKeys, storedScheme } from '../../ingest/index.ts'
import { type BrokerHarness, startBrokerHarness } from '../support/broker-harness.ts'
import { startTestService } from '../support/test-service.ts'

let harness: BrokerHarness
beforeAll(async () => {
  harness = await startBrokerHarness()
})
afterAll(() => harness.close())

const utf8 = (text: string) => {
  const bytes = Buffer.from(text)
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes])
}

/** A CONNECT built by hand: mqtt-packet refuses to encode an empty client id without a clean session. */
function connectBytes({
  clientId,
  clean,
  username,
  password,
}: {
  clientId: string
  clean: boolean
  username: string
  password: string
}) {
  const flags = 0x80 | 0x40 | (clean ? 0x02 : 0)
  const body = Buffer.concat([
    utf8('MQTT'),
    Buffer.from([4, flags, 0, 30]),
    utf8(clientId),
    utf8(username),
    utf8(password),
  ])
  return Buffer.concat([Buffer.from([0x10, body.length]), body])
}

/** Sends one raw CONNECT and resolves with the CONNACK return code. */
function rawConnect(port: number, packet: Parameters<typeof connectBytes>[0]): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connectTcp(port, '127.0.0.1')
    const parser = mqttPacket.parser()
    parser.on('packet', (reply) => {
      socket.destroy()
      if (reply.cmd === 'connack') resolve(reply.returnCode ?? -1)
      else reject(new Error(`unexpected ${reply.cmd}`))
    })
    socket.on('data', (chunk) => parser.parse(chunk))
    socket.on('error', reject)
    socket.write(connectBytes(packet))
  })
}

describe('device authentication', () => {
  it('accepts a device with its id and secret', async () => {
    const client = await harness.connect({ username: 'temp-1', password: 'secret-temp-1' })
    expect(client.connected).toBe(true)
  })

  it('refuses a wrong secret, an unknown device and missing credentials with CONNACK 4', async () => {
    expect(await harness.refusal({ username: 'temp-1', password: 'wrong-secret' })).toBe(4)
    expect(await harness.refusal({ username: 'nobody', password: 'secret-temp-1' })).toBe(4)
    expect(await harness.refusal({})).toBe(4)
  })

  it('accepts a service account by its password', async () => {
    const client = await harness.connect({ username: 'integration', password: 'integration-password' })
    expect(client.connected).toBe(true)
    expect(await harness.refusal({ username: 'integration', password: 'nope' })).toBe(4)
  })

  it('refuses a will on another device topic with CONNACK 5', async () => {
    const code = await harness.refusal({
      username: 'temp-1',
      password: 'secret-temp-1',
      will: { topic: 'devices/door-1/status', payload: Buffer.from('offline'), qos: 1, retain: false },
    })
    expect(code).toBe(5)
  })

  it('refuses an empty client id with a persistent session with CONNACK 2 [MQTT-3.1.3-8]', async () => {
    const credentials = { username: 'operator', password: 'operator-password' }
    expect(await rawConnect(harness.port, { ...credentials, clientId: '', clean: false })).toBe(2)
    expect(await rawConnect(harness.port, { ...credentials, clientId: '', clean: true })).toBe(0)
  })
})

describe('issued and chosen secrets', () => {
  const storedHash = async (id: string) =>
    (await harness.redis.hget(ingestKeys(harness.prefix).device(id), 'secretHash')) ?? ''
  const login = (id: string, password: string) => ({ clientId: id, username: id, password })

  it('stores a secret vigie issues with the keyed hash; it logs in, a wrong one and a near-miss do not', async () => {
    const { secret } = await harness.ingest.registry.add({ id: 'door-issued', kind: 'door', site: 's1' })
    expect(storedScheme(await storedHash('door-issued'))).toBe('hmac-sha256')
    expect((await harness.connect(login('door-issued', secret))).connected).toBe(true)
    expect(await harness.refusal(login('door-issued', generateSecret()))).toBe(4)
    // The checksum's last character off by one: a typo is refused, not taken for a chosen secret.
    const nearMiss = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A')
    expect(await harness.refusal(login('door-issued', nearMiss))).toBe(4)
    expect(await harness.refusal(login('door-issued', 'secret-temp-1'))).toBe(4)
  })

  it('keeps scrypt for a secret a person chose in the site file', async () => {
    expect(storedScheme(await storedHash('temp-1'))).toBe('scrypt')
    expect((await harness.connect(login('temp-1', 'secret-temp-1'))).connected).toBe(true)
  })
})

describe('a site file', () => {
  it('loads devices with a keyed secretHash and with a scrypt one, and both log in', async () => {
    const issued = generateSecret()
    const site = `
sites: [{ id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
  - { id: door-issued, kind: door, site: s1, secretHash: "${await hashSecret(issued)}" }
  - { id: door-chosen, kind: door, site: s1, secretHash: "${await hashSecret('a-chosen-secret', { N: 1024, r: 8, p: 1 })}" }
rules: []
`
    const service = await startTestService({ site })
    try {
      for (const [id, password] of [
        ['door-issued', issued],
        ['door-chosen', 'a-chosen-secret'],
      ] as const) {
        const client = await mqtt.connectAsync({
          host: '127.0.0.1',
          port: service.mqttPort,
          clientId: id,
          username: id,
          password,
          reconnectPeriod: 0,
        })
        expect(client.connected).toBe(true)
        await client.endAsync()
      }
    } finally {
      await service.close()
    }
  })
})
