// Issue 19, device commands: declared per device kind in the site file, published at QoS 1 through vigie's
// own broker, answered on the device's status topic, expired by the clock, listed by the API.
import type { Redis } from 'ioredis'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashApiKey } from '../../api/index.ts'
import { ConfigError, loadConfig } from '../../config/index.ts'
import { createManualClock } from '../support/manual-clock.ts'
import { openTestRedis } from '../support/redis.ts'
import { writeTempFile } from '../support/temp-files.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const keys = {
  dispatcher: 'dispatcher-key-commands-0123456',
  viewer: 'viewer-key-commands-01234567890',
  technician: 'technician-key-commands-0123456',
}
const siteFile = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
  - { id: door-1, kind: door, site: s1, secret: "secret-door-1" }
  - { id: door-2, kind: door, site: s1, secret: "secret-door-2" }
  - { id: door-3, kind: door, site: s1, secret: "secret-door-3" }
  - { id: temp-1, kind: temperature, site: s1, secret: "secret-temp-1" }
  - { id: door-4, kind: door, site: s1, secret: "secret-door-4", location: { lat: 49.0, lon: 2.57 } }
rules: [{ id: door-forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }]
technicians: [{ id: tech-1, name: One, phone: "+33600000001", skills: [security], location: { lat: 49.001, lon: 2.57 } }]
commands:
  door:
    lock: { args: { seconds: { type: integer, min: 1, max: 3600 } } }
    buzzer: {}
    reboot:
apiKeys:
  - { name: desk, keyHash: "${hashApiKey(keys.dispatcher)}", role: dispatcher }
  - { name: wall, keyHash: "${hashApiKey(keys.viewer)}", role: viewer }
  - { name: amina, keyHash: "${hashApiKey(keys.technician)}", role: technician, technician: tech-1 }
`

type Command = {
  id: string
  device: string
  name: string
  args: Record<string, unknown>
  status: string
  expiresAt: string
  detail?: string
}

const clock = createManualClock()
let vigie: TestService
let redis: Redis
const clients: MqttClient[] = []

async function call(path: string, { key = keys.dispatcher, body }: { key?: string; body?: unknown } = {}) {
  const res = await fetch(`${vigie.publicUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

const send = async (device: string, body: unknown): Promise<Command> => {
  const res = await call(`/api/devices/${device}/commands`, { body })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body as unknown as Command
}

const commandsOf = async (device: string): Promise<Command[]> =>
  (await call(`/api/devices/${device}/commands`)).body.items as Command[]

const statusOf = async (device: string, id: string) =>
  (await commandsOf(device)).find((c) => c.id === id)?.status

/** Connects as the device; `clean: false` keeps its session (and its QoS 1 queue) while it is away. */
async function connect(device: string, clean = true): Promise<MqttClient> {
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port: vigie.mqttPort,
    clientId: device,
    username: device,
    password: `secret-${device}`,
    reconnectPeriod: 0,
    clean,
  })
  clients.push(client)
  return client
}

/** The next command the client receives. */
const nextCommand = (client: MqttClient) =>
  new Promise<{ topic: string; message: Record<string, unknown> }>((resolve) =>
    client.once('message', (topic, payload) =>
      resolve({ topic, message: JSON.parse(payload.toString()) as Record<string, unknown> }),
    ),
  )

const answer = (client: MqttClient, device: string, body: unknown) =>
  client.publishAsync(`devices/${device}/status`, JSON.stringify(body), { qos: 1 })

/** The command events of the stream, as type and command id. */
async function commandEvents(): Promise<{ type: string; id: string; status: string }[]> {
  const entries = await redis.xrange(`${vigie.prefix}events`, '-', '+')
  return entries
    .map(([, fields]) => JSON.parse(fields[1] ?? '{}') as { type: string; id: string; command?: Command })
    .filter((e) => e.type.startsWith('command.'))
    .map((e) => ({ type: e.type, id: e.id, status: e.command?.status ?? '' }))
}

