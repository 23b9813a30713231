// Issue 19 with MQTT_EXTERNAL_URL: vigie runs no broker, so the broker role publishes device commands through
// its client of the external broker (a real mosquitto here); `sent` is that broker's PUBACK.
import { chmodSync } from 'node:fs'
import { dirname } from 'node:path'
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isVigieError, systemClock } from '../../domain/index.ts'
import { createExternalBrokerIngest, createIngest } from '../../ingest/index.ts'
import { createLogger } from '../../service/index.ts'
import { createManualClock } from '../support/manual-clock.ts'
import { type Mosquitto, startMosquitto } from '../support/mosquitto.ts'
import { openTestRedis } from '../support/redis.ts'
import { writeTempFile } from '../support/temp-files.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const siteFile = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
  - { id: door-1, kind: door, site: s1, secret: "secret-door-1" }
  - { id: door-2, kind: door, site: s1, secret: "secret-door-2" }
  - { id: door-3, kind: door, site: s1, secret: "secret-door-3" }
commands: { door: { lock: { args: { seconds: { type: integer, min: 1, max: 3600 } } }, buzzer: } }
`
type Command = { id: string; status: string; detail?: string; expiresAt: string }

const clock = createManualClock()
let mosquitto: Mosquitto
let vigie: TestService
const clients: MqttClient[] = []

beforeAll(async () => {
  mosquitto = await startMosquitto()
  vigie = await startTestService({ site: siteFile, clock, env: { MQTT_EXTERNAL_URL: mosquitto.url } })
})
afterAll(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => {})
  await vigie?.close()
  await mosquitto?.stop()
})

/** A device of the fleet: it talks to mosquitto, never to vigie. */
async function device(id: string, clean = true): Promise<MqttClient> {
  const client = await mqtt.connectAsync(mosquitto.url, { clientId: id, clean, reconnectPeriod: 0 })
  clients.push(client)
  return client
}
const nextCommand = (client: MqttClient) =>
  new Promise<{ topic: string; message: Record<string, unknown>; qos: number }>((resolve) =>
    client.once('message', (topic, payload, packet: IPublishPacket) =>
      resolve({ topic, message: JSON.parse(payload.toString()) as Record<string, unknown>, qos: packet.qos }),
    ),
  )
const send = (id: string, body: Record<string, unknown>) =>
  vigie.api<Command>(`/api/devices/${id}/commands`, { method: 'POST', body })
const commandOf = async (id: string, command: string) =>
  (await vigie.api<{ items: Command[] }>(`/api/devices/${id}/commands`)).items.find((c) => c.id === command)
const reaches = (id: string, command: string, status: string) =>
  waitFor(async () => (await commandOf(id, command))?.status === status, { what: `${command} ${status}` })

describe('device commands through an external broker', () => {
  it('reaches a device subscribed there at QoS 1; its answer through the broker makes the command done', async () => {
    expect(vigie.service.mqttPort).toBeUndefined()
    const door = await device('door-1')
    await door.subscribeAsync('devices/door-1/commands/#', { qos: 1 })
    const received = nextCommand(door)
    const sent = await send('door-1', { name: 'lock', args: { seconds: 30 }, ttl: 60 })
    const { topic, message, qos } = await received
    expect(topic).toBe('devices/door-1/commands/lock')
    expect(qos).toBe(1)
    expect(message).toEqual({ id: sent.id, name: 'lock', args: { seconds: 30 }, expiresAt: sent.expiresAt })
    await door.publishAsync('devices/door-1/status', JSON.stringify({ command: sent.id, result: 'done' }), {
      qos: 1,
    })
    await reaches('door-1', sent.id, 'done')
  })

  it('is sent once the broker has it, though the device is away; the broker hands it over when it is back', async () => {
    const away = await device('door-2', false)
    await away.subscribeAsync('devices/door-2/commands/#', { qos: 1 })
    await away.endAsync()

    const sent = await send('door-2', { name: 'buzzer', ttl: 600 })
    await reaches('door-2', sent.id, 'sent')
    const back = mqtt.connect(mosquitto.url, { clientId: 'door-2', clean: false, reconnectPeriod: 0 })
    clients.push(back)
    const { topic, message } = await nextCommand(back)
    expect(topic).toBe('devices/door-2/commands/buzzer')
    expect(message.id).toBe(sent.id)
    await back.publishAsync(
      'devices/door-2/status',
      JSON.stringify({ command: sent.id, result: 'failed', detail: 'jammed' }),
      { qos: 1 },
    )
    await reaches('door-2', sent.id, 'failed')
    expect((await commandOf('door-2', sent.id))?.detail).toBe('jammed')
  })

  it('is sent even with nobody subscribed, and expires unanswered after its ttl', async () => {
    const sent = await send('door-3', { name: 'buzzer', ttl: 60 })
    await reaches('door-3', sent.id, 'sent')
    clock.advance(61_000)
    await reaches('door-3', sent.id, 'expired')
  })
})

describe('publishing through the external broker client', () => {
  const log = createLogger({ level: 'silent' })

  it('refuses before it is started, and fails when the broker refuses the publish (its PUBACK says so)', async () => {
    // Anonymous clients of this broker may read the device topics but publish nowhere.
    const acl = writeTempFile('acl', 'topic read devices/#\n')
    // mosquitto reads its ACL after dropping root for its own user.
    chmodSync(dirname(acl), 0o755)
    chmodSync(acl, 0o644)
    const strict = await startMosquitto({ config: [`acl_file ${acl}`] })
    const { redis, prefix } = await openTestRedis()
    const ingest = createIngest({
      clock: systemClock,
      redis,
      settings: {
        redisPrefix: prefix,
        logShards: 1,
        readingsRetention: 1000,
        deviceReadingsRetention: 100,
        deadLetterRetention: 100,
      },
      log,
    })
    const external = createExternalBrokerIngest({
      url: strict.url,
      ingest,
      log,
      clock: systemClock,
      clientId: 'vigie-ingest-strict',
    })
    try {
      const early = await external.publish('devices/door-1/commands/buzzer', '{}').catch((e: unknown) => e)
      expect(isVigieError(early) && early.code).toBe('MQTT_EXTERNAL_UNAVAILABLE')
      await external.start()
      await expect(external.publish('devices/door-1/commands/buzzer', '{}')).rejects.toThrow(
        /not authorized/i,
      )
    } finally {
      await external.close()
      await strict.stop()
      await redis.quit()
    }
  })
})
