import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import type { Redis } from 'ioredis'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Device } from '../../config/index.ts'
import { isVigieError, systemClock } from '../../domain/index.ts'
import {
  createExternalBrokerIngest,
  createIngest,
  type ExternalBrokerIngest,
  type Ingest,
} from '../../ingest/index.ts'
import { createLogger, findFreePort, type Logger } from '../../service/index.ts'
import { type Mosquitto, startMosquitto } from '../support/mosquitto.ts'
import { openTestRedis } from '../support/redis.ts'
import { waitFor } from '../support/wait-for.ts'

const devices: Device[] = [
  { id: 'temp-1', kind: 'temperature', site: 's1', secret: 'secret-temp-1' },
  { id: 'door-1', kind: 'door', site: 's1', secret: 'secret-door-1' },
]
// mosquitto without a password file takes any credentials; vigie must still keep these out of its logs.
const password = 'not-for-logs-7f3a'

let mosquitto: Mosquitto
beforeAll(async () => {
  mosquitto = await startMosquitto()
})
afterAll(() => mosquitto?.stop())

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

type Setup = {
  ingest: Ingest
  redis: Redis
  logs: () => string
  external: (clientId?: string) => ExternalBrokerIngest
  device: () => Promise<MqttClient>
}

/** A fresh key prefix, the test devices provisioned, and external ingests writing to it. */
async function setUp(): Promise<Setup> {
  const { redis, prefix } = await openTestRedis()
  cleanups.push(() => redis.quit())
  const { log, lines } = capturedLogger()
  const ingest = createIngest({
    clock: systemClock,
    redis,
    settings: {
      redisPrefix: prefix,
      logShards: 2,
      readingsRetention: 10_000,
      deviceReadingsRetention: 1000,
      deadLetterRetention: 1000,
    },
    log,
  })
  await ingest.registry.seed(devices)
  const url = `mqtt://vigie:${password}@127.0.0.1:${mosquitto.port}`
  // One session per test: a shared client id would hand one test's queued readings to another.
  const session = `vigie-ingest-${randomUUID()}`
  return {
    ingest,
    redis,
    logs: lines,
    external: (clientId = session) => {
      const external = createExternalBrokerIngest({ clock: systemClock, url, ingest, log, clientId })
      cleanups.push(() => external.close())
      return external
    },
    device: async () => {
      const client = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0, clientId: randomUUID() })
      cleanups.push(() => client.endAsync(true))
      return client
    },
  }
}

/** A debug logger whose lines the test reads, to check what vigie logs and what it never does. */
function capturedLogger(): { log: Logger; lines: () => string } {
  let text = ''
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString()
      done()
    },
  })
  return { log: createLogger({ level: 'debug', destination }), lines: () => text }
}

const temperature = (celsius: number, seq: number) => JSON.stringify({ type: 'temperature', celsius, seq })