/** The broker role has published and acknowledged every outbox entry. */
async function outboxDone(): Promise<boolean> {
  const outbox = `${vigie.prefix}command-outbox`
  const [last] = await redis.xrevrange(outbox, '+', '-', 'COUNT', 1)
  const [group] = (await redis.xinfo('GROUPS', outbox)) as (string | number)[][]
  const info = Object.fromEntries(
    (group ?? []).flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1]]] : [])),
  ) as Record<string, unknown>
  return last !== undefined && info['last-delivered-id'] === last[0] && info.pending === 0
}

beforeAll(async () => {
  vigie = await startTestService({ site: siteFile, clock })
  ;({ redis } = await openTestRedis())
})

afterAll(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => {})
  await redis?.quit()
  await vigie?.close()
})

describe('device commands', () => {
  it('reaches a connected device on its topic; its answer makes the command done', async () => {
    const door = await connect('door-1')
    await door.subscribeAsync('devices/door-1/commands/#', { qos: 1 })
    const received = nextCommand(door)
    const sent = await send('door-1', { name: 'lock', args: { seconds: 30 }, ttl: 60 })
    expect(sent).toMatchObject({ device: 'door-1', name: 'lock', args: { seconds: 30 }, status: 'queued' })
    expect(Date.parse(sent.expiresAt)).toBe(clock.now() + 60_000)

    const { topic, message } = await received
    expect(topic).toBe('devices/door-1/commands/lock')
    expect(message).toEqual({ id: sent.id, name: 'lock', args: { seconds: 30 }, expiresAt: sent.expiresAt })
    await answer(door, 'door-1', { command: sent.id, result: 'done', detail: 'locked' })

    const done = await waitFor(async () => {
      const found = (await commandsOf('door-1')).find((c) => c.id === sent.id)
      return found?.status === 'done' && found
    })
    expect(done.detail).toBe('locked')
    // Queued, then done; sent too when the PUBACK came before the answer.
    const events = (await commandEvents()).filter((e) => e.id === sent.id).map((e) => e.type)
    expect(events[0]).toBe('command.queued')
    expect(events.at(-1)).toBe('command.done')
    expect(events.filter((t) => t !== 'command.sent')).toEqual(['command.queued', 'command.done'])
  })

  it('waits in the session of an offline device and is delivered when it comes back', async () => {
    const first = await connect('door-2', false)
    await first.subscribeAsync('devices/door-2/commands/#', { qos: 1 })
    await first.endAsync()

    const sent = await send('door-2', { name: 'buzzer' })
    // The relay has published it; aedes keeps it for the session, so it stays queued.
    await waitFor(outboxDone, { what: 'the relay to publish the outbox' })
    expect(await statusOf('door-2', sent.id)).toBe('queued')

    const back = mqtt.connect({
      host: '127.0.0.1',
      port: vigie.mqttPort,
      clientId: 'door-2',
      username: 'door-2',
      password: 'secret-door-2',
      reconnectPeriod: 0,
      clean: false,
    })
    clients.push(back)
    const { topic, message } = await nextCommand(back)
    expect(topic).toBe('devices/door-2/commands/buzzer')
    expect(message).toMatchObject({ id: sent.id, name: 'buzzer', args: {} })
    await waitFor(async () => (await statusOf('door-2', sent.id)) === 'sent', { what: 'sent on PUBACK' })
    await answer(back, 'door-2', { command: sent.id, result: 'failed', detail: 'jammed' })
    await waitFor(async () => (await statusOf('door-2', sent.id)) === 'failed')
    await back.endAsync()
  })

  it('expires a command its device did not answer within its ttl', async () => {
    const sent = await send('door-3', { name: 'reboot', ttl: 60 })
    clock.advance(59_000)
    expect(await statusOf('door-3', sent.id)).toBe('queued')
    clock.advance(2000)
    await waitFor(async () => (await statusOf('door-3', sent.id)) === 'expired', { what: 'expired' })
    expect((await commandEvents()).filter((e) => e.id === sent.id).map((e) => e.type)).toEqual([
      'command.queued',
      'command.expired',
    ])
    // An answer after the expiry changes nothing.
    const late = await connect('door-3')
    await answer(late, 'door-3', { command: sent.id, result: 'done' })
    expect(await statusOf('door-3', sent.id)).toBe('expired')
  })

  it('refuses a command the kind does not take, and args its schema refuses', async () => {
    const unknown = await call('/api/devices/door-1/commands', { body: { name: 'selfdestruct' } })
    expect(unknown.status).toBe(400)
    expect(JSON.stringify(unknown.body)).toContain('selfdestruct')
    const otherKind = await call('/api/devices/temp-1/commands', { body: { name: 'buzzer' } })
    expect(otherKind.status).toBe(400)
    expect(JSON.stringify(otherKind.body)).toContain('temperature')

    for (const args of [{ seconds: 0 }, { seconds: 3601 }, { seconds: 1.5 }, { seconds: '30' }, {}]) {
      const res = await call('/api/devices/door-1/commands', { body: { name: 'lock', args } })
      expect(res.status, JSON.stringify(args)).toBe(400)
      expect(JSON.stringify(res.body)).toContain('args.seconds')
    }
    const extra = await call('/api/devices/door-1/commands', {
      body: { name: 'lock', args: { seconds: 5, force: true } },
    })
    expect(extra.status).toBe(400)
    expect(JSON.stringify(extra.body)).toContain('args.force')
    const hostile = await call('/api/devices/door-1/commands', {
      body: { name: 'lock/../#', args: { seconds: 5 }, ttl: -1 },
    })
    expect(hostile.status).toBe(400)
    const noDevice = await call('/api/devices/nobody/commands', { body: { name: 'buzzer' } })
    expect(noDevice.status).toBe(404)
    const badTicket = await call('/api/devices/door-1/commands', { body: { name: 'buzzer', ticket: 'nope' } })
    expect(badTicket.status).toBe(400)
  })

  it('lets a viewer read commands but not send one; a technician needs an open ticket of theirs there', async () => {
    const viewerSends = await call('/api/devices/door-1/commands', {
      key: keys.viewer,
      body: { name: 'buzzer' },
    })
    expect(viewerSends.status).toBe(403)
    const viewerReads = await call('/api/devices/door-1/commands', { key: keys.viewer })
    expect(viewerReads.status).toBe(200)
    const technician = await call('/api/devices/door-1/commands', {
      key: keys.technician,
      body: { name: 'buzzer' },
    })
    expect(technician.status).toBe(403)
  })

  it("changes nothing on another device's answer, an unknown id or a second answer; a malformed one is a dead letter", async () => {
    const door1 = await connect('door-1')
    const door2 = await connect('door-2')
    const sent = await send('door-1', { name: 'buzzer' })
    await answer(door2, 'door-2', { command: sent.id, result: 'done' })
    await answer(door1, 'door-1', { command: 'no-such-command', result: 'done' })
    expect(await statusOf('door-1', sent.id)).not.toMatch(/done|failed/)

    await answer(door1, 'door-1', { command: sent.id, result: 'failed', detail: 'first' })
    await waitFor(async () => (await statusOf('door-1', sent.id)) === 'failed')
    await answer(door1, 'door-1', { command: sent.id, result: 'done', detail: 'second' })
    const after = (await commandsOf('door-1')).find((c) => c.id === sent.id)
    expect(after).toMatchObject({ status: 'failed', detail: 'first' })

    await answer(door1, 'door-1', { command: sent.id, result: 'maybe' })
    const dead = await waitFor(async () => {
      const res = await call('/api/dead-letters?device=door-1')
      const items = res.body.items as { reason: string }[]
      return items.find((d) => d.reason.startsWith('status:'))
    })
    expect(dead.reason).toContain('command')
    // The device stayed connected through all of it.
    expect(door1.connected).toBe(true)
  })

  it('lets the technician of an open ticket command its device, and notes the command on the ticket', async () => {
    await vigie.publish('door-4', { type: 'door', open: true })
    const ticket = await waitFor(async () => {
      const list = await vigie.api<{ items: { id: string; offer: { technician: string } | null }[] }>(
        '/api/tickets?device=door-4',
      )
      return list.items.find((t) => t.offer?.technician === 'tech-1')
    })
    const ack = await call(`/api/tickets/${ticket.id}/ack`, { key: keys.technician, body: {} })
    expect(ack.status).toBe(200)
    const sent = await call('/api/devices/door-4/commands', {
      key: keys.technician,
      body: { name: 'lock', args: { seconds: 10 }, ticket: ticket.id },
    })
    expect(sent.status, JSON.stringify(sent.body)).toBe(201)
    expect(sent.body).toMatchObject({ by: 'tech-1', ticket: ticket.id, status: 'queued' })
    const elsewhere = await call('/api/devices/door-1/commands', {
      key: keys.technician,
      body: { name: 'buzzer' },
    })
    expect(elsewhere.status).toBe(403)
    const timeline = await vigie.api<{ timeline: { by: string; detail: string | null }[] }>(
      `/api/tickets/${ticket.id}`,
    )
    expect(timeline.timeline.at(-1)).toMatchObject({
      by: 'tech-1',
      detail: `command lock ${sent.body.id as string} queued`,
    })
  })

  it("lists what a device's kind takes, with each command's args; none for a kind that takes none", async () => {
    const door = await call('/api/devices/door-1/commands/catalogue', { key: keys.viewer })
    expect(door).toEqual({
      status: 200,
      body: {
        device: 'door-1',
        kind: 'door',
        commands: [
          { name: 'lock', args: { seconds: { type: 'integer', min: 1, max: 3600, optional: false } } },
          { name: 'buzzer', args: {} },
          { name: 'reboot', args: {} },
        ],
      },
    })
    expect((await call('/api/devices/temp-1/commands/catalogue')).body.commands).toEqual([])
    expect((await call('/api/devices/nobody/commands/catalogue')).status).toBe(404)
    expect((await call('/api/devices/..%2F..%2Fx/commands/catalogue')).status).toBe(400)
    expect(
      (await call('/api/devices/door-1/commands/catalogue', { key: 'not-a-key-0123456789' })).status,
    ).toBe(401)
  })

  it('lists commands newest first, page by page', async () => {
    const ids = [] as string[]
    for (let i = 0; i < 3; i++) {
      clock.advance(1000)
      ids.push((await send('door-3', { name: 'buzzer' })).id)
    }
    const first = await call('/api/devices/door-3/commands?limit=2')
    expect((first.body.items as Command[]).map((c) => c.id)).toEqual([ids[2], ids[1]])
    const second = await call(`/api/devices/door-3/commands?limit=2&cursor=${first.body.next as string}`)
    expect((second.body.items as Command[]).map((c) => c.id)[0]).toBe(ids[0])
  })
})

