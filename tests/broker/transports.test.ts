import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createReadiness } from '../../api/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createLogger } from '../../service/index.ts'
import { type BrokerHarness, startBrokerHarness } from '../support/broker-harness.ts'
import { makeTempDir } from '../support/temp-files.ts'

const reading = (celsius: number) => JSON.stringify({ type: 'temperature', celsius })

describe('MQTT over TLS', () => {
  let harness: BrokerHarness
  let mqttsPort = 0
  let cert: Buffer

  beforeAll(async () => {
    const dir = makeTempDir()
    const [certPath, keyPath] = [join(dir, 'cert.pem'), join(dir, 'key.pem')]
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'].concat([
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ]),
      { stdio: 'ignore' },
    )
    cert = readFileSync(certPath)
    harness = await startBrokerHarness({ mqttsPort: 0, tlsCert: certPath, tlsKey: keyPath })
    mqttsPort = harness.mqttsPort ?? 0
  })
  afterAll(() => harness.close())

  it('authenticates a device and stores its readings', async () => {
    const client = await mqtt.connectAsync({
      protocol: 'mqtts',
      host: 'localhost',
      port: mqttsPort,
      ca: cert,
      username: 'temp-1',
      clientId: 'temp-1',
      password: 'secret-temp-1',
      reconnectPeriod: 0,
    })
    await client.publishAsync('devices/temp-1/telemetry', reading(22.5), { qos: 1 })
    expect((await harness.ingest.readings.recent('temp-1', 1))[0]).toMatchObject({ celsius: 22.5 })
    await client.endAsync()
  })
})

describe('MQTT over WebSocket at /mqtt', () => {
  let harness: BrokerHarness
  let app: FastifyInstance
  let url = ''

  beforeAll(async () => {
    harness = await startBrokerHarness()
    app = await buildApi({
      clock: systemClock,
      log: createLogger({ level: 'silent' }),
      apiKeys: [],
      readiness: createReadiness(),
      mqttOverWebSocket: harness.broker.handleWebSocket,
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const address = app.server.address()
    url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/mqtt`
  })
  afterAll(async () => {
    await app.close()
    await harness.close()
  })

  it('authenticates a device and stores its readings', async () => {
    const client = await mqtt.connectAsync(url, {
      username: 'temp-1',
      clientId: 'temp-1',
      password: 'secret-temp-1',
      reconnectPeriod: 0,
    })
    await client.publishAsync('devices/temp-1/telemetry', reading(23.5), { qos: 1 })
    expect((await harness.ingest.readings.recent('temp-1', 1))[0]).toMatchObject({ celsius: 23.5 })
    await client.endAsync()
  })

  it('refuses bad credentials with CONNACK 4', async () => {
    const code = await new Promise((resolve) => {
      const client = mqtt.connect(url, { username: 'temp-1', password: 'wrong', reconnectPeriod: 0 })
      client.once('error', (error) => {
        client.end(true)
        resolve((error as Error & { code?: number }).code)
      })
    })
    expect(code).toBe(4)
  })

  it('closes a connection sending an oversize packet', async () => {
    const client = await mqtt.connectAsync(url, {
      username: 'door-1',
      clientId: 'door-1',
      password: 'secret-door-1',
      reconnectPeriod: 0,
    })
    client.on('error', () => {})
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    client.publish('devices/door-1/telemetry', Buffer.alloc(300 * 1024, 0x20), { qos: 0 })
    await closed
    expect(client.connected).toBe(false)
  })
})
