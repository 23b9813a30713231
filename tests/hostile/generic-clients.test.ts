import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { promisify } from 'node:util'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

// Debian's mosquitto-clients, installed by `node scripts/setup.mjs --need mosquitto-clients` (npm test does).
const run = promisify(execFile)

const site = `
sites: [{ id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
  - { id: door-1, kind: door, site: s1, secret: "secret-door-1" }
rules: []
mqttAccounts:
  - { username: integration, password: "integration-password", publish: ["devices/+/commands/#"], subscribe: ["#"] }
  - { username: other, password: "other-password", subscribe: ["#"] }
`

let world: TestService
beforeAll(async () => {
  world = await startTestService({ site })
})
afterAll(() => world?.close())

const as = (user: string) => [
  '-h',
  '127.0.0.1',
  '-p',
  String(world.mqttPort),
  '-u',
  user,
  '-P',
  `${user}-password`,
]

/** mosquitto_sub until it has printed `count` messages; resolves with its output once it is subscribed. */
function subscribe(args: string[], count: number) {
  // Line-buffered: its debug lines ("received SUBACK") reach the pipe as they are printed, not at its exit.
  const child = spawn('stdbuf', ['-oL', 'mosquitto_sub', ...args, '-C', String(count), '-v', '-d'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    text += chunk.toString()
  })
  const exited = once(child, 'exit').then(([code]) => code as number)
  return {
    subscribed: () =>
      waitFor(() => text.includes('Client') && text.includes('received SUBACK'), { what: 'its SUBACK' }),
    output: () => text,
    exited,
    stop: () => child.kill(),
  }
}

describe('mosquitto_sub and mosquitto_pub on an integration account', () => {
  it('receive readings, MQTT 3.1.1 and 3.1, with the client id they make up themselves', async () => {
    for (const version of ['mqttv311', 'mqttv31']) {
      const sub = subscribe([...as('integration'), '-V', version, '-t', 'devices/+/telemetry', '-q', '1'], 1)
      await sub.subscribed()
      await world.publish('door-1', { type: 'door', open: false })
      expect(await sub.exited).toBe(0)
      expect(sub.output()).toContain('devices/door-1/telemetry {"type":"door","open":false}')
    }
  })

  it('send a device its command, which the device receives', async () => {
    const device = await mqtt.connectAsync({
      host: '127.0.0.1',
      port: world.mqttPort,
      clientId: 'door-1',
      username: 'door-1',
      password: 'secret-door-1',
      reconnectPeriod: 0,
    })
    const got: string[] = []
    device.on('message', (topic, payload) => got.push(`${topic} ${payload}`))
    await device.subscribeAsync('devices/door-1/commands/#', { qos: 1 })
    await run('mosquitto_pub', [
      ...as('integration'),
      '-t',
      'devices/door-1/commands/unlock',
      '-m',
      '{"id":"c1"}',
      '-q',
      '1',
    ])
    await waitFor(() => got.length > 0, { what: 'the command' })
    expect(got).toEqual(['devices/door-1/commands/unlock {"id":"c1"}'])
    await device.endAsync()
  })

  it('keep a persistent session under their own client id, which no other account may take', async () => {
    const first = subscribe([...as('integration'), '-i', 'bridge-1', '-c', '-t', 'devices/#', '-q', '1'], 1)
    await first.subscribed()
    first.stop()
    await first.exited
    // Queued for the session while it is away, delivered when it comes back.
    await world.publish('door-1', { type: 'door', open: true, badge: 'b-1' })
    const back = subscribe([...as('integration'), '-i', 'bridge-1', '-c', '-t', 'devices/#', '-q', '1'], 1)
    expect(await back.exited).toBe(0)
    expect(back.output()).toContain('devices/door-1/telemetry {"type":"door","open":true,"badge":"b-1"}')
    const thief = await run('mosquitto_sub', [
      ...as('other'),
      '-i',
      'bridge-1',
      '-c',
      '-t',
      '#',
      '-C',
      '1',
    ]).catch((error: { stderr?: string; code?: number }) => error)
    expect(thief).toMatchObject({ code: expect.any(Number) })
    expect(String((thief as { stderr?: string }).stderr)).toMatch(/identifier rejected/i)
  })
})
