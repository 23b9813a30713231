// Issue 19: the fleet simulator's devices take commands over their real MQTT connection and answer them on
// their status topic, with the commands the demo site declares.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { demoSitePath, siteFileSchema } from '../../config/index.ts'
import {
  answerCommand,
  createFleet,
  createMqttTransport,
  type Fleet,
  simulatableDevices,
} from '../../simulators/index.ts'
import { createManualClock } from '../support/manual-clock.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const demo = parse(readFileSync(demoSitePath, 'utf8')) as {
  commands: Record<string, Record<string, unknown>>
}
// The demo's commands, and one the simulator does not know, so that vigie sends it.
const commands = { ...demo.commands, door: { ...demo.commands.door, selftest: null } }
const siteFile = `
sites: [{ id: s1, name: Terminal, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
  - { id: door-1, kind: door, site: s1, secret: "secret-door-1" }
  - { id: aed-1, kind: aed, site: s1, secret: "secret-aed-1" }
  - { id: temp-1, kind: temperature, site: s1, secret: "secret-temp-1" }
commands: ${JSON.stringify(commands)}
`

type Command = { id: string; status: string; detail?: string }
type Reading = { type: string; ts: string; seq?: number; open?: boolean }

// vigie's clock runs ten minutes behind the devices': a command of a one-minute ttl is past its expiry by the
// device's clock when it arrives, while vigie still takes its answer.
const vigieClock = createManualClock({ start: Date.now() - 600_000 })
let world: TestService
let fleet: Fleet

beforeAll(async () => {
  world = await startTestService({ site: siteFile, clock: vigieClock })
  const site = siteFileSchema.parse(parse(siteFile))
  fleet = createFleet({
    sites: site.sites,
    devices: simulatableDevices(site.devices).devices,
    seed: 'commands',
    // A day between readings: what the test sees is what the commands cause.
    pace: { readingEveryMs: 86_400_000, heartbeatEveryMs: 86_400_000 },
    transport: createMqttTransport({ url: `mqtt://127.0.0.1:${world.mqttPort}` }),
  })
  fleet.start()
  await waitFor(() => fleet.stats().connected === 3, { what: 'three devices connected' })
})
afterAll(async () => {
  await fleet?.close()
  await world?.close()
})

const send = (device: string, body: Record<string, unknown>) =>
  world.api<Command>(`/api/devices/${device}/commands`, { method: 'POST', body: { ttl: 3600, ...body } })

/** The command once the device's answer has settled it. */
const settled = (device: string, id: string) =>
  waitFor(
    async () => {
      const { items } = await world.api<{ items: Command[] }>(`/api/devices/${device}/commands`)
      const found = items.find((c) => c.id === id)
      return found && (found.status === 'done' || found.status === 'failed') && found
    },
    { what: `the answer to ${id}` },
  )

const readingsOf = (device: string) =>
  world.api<{ items: Reading[] }>(`/api/devices/${device}/readings?limit=20`).then((r) => r.items)

describe('the simulated fleet answers commands', () => {
  it('sounds the buzzer of a cabinet: done', async () => {
    const sent = await send('aed-1', { name: 'buzzer' })
    expect(await settled('aed-1', sent.id)).toMatchObject({ status: 'done', detail: 'buzzed' })
  })

  it('locks a forced door: done, and the door is closed', async () => {
    fleet.startScenario('door-forced', { target: 'door-1' })
    await waitFor(async () => (await readingsOf('door-1'))[0]?.open === true, { what: 'door-1 open' })
    const sent = await send('door-1', { name: 'lock', args: { seconds: 600 } })
    expect(await settled('door-1', sent.id)).toMatchObject({ status: 'done', detail: 'locked for 600s' })
    const [latest] = await waitFor(
      async () => {
        const items = await readingsOf('door-1')
        return items[0]?.open === false && items
      },
      { what: 'door-1 closed' },
    )
    expect(latest).toMatchObject({ type: 'door', open: false })
  })

  it('reboots a sensor: done, and it says at once how it is', async () => {
    const before = await readingsOf('temp-1')
    const sent = await send('temp-1', { name: 'reboot' })
    expect(await settled('temp-1', sent.id)).toMatchObject({ status: 'done', detail: 'restarted' })
    const after = await waitFor(
      async () => {
        const items = await readingsOf('temp-1')
        return items.length >= before.length + 2 && items
      },
      { what: 'the readings after the reboot' },
    )
    // A heartbeat and a temperature reading, stamped at the same instant.
    expect(
      after
        .slice(0, 2)
        .map((r) => r.type)
        .sort(),
    ).toEqual(['heartbeat', 'temperature'])
    expect(after[0]?.ts).toBe(after[1]?.ts)
  })

  it('answers failed to a command it does not know', async () => {
    const sent = await send('door-1', { name: 'selftest' })
    expect(await settled('door-1', sent.id)).toMatchObject({
      status: 'failed',
      detail: 'unknown command selftest',
    })
  })

  it('answers failed to a command past its expiry by its own clock', async () => {
    const sent = await send('aed-1', { name: 'buzzer', ttl: 60 })
    const answered = await settled('aed-1', sent.id)
    expect(answered.status).toBe('failed')
    expect(answered.detail).toBe(`expired at ${new Date(vigieClock.now() + 60_000).toISOString()}`)
  })
})

describe('what a simulated device makes of a command message', () => {
  const now = Date.parse('2026-12-01T10:00:00Z')
  const message = (fields: Record<string, unknown>) =>
    JSON.stringify({ id: 'c-1', name: 'lock', args: {}, expiresAt: '2026-12-01T10:05:00Z', ...fields })
  const answer = (payload: string, kind: 'door' | 'aed' = 'door', topicName = 'lock') =>
    answerCommand({ kind, topicName, payload, now })

  it('leaves unanswered what names no command id', () => {
    for (const payload of ['', 'not json', 'null', '[]', '{"id":5}', JSON.stringify({ id: 'x'.repeat(65) })])
      expect(answer(payload), payload).toBeNull()
  })

  it('fails a malformed message, a name other than its topic, a bad expiry, and a lock without a door', () => {
    expect(answer(message({ args: 'open' }))?.answer).toMatchObject({ result: 'failed' })
    expect(answer(message({ name: 'x'.repeat(10_000) }))?.answer.detail?.length).toBeLessThanOrEqual(200)
    expect(answer(message({ expiresAt: 'soon' }))?.answer.detail).toBe('expired at soon')
    expect(answer(message({}), 'aed')?.answer).toEqual({
      command: 'c-1',
      result: 'failed',
      detail: 'a aed device has no lock',
    })
  })

  it('locks for the seconds asked, or five minutes when none or nonsense is asked', () => {
    expect(answer(message({ args: { seconds: 30 } }))?.change).toEqual({
      type: 'door-lock',
      until: now + 30_000,
    })
    expect(answer(message({ args: { seconds: -3 } }))?.change).toEqual({
      type: 'door-lock',
      until: now + 300_000,
    })
  })
})
