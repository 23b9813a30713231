import type { Location, SiteFileInput } from '../config/index.ts'
import type { DeviceKind } from '../domain/index.ts'
import type { Random } from './seeded-random.ts'

type SiteInput = SiteFileInput['sites'][number]
type DeviceInput = NonNullable<SiteFileInput['devices']>[number]

export const airportSiteId = 'cdg'
export const airportTimezone = 'Europe/Paris'
const airportLocation = { lat: 49.0097, lon: 2.5479 }

const terminals = [
  { id: 't1', name: 'Terminal 1', lat: 49.0147, lon: 2.5419 },
  { id: 't2ab', name: 'Terminal 2A-2B', lat: 49.0044, lon: 2.5636 },
  { id: 't2cd', name: 'Terminal 2C-2D', lat: 49.0031, lon: 2.5686 },
  { id: 't2e', name: 'Terminal 2E', lat: 49.0045, lon: 2.5834 },
  { id: 't2f', name: 'Terminal 2F', lat: 49.0082, lon: 2.5769 },
  { id: 't3', name: 'Terminal 3', lat: 49.0133, lon: 2.5625 },
] as const

const areas = [
  ['checkin', 'Check-in'],
  ['security', 'Security checkpoint'],
  ['gates-north', 'Gates north'],
  ['gates-south', 'Gates south'],
  ['lounges', 'Lounges'],
  ['retail', 'Shops'],
  ['food', 'Food court'],
  ['baggage', 'Baggage claim'],
  ['arrivals', 'Arrivals hall'],
  ['plant', 'Plant rooms'],
] as const

// Twenty devices in a row hold 8 thermometers, 7 doors, 1 AED cabinet and 4 gateways: every kind is
// present at any size, and each zone, visited every 60th device, moves one step along the cycle.
const kindCycle: DeviceKind[] = [
  ...Array<DeviceKind>(8).fill('temperature'),
  ...Array<DeviceKind>(7).fill('door'),
  'aed',
  ...Array<DeviceKind>(4).fill('heartbeat-only'),
]
const kindPrefix: Record<DeviceKind, string> = {
  temperature: 'temp',
  door: 'door',
  aed: 'aed',
  'heartbeat-only': 'gw',
}

export type AirportZone = { id: string; name: string; location: Location }

/** The terminals' zones, each placed near its terminal (0.001° of latitude is about 110 m). */
export function airportZones(): AirportZone[] {
  return terminals.flatMap((terminal) =>
    areas.map(([area, label], i) => ({
      id: `${terminal.id}-${area}`,
      name: `${terminal.name} ${label}`,
      location: {
        lat: round(terminal.lat + ((i % 5) - 2) * 0.0006),
        lon: round(terminal.lon + (Math.floor(i / 5) - 0.5) * 0.0012),
      },
    })),
  )
}

export function airportSite(zones: AirportZone[]): SiteInput {
  return {
    id: airportSiteId,
    name: 'Paris-Charles de Gaulle',
    timezone: airportTimezone,
    location: airportLocation,
    accessHours: '04:30-23:45',
    zones,
  }
}

/** Devices spread over the zones in turn; one production-strength hash serves every device. */
export function airportDevices({
  count,
  zones,
  secretHash,
  random,
}: {
  count: number
  zones: AirportZone[]
  secretHash: string
  random: Random
}): DeviceInput[] {
  const numbers = new Map<string, number>()
  return Array.from({ length: count }, (_, i): DeviceInput => {
    const zone = zones[i % zones.length] as AirportZone
    const kind = kindCycle[(i + Math.floor(i / zones.length)) % kindCycle.length] as DeviceKind
    const label = `${kindPrefix[kind]}-${zone.id}`
    const n = (numbers.get(label) ?? 0) + 1
    numbers.set(label, n)
    const id = `${label}-${String(n).padStart(3, '0')}`
    return {
      id,
      kind,
      site: airportSiteId,
      zone: zone.id,
      location: {
        lat: round(zone.location.lat + random.between(-0.0004, 0.0004)),
        lon: round(zone.location.lon + random.between(-0.0006, 0.0006)),
      },
      secretHash,
      ...((kind === 'door' || kind === 'aed') && {
        links: {
          camera: `rtsp://cam-${id}.cdg.example/stream`,
          ...(kind === 'aed' && { intercom: `sip:${id}@pbx.cdg.example` }),
        },
      }),
    }
  })
}

/** Where a technician starts the day: near one of the terminals. */
export function nearATerminal(random: Random): Location {
  const terminal = random.pick(terminals)
  return {
    lat: round(terminal.lat + random.between(-0.001, 0.001)),
    lon: round(terminal.lon + random.between(-0.0015, 0.0015)),
  }
}

const round = (degrees: number) => Math.round(degrees * 1e6) / 1e6
