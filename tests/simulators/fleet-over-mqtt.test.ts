import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { siteFileSchema } from '../../config/index.ts'
import { readingPayloadSchema } from '../../domain/index.ts'
import { createFleet, createMqttTransport, type Fleet, simulatableDevices } from '../../simulators/index.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

// Twenty devices in two zones, each with the secret-<id> the test service's publish helper also uses.
const ids = {
  z1: ['t1', 't2', 't3', 't4', 't5', 't6', 'door-1', 'door-2', 'door-3', 'aed-1'],
  z2: ['t7', 't8', 't9', 't10', 't11', 't12', 'door-4', 'door-5', 'door-6', 'aed-2'],
}
const kindOf = (id: string) => (id.startsWith('t') ? 'temperature' : id.startsWith('door') ? 'door' : 'aed')
const siteFile = `
sites:
  - { id: s1, name: Terminal, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: z1, name: One }, { id: z2, name: Two }] }
devices:
${Object.entries(ids)
  .flatMap(([zone, list]) =>
    list.map(
      (id) => `  - { id: ${id}, kind: ${kindOf(id)}, site: s1, zone: ${zone}, secret: "secret-${id}" }`,
    ),
  )
  .join('\n')}
rules:
  - { id: door-forced, name: Door forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }
`

type Reading = { device: string; type: string; ts: string; seq?: number }
type Device = { id: string; online: boolean }
type Ticket = { id: string; rule: string; device: string; status: string }

let world: TestService
let fleet: Fleet

beforeAll(async () => {
  world = await startTestService({ site: siteFile })
  const site = siteFileSchema.parse(parse(siteFile))
  fleet = createFleet({
    sites: site.sites,
    devices: simulatableDevices(site.devices).devices,
    seed: 'over-mqtt',
    pace: { readingEveryMs: 400, heartbeatEveryMs: 2_000 },
    transport: createMqttTransport({ url: `mqtt://127.0.0.1:${world.mqttPort}` }),
  })
  fleet.start()
  await waitFor(() => fleet.stats().connected === 20, { what: 'twenty devices connected', timeoutMs: 20_000 })
})
afterAll(async () => {
  await fleet?.close()
  await world?.close()
})

const readingsOf = (device: string) =>
  world.api<{ items: Reading[] }>(`/api/devices/${device}/readings?limit=20`).then((r) => r.items)

describe('a simulated fleet over real MQTT', () => {
  it("lands every device's readings in vigie, acknowledged, valid and in order", async () => {
    for (const device of [...ids.z1, ...ids.z2]) {
      const items = await waitFor(
        async () => ((await readingsOf(device)).length >= 3 ? readingsOf(device) : false),
        {
          what: `readings of ${device}`,
        },
      )
      for (const { device: _device, ts: _ts, ...payload } of items) {
        expect(readingPayloadSchema.safeParse(payload).success).toBe(true)
        expect(['heartbeat', kindOf(device)]).toContain(payload.type)
      }
      const seqs = items.map((r) => r.seq ?? 0)
      expect(seqs).toEqual([...seqs].sort((a, b) => b - a))
    }
    const stats = fleet.stats()
    expect(stats.acked).toBeGreaterThan(60)
    expect(stats.failed).toBe(0)
    expect(stats.pubackP99Ms).not.toBeNull()
    const dead = await world.api<{ items: unknown[] }>('/api/dead-letters?device=t1')
    expect(dead.items).toEqual([])
  })

  it('opens a ticket when a door is forced, and the door closes again at the end', async () => {
    const before = await world.api<{ items: Ticket[] }>('/api/tickets?device=door-2')
    expect(before.items).toEqual([])
    const run = fleet.startScenario('door-forced', { target: 'door-2' })
    expect(run.devices).toEqual(['door-2'])
    const ticket = await waitFor(
      async () => (await world.api<{ items: Ticket[] }>('/api/tickets?device=door-2')).items[0],
      { what: 'a ticket for door-2' },
    )
    expect(ticket).toMatchObject({ rule: 'door-forced', device: 'door-2' })
    run.end()
    await waitFor(
      async () => {
        const [last] = await world
          .api<{ items: (Reading & { open?: boolean })[] }>('/api/devices/door-2/readings?limit=1')
          .then((r) => r.items)
        return (
          last?.type === 'door' && last.open === false && last.ts >= new Date(run.startedAt).toISOString()
        )
      },
      { what: 'door-2 closed again' },
    )
  })

  it("drops a zone's devices together on a power cut, and brings them back at the end", async () => {
    const device = (id: string) => world.api<Device>(`/api/devices/${id}`)
    const run = fleet.startScenario('zone-power-cut', { target: 'z2' })
    expect([...run.devices].sort()).toEqual([...ids.z2].sort())
    expect(fleet.stats().connected).toBe(10)
    for (const id of ids.z2)
      await waitFor(async () => (await device(id)).online === false, { what: `${id} offline` })
    expect((await device('t1')).online).toBe(true)
    const silentSince = new Date().toISOString()
    const latest = await readingsOf('t7')
    run.end()
    await waitFor(() => fleet.stats().connected === 20, { what: 'the zone reconnected' })
    for (const id of ids.z2)
      await waitFor(async () => (await device(id)).online, { what: `${id} online again` })
    const after = await waitFor(async () => {
      const items = await readingsOf('t7')
      return items[0] && items[0].ts > silentSince ? items : false
    })
    expect(after[0]?.seq).toBeGreaterThan(latest[0]?.seq ?? 0)
  })
})
