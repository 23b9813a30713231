import { type RuleInput, type SiteFile, siteFileSchema } from '../config/index.ts'
import { airportCustomers, airportSupervisors, airportTechnicians } from './airport-people.ts'
import { airportDevices, airportSite, airportZones } from './airport-places.ts'
import { createRandom } from './seeded-random.ts'

export type AirportSize = { devices: number; technicians: number; customers: number }

/** One rule of each kind DESIGN.md names, and a gateway rule of severity info, so every severity occurs. */
export const airportRules: RuleInput[] = [
  {
    id: 'too-hot',
    name: 'Too hot',
    match: { kind: 'temperature' },
    condition: { field: 'celsius', above: 27, clearBelow: 26 },
    for: '60s',
    severity: 'major',
    skill: 'hvac',
    notifyCustomers: true,
  },
  {
    id: 'too-cold',
    name: 'Too cold',
    match: { kind: 'temperature' },
    condition: { field: 'celsius', below: 16, clearAbove: 17 },
    for: '5m',
    severity: 'minor',
    skill: 'hvac',
  },
  {
    id: 'door-held-open',
    name: 'Door held open',
    match: { kind: 'door' },
    condition: { field: 'open', equals: true },
    for: '2m',
    severity: 'major',
    skill: 'security',
  },
  {
    id: 'door-forced',
    name: 'Door forced or opened out of hours',
    match: { kind: 'door' },
    condition: { unauthorised: true },
    severity: 'critical',
    skill: 'security',
  },
  {
    id: 'aed-removed',
    name: 'AED removed from its cabinet',
    match: { kind: 'aed' },
    condition: { field: 'present', equals: false },
    severity: 'critical',
    skill: 'first-aid',
    voice: true,
  },
  {
    id: 'aed-battery-low',
    name: 'AED cabinet battery low',
    match: { kind: 'aed' },
    condition: { field: 'battery', below: 20, clearAbove: 25 },
    severity: 'minor',
    skill: 'electrical',
  },
  {
    id: 'sensor-silent',
    name: 'Sensor silent',
    match: {},
    condition: { silentFor: '5m' },
    severity: 'minor',
    skill: 'electrical',
  },
  {
    id: 'gateway-silent',
    name: 'Gateway silent',
    match: { kind: 'heartbeat-only' },
    condition: { silentFor: '15m' },
    severity: 'info',
    skill: 'electrical',
  },
  {
    id: 'zone-outage',
    name: 'Zone outage',
    match: {},
    condition: { silentFor: '1m' },
    group: { by: 'zone', atLeast: 3, within: '2m' },
    severity: 'major',
    skill: 'electrical',
    notifyCustomers: true,
  },
]

/**
 * The big airport as a site file: six terminals of ten zones, devices of every kind spread over them,
 * technicians in three shifts, duty managers, customers subscribed to the site, a zone or their devices.
 * Checked by the site file's own schema, as a file an operator wrote would be.
 */
export function buildAirportWorld({
  size,
  seed,
  secretHash,
}: {
  size: AirportSize
  seed: string
  /** Every device's; one hash, so 5,000 devices cost one scrypt run. */
  secretHash: string
}): SiteFile {
  const random = createRandom(`${seed}:world`)
  const zones = airportZones()
  const devices = airportDevices({ count: size.devices, zones, secretHash, random })
  return siteFileSchema.parse({
    sites: [airportSite(zones)],
    devices,
    technicians: airportTechnicians({ count: size.technicians, random }),
    customers: airportCustomers({ count: size.customers, zones, devices, random }),
    rules: airportRules,
    dispatch: { offerTimeout: '2m', maxOffers: 3, travelSpeedKmh: 5, supervisors: airportSupervisors },
    tickets: { autoResolveAfterClear: '10m' },
    sla: { critical: '15m', major: '1h', minor: '8h', info: '24h' },
  })
}
