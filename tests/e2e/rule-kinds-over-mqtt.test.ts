import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

// One device per case, so each case has its own correlation keys; short durations keep the run quick.
const devices = {
  temperature: [
    'q-quiet',
    'q-chatty',
    't-edge',
    't-band',
    't-held',
    't-short',
    'z1-a',
    'z1-b',
    'z2-a',
    'z2-b',
    'z2-c',
    'm-temp',
  ],
  door: ['d-badge-in', 'd-nobadge', 'd-badge-out', 'd-maint', 'd-onsite'],
  aed: ['aed-out', 'aed-in'],
} as const
const zones: Record<string, string> = { 'z1-': 'zone-1', 'z2-': 'zone-2', 'q-': 'zone-3' }
const zoneOf = (id: string) => zones[id.slice(0, id.indexOf('-') + 1)] ?? 'zone-0'
const siteFile = `
sites:
  - id: s1
    name: Test site
    timezone: Europe/Paris
    location: { lat: 49.0, lon: 2.57 }
    accessHours: "06:00-22:00"
    zones: [{ id: zone-0, name: Zero }, { id: zone-1, name: One }, { id: zone-2, name: Two }, { id: zone-3, name: Three }]
devices:
${Object.entries(devices)
  .flatMap(([kind, ids]) =>
    ids.map(
      (id) =>
        `  - { id: ${id}, kind: ${kind}, site: s1, zone: ${zoneOf(id)}, secret: "secret-${id}", location: { lat: 49.0, lon: 2.57 } }`,
    ),
  )
  .join('\n')}
technicians:
  - { id: tech-1, name: One, phone: "+33600000001", language: en, skills: [hvac, security, first-aid], location: { lat: 49.001, lon: 2.57 } }
rules:
  - { id: too-hot, match: { kind: temperature, zone: zone-0 }, condition: { field: celsius, above: 30, clearBelow: 28 }, severity: major, skill: hvac }
  - { id: hot-for, match: { kind: temperature, zone: zone-0 }, condition: { field: celsius, above: 50, clearBelow: 50 }, for: 2s, severity: major, skill: hvac }
  - { id: zone-hot, match: { kind: temperature, zone: zone-1 }, condition: { field: celsius, above: 40, clearBelow: 35 }, group: { by: zone, atLeast: 3, within: 1m }, severity: major, skill: hvac }
  - { id: zone-hot-2, match: { kind: temperature, zone: zone-2 }, condition: { field: celsius, above: 40, clearBelow: 35 }, group: { by: zone, atLeast: 3, within: 1m }, severity: major, skill: hvac }
  - { id: gone-quiet, match: { zone: zone-3 }, condition: { silentFor: 2s }, severity: minor, skill: hvac }
  - { id: door-forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }
  - { id: door-battery-low, match: { kind: door }, condition: { field: battery, below: 20, clearAbove: 25 }, severity: minor, skill: security }
  - { id: aed-removed, match: { kind: aed }, condition: { field: present, equals: false }, severity: critical, skill: first-aid }
dispatch:
  offerTimeout: 10m
  maxOffers: 3
  travelSpeedKmh: 5
  supervisors: [{ id: duty, name: Duty, phone: "+33600000999", language: en }]
tickets: { autoResolveAfterClear: 1s }
sla: { critical: 15m, major: 1h, minor: 8h, info: 24h }
`

type IncidentView = {
  id: string
  rule: string
  device: string | null
  zone: string | null
  status: string
  count: number
}
type TicketView = { id: string; status: string; rule: string; zone: string | null; device: string | null }
type TimelineView = { timeline: { type: string; detail: string | null }[] }

let world: TestService
const api: TestService['api'] = (path, init) => world.api(path, init)
const send: TestService['publish'] = (device, ...readings) => world.publish(device, ...readings)

const incidents = async () => (await api<{ items: IncidentView[] }>('/api/incidents?limit=1000')).items
const ticketsOf = async (query: string) => (await api<{ items: TicketView[] }>(`/api/tickets?${query}`)).items

/** Waits until the incidents list satisfies `ready`, then returns it. */
const incidentsWhen = (what: string, ready: (items: IncidentView[]) => boolean) =>
  waitFor(
    async () => {
      const items = await incidents()
      return ready(items) ? items : undefined
    },
    { what, timeoutMs: 15_000 },
  )

