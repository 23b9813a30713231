import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectLaggingSubscriber } from '../../bench/lagging-subscriber.ts'
import { startVigieProcess, type VigieProcess } from '../support/vigie-process.ts'
import { waitFor } from '../support/wait-for.ts'

const devices = Array.from({ length: 40 }, (_, i) => `temp-${i + 1}`)
const site = `
sites: [{ id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
${devices.map((id) => `  - { id: ${id}, kind: temperature, site: s1, secret: "secret-${id}" }`).join('\n')}
rules: []
mqttAccounts:
  - { username: lagging, password: "lagging-password", subscribe: ["devices/#"] }
`
const backlogMax = 500
const inFlight = 10

let vigie: VigieProcess
const clients: MqttClient[] = []

beforeAll(async () => {
  vigie = await startVigieProcess({
    site,
    env: {
      MQTT_SUBSCRIBER_MAX_LAG: '2s',
      MQTT_BACKLOG_MAX: String(backlogMax),
      RATE_LIMIT_HEAVY: '100000',
    },
  })
})
afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)))
  await vigie?.stop()
})

const connectDevice = async (id: string) => {
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port: vigie.mqttPort,
    clientId: id,
    username: id,
    password: `secret-${id}`,
    reconnectPeriod: 0,
  })
  client.on('error', () => {})
  clients.push(client)
  return client
}

describe('devices publishing as fast as they can, with an integration that cannot keep up', () => {
  it('drop the integration with a log line, keep the backlog bounded, and lose no acknowledged reading', async () => {
    const fleet = await Promise.all(devices.map(connectDevice))
    const lagging = await connectLaggingSubscriber({
      port: vigie.mqttPort,
      username: 'lagging',
      password: 'lagging-password',
      filter: 'devices/#',
      bytesPerSecond: 2000,
    })
    let running = true
    let acked = 0
    let seq = 0
    const flows = fleet.map(async (client, i) => {
      const topic = `devices/${devices[i]}/telemetry`
      const one = async (): Promise<void> => {
        while (running) {
          const payload = JSON.stringify({ type: 'temperature', celsius: 21, seq: ++seq })
          await client.publishAsync(topic, payload, { qos: 1 })
          acked++
        }
      }
      await Promise.all(Array.from({ length: inFlight }, one))
    })
    let peakBacklog = 0
    const sampler = setInterval(() => {
      void vigie
        .metric('vigie_mqtt_backlog_messages')
        .then((backlog) => {
          peakBacklog = Math.max(peakBacklog, backlog)
        })
        .catch(() => {})
    }, 100)
    try {
      await waitFor(() => lagging.droppedAt() !== null, {
        what: 'the lagging integration dropped',
        timeoutMs: 30_000,
        intervalMs: 100,
      })
    } finally {
      running = false
      clearInterval(sampler)
      await Promise.all(flows)
      lagging.close()
    }
    const dropLine =
      vigie.process
        .output()
        .split('\n')
        .find((line) => line.includes('too far behind')) ?? ''
    expect(JSON.parse(dropLine)).toMatchObject({ level: 40, clientId: expect.stringMatching(/^lagging-/) })
    expect(acked).toBeGreaterThan(0)
    // Bounded: what the bus may hold, plus per device what it had in flight and what was acknowledged but not
    // yet handed on when the bus closed its doors.
    expect(peakBacklog).toBeLessThanOrEqual(backlogMax + devices.length * inFlight * 2)
    expect(await vigie.metric('vigie_readings_stored_total')).toBeGreaterThanOrEqual(acked)
    expect(await vigie.metric('vigie_mqtt_slow_clients_dropped_total')).toBe(1)
    // Still serving: the API answers and a device's reading is stored and acknowledged.
    expect((await fetch(`${vigie.httpUrl}/healthz`)).status).toBe(200)
    await fleet[0]?.publishAsync('devices/temp-1/telemetry', '{"type":"temperature","celsius":22}', {
      qos: 1,
    })
  })
})