describe('external-broker ingest', () => {
  it('stores QoS 1 telemetry a device publishes through mosquitto', async () => {
    const { ingest, external, device, logs } = await setUp()
    const listener = external()
    expect(listener.isReady()).toBe(false)
    await listener.start()
    expect(listener.isReady()).toBe(true)

    const client = await device()
    await client.publishAsync('devices/temp-1/telemetry', temperature(21.5, 1), { qos: 1 })

    const [reading] = await waitFor(async () => {
      const recent = await ingest.readings.recent('temp-1', 5)
      return recent.length > 0 && recent
    })
    expect(reading).toMatchObject({ device: 'temp-1', type: 'temperature', celsius: 21.5, seq: 1 })
    expect(logs()).toContain('external broker connected')
    expect(logs()).toContain(`127.0.0.1:${mosquitto.port}`)
    expect(logs()).not.toContain(password)

    await listener.close()
    expect(listener.isReady()).toBe(false)
  })

  it('keeps bad input as dead letters and goes on with the next reading', async () => {
    const { ingest, external, device } = await setUp()
    await external().start()
    const client = await device()
    await client.publishAsync('devices/temp-1/telemetry', '{"type":"temperature",', { qos: 1 })
    await client.publishAsync('devices/temp-1/telemetry', JSON.stringify({ type: 'door', open: true }), {
      qos: 1,
    })
    await client.publishAsync('devices/ghost-9/telemetry', temperature(20, 1), { qos: 1 })
    await client.publishAsync('devices/temp-1/telemetry', temperature(22, 2), { qos: 1 })

    await waitFor(async () => (await ingest.readings.recent('temp-1', 1))[0]?.seq === 2, {
      what: 'the good reading after the bad ones',
    })
    const letters = await ingest.deadLetters.list({ device: 'temp-1', limit: 10 })
    expect(letters.map((letter) => letter.reason)).toEqual([
      'type: a temperature device does not send "door" readings',
      expect.stringMatching(/^not JSON: /),
    ])
    expect(letters[1]).toMatchObject({ topic: 'devices/temp-1/telemetry', payload: '{"type":"temperature",' })
    expect(await ingest.deadLetters.count('temp-1')).toBe(2)
    expect(await ingest.deadLetters.list({ device: 'ghost-9', limit: 10 })).toMatchObject([
      { device: 'ghost-9', reason: 'device: no such device' },
    ])
    expect(await ingest.readings.recent('temp-1', 10)).toHaveLength(1)
  })

  it('takes online and offline from devices/<id>/status', async () => {
    const { ingest, external, device } = await setUp()
    await external().start()
    const client = await device()

    await client.publishAsync('devices/door-1/status', 'online', { qos: 1 })
    const online = await waitFor(async () => {
      const state = await ingest.states.get('door-1')
      return state.online && state
    })
    expect(online.statusAt).not.toBeNull()

    await client.publishAsync('devices/door-1/status', 'offline', { qos: 1 })
    await waitFor(async () => !(await ingest.states.get('door-1')).online, { what: 'door-1 offline' })
    expect(await ingest.readings.recent('door-1', 1)).toEqual([])
  })

  it('receives, once started again, the readings published while it was closed', async () => {
    const { ingest, external, device } = await setUp()
    const first = external()
    await first.start()
    await first.close()

    const client = await device()
    for (let seq = 1; seq <= 5; seq++) {
      await client.publishAsync('devices/temp-1/telemetry', temperature(20 + seq, seq), { qos: 1 })
    }
    // Acknowledged by mosquitto, and nothing of vigie is listening: the readings wait in the session.
    expect(await ingest.readings.recent('temp-1', 10)).toEqual([])

    // A new process, the same client id: the session, and what it queued, is found again.
    await external().start()
    const recent = await waitFor(async () => {
      const readings = await ingest.readings.recent('temp-1', 10)
      return readings.length === 5 && readings
    })
    expect(recent.map((reading) => reading.seq)).toEqual([5, 4, 3, 2, 1])
  })

  it('keeps the order of each device while several publish at once', async () => {
    const { ingest, external, device } = await setUp()
    await external().start()
    const [thermometer, door] = await Promise.all([device(), device()])
    const count = 200
    const sent: Promise<unknown>[] = []
    for (let seq = 1; seq <= count; seq++) {
      const opened = JSON.stringify({ type: 'door', open: seq % 2 === 0, seq })
      sent.push(thermometer.publishAsync('devices/temp-1/telemetry', temperature(seq / 10, seq), { qos: 1 }))
      sent.push(door.publishAsync('devices/door-1/telemetry', opened, { qos: 1 }))
    }
    await Promise.all(sent)

    for (const id of ['temp-1', 'door-1']) {
      const readings = await waitFor(
        async () => {
          const recent = await ingest.readings.recent(id, count)
          return recent.length === count && recent
        },
        { what: `${count} readings of ${id}` },
      )
      const seqs = readings.map((reading) => reading.seq).reverse()
      expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i + 1))
    }
  })

  it('does not acknowledge a reading it could not store, and stores it when Redis is back', async () => {
    const { ingest, external, device, logs, redis } = await setUp()
    await external().start()
    const client = await device()

    redis.disconnect()
    await client.publishAsync('devices/temp-1/telemetry', temperature(30, 7), { qos: 1 })
    await waitFor(() => logs().includes('message not stored; reconnecting to have it redelivered'), {
      what: 'the failed store to be logged',
    })

    await redis.connect()
    // Only mosquitto still holds it: it comes back because vigie never sent the PUBACK.
    const [reading] = await waitFor(
      async () => {
        const recent = await ingest.readings.recent('temp-1', 5)
        return recent.length > 0 && recent
      },
      { what: 'the redelivered reading' },
    )
    expect(reading).toMatchObject({ device: 'temp-1', celsius: 30, seq: 7 })
    expect(logs()).not.toContain(password)
  })

  it('subscribes again, and says so, when the broker restarted without its sessions', async () => {
    const { ingest } = await setUp()
    let restartable = await startMosquitto()
    cleanups.push(() => restartable.stop())
    const { log, lines } = capturedLogger()
    const listener = createExternalBrokerIngest({ clock: systemClock, url: restartable.url, ingest, log })
    cleanups.push(() => listener.close())
    await listener.start()

    await restartable.stop()
    await waitFor(() => !listener.isReady(), { what: 'the lost connection to show in readiness' })
    restartable = await startMosquitto({ port: restartable.port })
    await waitFor(() => listener.isReady(), { what: 'the connection to come back' })
    expect(lines()).toContain('external broker lost the session; readings sent meanwhile may be missing')

    const client = await mqtt.connectAsync(restartable.url, { reconnectPeriod: 0 })
    cleanups.push(() => client.endAsync(true))
    await client.publishAsync('devices/temp-1/telemetry', temperature(18, 3), { qos: 1 })
    await waitFor(async () => (await ingest.readings.recent('temp-1', 1))[0]?.seq === 3, {
      what: 'a reading through the restarted broker',
    })
  })

  it('fails its start with a message naming MQTT_EXTERNAL_URL, without the password', async () => {
    const { ingest } = await setUp()
    const { log, lines } = capturedLogger()
    const port = await findFreePort()
    const listener = createExternalBrokerIngest({
      clock: systemClock,
      url: `mqtt://vigie:${password}@127.0.0.1:${port}`,
      ingest,
      log,
    })

    const error = await listener.start().then(
      () => undefined,
      (reason: unknown) => reason,
    )
    expect(isVigieError(error) && error.code).toBe('MQTT_EXTERNAL_UNAVAILABLE')
    expect(String((error as Error).message)).toMatch(
      new RegExp(
        `^MQTT_EXTERNAL_URL: cannot take readings from mqtt://127\\.0\\.0\\.1:${port}.*ECONNREFUSED`,
      ),
    )
    expect(String((error as Error).message)).not.toContain(password)
    expect(lines()).not.toContain(password)
    expect(listener.isReady()).toBe(false)
  })
})