describe("the site file's commands:", () => {
  const siteWith = (commands: string) => `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
commands:
${commands}
`
  function problemsOf(text: string) {
    try {
      loadConfig({ env: { VIGIE_CONFIG: writeTempFile('site.yaml', text) } })
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)
    }
    throw new Error('expected the file to be refused')
  }

  it('refuses an unknown kind, a bad name, an unknown arg type and min above max, each at its path', () => {
    expect(problemsOf(siteWith('  toaster: { reboot: {} }')).join('\n')).toContain('commands.toaster')
    expect(problemsOf(siteWith('  door: { "lock/#": {} }')).join('\n')).toContain(
      'commands.door.lock/#: Invalid key',
    )
    expect(
      problemsOf(siteWith('  door: { lock: { args: { seconds: { type: date } } } }')).join('\n'),
    ).toContain('commands.door.lock.args.seconds.type')
    expect(
      problemsOf(siteWith('  door: { lock: { args: { s: { type: integer, min: 5, max: 1 } } } }')).join('\n'),
    ).toContain('min is above max')
    expect(
      problemsOf(siteWith('  door: { say: { args: { text: { type: string } } } }')).join('\n'),
    ).toContain('commands.door.say.args.text.maxLength')
  })

  it('reads the small spec: bare names take no args', () => {
    const config = loadConfig({
      env: {
        VIGIE_CONFIG: writeTempFile(
          'site.yaml',
          siteWith(
            '  door: { buzzer: {}, reboot: , mode: { args: { to: { type: enum, values: [day, night] } } } }',
          ),
        ),
      },
    })
    expect(config.site.commands.door).toEqual({
      buzzer: { args: {} },
      reboot: { args: {} },
      mode: { args: { to: { type: 'enum', values: ['day', 'night'], optional: false } } },
    })
  })
})
