import { describe, expect, it } from 'vitest'
import { siteFileSchema } from '../../config/index.ts'
import {
  createFleet,
  createManualClock,
  type SimReading,
  simulatableDevices,
  waitOn,
} from '../../simulators/index.ts'
import { type Published, recordingTransport } from './recording-transport.ts'

// 08:00 in Paris on a summer Monday: inside the access hours, doors get opened.
const start = Date.UTC(2026, 5, 15, 6, 0)

const site = siteFileSchema.parse({
  sites: [
    {
      id: 's1',
      name: 'Terminal',
      timezone: 'Europe/Paris',
      location: { lat: 49, lon: 2.57 },
      accessHours: '05:00-23:30',
      zones: [
        { id: 'lounges', name: 'Lounges' },
        { id: 'gates', name: 'Gates' },
      ],
    },
  ],
  devices: [
    ...['t1', 't2', 't3'].map((id) => ({
      id,
      kind: 'temperature',
      site: 's1',
      zone: 'lounges',
      secret: `secret-${id}`,
    })),
    ...['d1', 'd2'].map((id) => ({ id, kind: 'door', site: 's1', zone: 'gates', secret: `secret-${id}` })),
    { id: 'a1', kind: 'aed', site: 's1', zone: 'gates', secret: 'secret-a1' },
    { id: 'h1', kind: 'heartbeat-only', site: 's1', zone: 'gates', secret: 'secret-h1' },
  ],
})
const { devices } = simulatableDevices(site.devices)

/** A run of `hours` on a driven clock, with a door forced and a lounge heated along the way. */
async function run({
  seed,
  hours = 2,
  connectDelay = () => 0,
}: {
  seed: string
  hours?: number
  connectDelay?: (id: string) => number
}) {
  const clock = createManualClock(start)
  const produced: SimReading[] = []
  const recorder = recordingTransport({ beforeConnect: (device) => waitOn(clock, connectDelay(device.id)) })
  const fleet = createFleet({
    sites: site.sites,
    devices,
    seed,
    pace: { readingEveryMs: 30_000, heartbeatEveryMs: 60_000 },
    transport: recorder.transport,
    clock,
    onReading: (reading) => produced.push(reading),
  })
  fleet.start()
  fleet.cue([
    { name: 'door-forced', atMs: 20 * 60_000, endMs: 25 * 60_000, target: 'd1' },
    { name: 'zone-heat', atMs: 30 * 60_000, endMs: 60 * 60_000, target: 'lounges' },
    { name: 'device-heat', atMs: 70 * 60_000, endMs: 100 * 60_000, target: 't3' },
  ])
  await clock.advance(hours * 3_600_000)
  await fleet.close()
  return { produced, published: recorder.published }
}

/** Byte for byte: device, topic and payload (with its ts and seq), in an order that does not depend on sockets. */
const canonical = (published: Published[]) =>
  published
    .map((p) => ({ ...p, ts: (JSON.parse(p.payload) as { ts: number }).ts }))
    .sort((a, b) => a.ts - b.ts || a.device.localeCompare(b.device) || a.payload.localeCompare(b.payload))
    .map((p) => `${p.device} ${p.topic} ${p.payload}`)
    .join('\n')

describe('a seeded run repeats exactly', () => {
  it('produces the same readings, in the same order, for the same seed, site and clock', async () => {
    const first = await run({ seed: 'alpha' })
    const second = await run({ seed: 'alpha' })
    expect(first.produced.length).toBeGreaterThan(7 * 2 * 60)
    expect(JSON.stringify(second.produced)).toBe(JSON.stringify(first.produced))
    expect(second.published.map((p) => p.payload).join('\n')).toBe(
      first.published.map((p) => p.payload).join('\n'),
    )
  })

  it('produces different readings for a different seed', async () => {
    const alpha = await run({ seed: 'alpha' })
    const beta = await run({ seed: 'beta' })
    expect(canonical(beta.published)).not.toBe(canonical(alpha.published))
    const celsius = (r: { produced: SimReading[] }) =>
      r.produced.flatMap((x) => (x.payload.type === 'temperature' ? [x.payload.celsius] : []))
    expect(celsius(beta)).not.toEqual(celsius(alpha))
  })

  it('does not depend on the order the connections come up in', async () => {
    const order = devices.map((d) => d.id)
    const forwards = await run({ seed: 'alpha', connectDelay: (id) => 10_000 * order.indexOf(id) })
    const backwards = await run({
      seed: 'alpha',
      connectDelay: (id) => 10_000 * (order.length - order.indexOf(id)),
    })
    expect(backwards.published.map((p) => p.device)).not.toEqual(forwards.published.map((p) => p.device))
    expect(canonical(backwards.published)).toBe(canonical(forwards.published))
  })

  it('plays the cued scenarios at their times: the forced door and the heated lounge', async () => {
    const { produced } = await run({ seed: 'alpha' })
    const forced = produced.filter((r) => r.device === 'd1' && r.payload.type === 'door' && r.payload.open)
    const unbadged = forced.filter((r) => r.payload.type === 'door' && r.payload.badge === undefined)
    expect(unbadged[0]?.payload.ts).toBe(start + 20 * 60_000)
    const closedAgain = produced.find(
      (r) =>
        r.device === 'd1' &&
        r.payload.type === 'door' &&
        !r.payload.open &&
        r.payload.ts >= start + 20 * 60_000,
    )
    expect(closedAgain?.payload.ts).toBe(start + 25 * 60_000)

    const lounge = (from: number, to: number, device = 't1') =>
      produced.flatMap((r) =>
        r.device === device &&
        r.payload.type === 'temperature' &&
        r.payload.ts >= start + from * 60_000 &&
        r.payload.ts < start + to * 60_000
          ? [r.payload.celsius]
          : [],
      )
    expect(Math.max(...lounge(0, 30))).toBeLessThan(26)
    const heated = lounge(30, 60)
    expect(heated.at(-1)).toBe(31)
    // Up at most half a degree a reading, never beyond the target.
    for (let i = 1; i < heated.length; i++)
      expect((heated[i] ?? 0) - (heated[i - 1] ?? 0)).toBeLessThanOrEqual(0.5001)
    expect(Math.max(...lounge(80, 120))).toBeLessThan(26)
    // device-heat heats one thermometer; its neighbours in the zone stay normal.
    expect(lounge(70, 100, 't3').at(-1)).toBe(31)
    expect(Math.max(...lounge(80, 100, 't2'))).toBeLessThan(26)
  })
})