/** An instant in the site's zone on the test day, for readings stamped inside or outside access hours. */
function parisTime(hour: number): string {
  const instant = new Date()
  instant.setUTCHours(hour - 1, 0, 0, 0) // Paris is UTC+1 in winter, the season of this suite's date
  const offset = Number(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: 'numeric', hourCycle: 'h23' }).format(
      instant,
    ),
  )
  instant.setUTCHours(instant.getUTCHours() + (hour - offset))
  if (instant.getTime() > Date.now()) instant.setUTCDate(instant.getUTCDate() - 1)
  return instant.toISOString()
}

beforeAll(async () => {
  world = await startTestService({ site: siteFile })
})

afterAll(async () => {
  await world?.close()
})

describe('each rule kind, readings in over MQTT and incidents out through the API', () => {
  it('a threshold fires above its level only, holds in the hysteresis band and clears past the clear level', async () => {
    await send('t-edge', { type: 'temperature', celsius: 30 })
    await send('t-band', { type: 'temperature', celsius: 31 }, { type: 'temperature', celsius: 29 })
    await incidentsWhen('the band incident', (items) => items.some((i) => i.device === 't-band'))
    await send('t-band', { type: 'temperature', celsius: 28.5 })
    // A later reading of the same device proves the earlier ones were evaluated.
    await send('t-edge', { type: 'temperature', celsius: 29.9 }, { type: 'temperature', celsius: 30.1 })
    let items = await incidentsWhen('the edge incident at 30.1', (all) =>
      all.some((i) => i.device === 't-edge' && i.rule === 'too-hot'),
    )
    expect(items.filter((i) => i.device === 't-edge' && i.rule === 'too-hot')).toHaveLength(1)
    expect(items.find((i) => i.device === 't-band')?.status).toBe('active')

    await send('t-band', { type: 'temperature', celsius: 27.9 })
    items = await incidentsWhen('the band incident cleared', (all) =>
      all.some((i) => i.device === 't-band' && i.status === 'cleared'),
    )
    expect(items.filter((i) => i.device === 't-band')).toHaveLength(1)

    // Cleared and still clear after the verification period (1 s here): the ticket resolves by itself.
    const resolved = await waitFor(
      async () => {
        const [ticket] = await ticketsOf('device=t-band')
        if (ticket?.status !== 'resolved') return undefined
        return api<TimelineView>(`/api/tickets/${ticket.id}`)
      },
      { what: 'the t-band ticket resolved by telemetry' },
    )
    expect(resolved.timeline.at(-1)).toMatchObject({
      type: 'ticket.resolved',
      detail: 'verified by telemetry',
    })
  })

  it('a for: rule fires once the condition held long enough, and not when it ended just short', async () => {
    // Both of t-short's readings in one session, milliseconds apart: short of 2 s on any machine.
    await send('t-short', { type: 'temperature', celsius: 55 }, { type: 'temperature', celsius: 20 })
    await send('t-held', { type: 'temperature', celsius: 55 })
    const items = await incidentsWhen('the held incident', (all) =>
      all.some((i) => i.device === 't-held' && i.rule === 'hot-for'),
    )
    expect(items.filter((i) => i.rule === 'hot-for').map((i) => i.device)).toEqual(['t-held'])
  })

  it('a door opened with a badge inside access hours is fine; without a badge or out of hours it is forced', async () => {
    await send('d-badge-in', { type: 'door', open: true, badge: 'B-1', ts: parisTime(12) })
    await send('d-nobadge', { type: 'door', open: true, ts: parisTime(12) })
    await send('d-badge-out', { type: 'door', open: true, badge: 'B-2', ts: parisTime(3) })
    await send('d-badge-in', { type: 'door', open: false, ts: parisTime(12) })
    await send('aed-in', { type: 'aed', present: true, cabinetOpen: false })
    await send('aed-out', { type: 'aed', present: false, cabinetOpen: true })
    const items = await incidentsWhen('the forced doors and the AED', (all) => {
      const forced = all.filter((i) => i.rule === 'door-forced').length
      return forced >= 2 && all.some((i) => i.rule === 'aed-removed')
    })
    // The last reading of d-badge-in was sent before the AED's, so it was judged by then.
    expect(
      items
        .filter((i) => i.rule === 'door-forced')
        .map((i) => i.device)
        .sort(),
    ).toEqual(['d-badge-out', 'd-nobadge'])
    expect(items.filter((i) => i.rule === 'aed-removed').map((i) => i.device)).toEqual(['aed-out'])
  })

  it('a zone-wide rule opens one incident and one ticket for the zone at atLeast devices, none below', async () => {
    await send('z1-a', { type: 'temperature', celsius: 45 })
    await send('z1-b', { type: 'temperature', celsius: 45 })
    await send('z2-a', { type: 'temperature', celsius: 45 })
    await send('z2-b', { type: 'temperature', celsius: 45 })
    await send('z2-c', { type: 'temperature', celsius: 45 }, { type: 'temperature', celsius: 46 })
    const items = await incidentsWhen('the zone-2 incident', (all) =>
      all.some((i) => i.rule === 'zone-hot-2'),
    )
    expect(items.filter((i) => i.rule.startsWith('zone-hot'))).toEqual([
      expect.objectContaining({ rule: 'zone-hot-2', zone: 'zone-2', device: null, status: 'active' }),
    ])
    const tickets = await waitFor(
      async () => {
        const list = await ticketsOf('rule=zone-hot-2')
        return list[0]?.status === 'assigned' ? list : undefined
      },
      { what: 'the zone ticket' },
    )
    expect(tickets).toEqual([expect.objectContaining({ zone: 'zone-2', device: null, status: 'assigned' })])
    expect((await ticketsOf('zone=zone-1')).filter((t) => t.rule === 'zone-hot')).toEqual([])

    // Two of three back to normal: fewer than atLeast still raised, so the zone incident clears.
    await send('z2-a', { type: 'temperature', celsius: 20 })
    await send('z2-b', { type: 'temperature', celsius: 20 })
    const cleared = await incidentsWhen('the zone-2 incident cleared', (all) =>
      all.some((i) => i.rule === 'zone-hot-2' && i.status === 'cleared'),
    )
    expect(cleared.filter((i) => i.rule === 'zone-hot-2')).toHaveLength(1)
  })

  it('a device silent past silentFor raises an incident; one that keeps talking does not', async () => {
    await send('q-quiet', { type: 'temperature', celsius: 20 })
    // The chatty device speaks every 500 ms until the sweep (every 5 s) has found the quiet one.
    const chatter = setInterval(() => void send('q-chatty', { type: 'temperature', celsius: 20 }), 500)
    const items = await incidentsWhen('the silent device', (all) =>
      all.some((i) => i.rule === 'gone-quiet'),
    ).finally(() => clearInterval(chatter))
    expect(items.filter((i) => i.rule === 'gone-quiet').map((i) => i.device)).toEqual(['q-quiet'])
  })

  it('a maintenance window suppresses new incidents of its device; others still open', async () => {
    await api('/api/maintenance-windows', {
      method: 'POST',
      body: { scope: { site: 's1', device: 'd-maint' }, minutes: 30, reason: 'lock replacement' },
    })
    await send('d-maint', { type: 'door', open: true })
    await send('t-edge', { type: 'temperature', celsius: 20 })
    await send('m-temp', { type: 'temperature', celsius: 35 })
    const items = await incidentsWhen('the m-temp incident', (all) => all.some((i) => i.device === 'm-temp'))
    expect(items.filter((i) => i.device === 'd-maint')).toEqual([])
  })

  it('a device whose ticket has its technician on site raises nothing new: it is noted on that ticket', async () => {
    await send('d-onsite', { type: 'door', open: true, badge: 'B-3', ts: parisTime(3) })
    // Offered first: acknowledged while still open, the ticket would be the acknowledging admin's.
    const [ticket] = await waitFor(
      async () => {
        const list = await ticketsOf('device=d-onsite')
        return list[0]?.status === 'assigned' ? list : undefined
      },
      { what: 'the d-onsite ticket offered to tech-1' },
    )
    if (!ticket) throw new Error('no ticket')
    await api(`/api/tickets/${ticket.id}/ack`, { method: 'POST', body: {} })
    await api(`/api/tickets/${ticket.id}/on-site`, { method: 'POST', body: {} })
    // The technician unplugs the lock's battery while working: a new incident, were it not suppressed.
    await send('d-onsite', { type: 'heartbeat', battery: 5 })
    const noted = await waitFor(
      async () => {
        const t = await api<TimelineView>(`/api/tickets/${ticket.id}`)
        return t.timeline.some((e) => e.type === 'ticket.incident_suppressed') ? t : undefined
      },
      { what: 'the suppressed incident on the ticket' },
    )
    expect(noted.timeline.filter((e) => e.type === 'ticket.incident_suppressed')).toEqual([
      expect.objectContaining({ detail: 'door-battery-low: technician tech-1 on site' }),
    ])
    expect((await incidents()).filter((i) => i.device === 'd-onsite')).toHaveLength(1)
  })
})
