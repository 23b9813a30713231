import type { SiteFileInput } from '../config/index.ts'
import { type AirportZone, airportSiteId, nearATerminal } from './airport-places.ts'
import type { Random } from './seeded-random.ts'

type TechnicianInput = NonNullable<SiteFileInput['technicians']>[number]
type CustomerInput = NonNullable<SiteFileInput['customers']>[number]
type DeviceInput = NonNullable<SiteFileInput['devices']>[number]

export const airportSkills = ['hvac', 'electrical', 'security', 'first-aid'] as const

const firstNames = ['Amina', 'Julien', 'Sarah', 'Omar', 'Emily', 'Lucas', 'Inès', 'Karim', 'Chloé', 'Hugo']
const lastNames = ['Martin', 'Bernard', 'Diallo', 'Nguyen', 'Moreau', 'Laurent', 'Haddad', 'Petit', 'Roux']

// Three teams a day, each working five days of seven on a pattern of its own: every hour of the week is
// covered, by a handful of shapes of shift that dispatch can test once each.
const shiftHours = ['06:00-14:00', '14:00-22:00', '22:00-06:00'] as const
const shiftDays = [
  ['mon', 'tue', 'wed', 'thu', 'fri'],
  ['wed', 'thu', 'fri', 'sat', 'sun'],
  ['fri', 'sat', 'sun', 'mon', 'tue'],
] as const

const digits = (n: number, width: number) => String(n).padStart(width, '0')

export function airportTechnicians({ count, random }: { count: number; random: Random }): TechnicianInput[] {
  return Array.from({ length: count }, (_, i): TechnicianInput => {
    const first = airportSkills[i % airportSkills.length] as string
    const others = airportSkills.filter((skill) => skill !== first && random.chance(0.4))
    const id = `tech-${digits(i + 1, 4)}`
    return {
      id,
      name: `${random.pick(firstNames)} ${random.pick(lastNames).slice(0, 1)}.`,
      phone: `+3361${digits(i + 1, 7)}`,
      email: `${id}@ops.cdg.example`,
      language: random.chance(0.7) ? 'fr' : 'en',
      skills: [first, ...others],
      location: nearATerminal(random),
      shift: {
        days: [...(shiftDays[Math.floor(i / shiftHours.length) % shiftDays.length] ?? shiftDays[0])],
        hours: shiftHours[i % shiftHours.length] ?? shiftHours[0],
      },
    }
  })
}

export const airportSupervisors = [
  { id: 'duty-t1', name: 'Duty manager T1', phone: '+33600009901', email: 'duty-t1@ops.cdg.example' },
  { id: 'duty-t2', name: 'Duty manager T2', phone: '+33600009902', email: 'duty-t2@ops.cdg.example' },
  {
    id: 'duty-t3',
    name: 'Duty manager T3',
    phone: '+33600009903',
    email: 'duty-t3@ops.cdg.example',
    language: 'en' as const,
  },
]

/**
 * The operations centre hears about the whole site; an airline desk or a lounge about its zone; a shop
 * or a restaurant about the few devices of its own premises. Most are in one zone's devices only, so a
 * ticket reaches a few customers, not hundreds.
 */
export function airportCustomers({
  count,
  zones,
  devices,
  random,
}: {
  count: number
  zones: AirportZone[]
  devices: DeviceInput[]
  random: Random
}): CustomerInput[] {
  const devicesOf = new Map<string, string[]>()
  for (const device of devices) {
    if (!device.zone) continue
    devicesOf.set(device.zone, [...(devicesOf.get(device.zone) ?? []), device.id])
  }
  const zoneWide = Math.min(zones.length, Math.max(1, Math.round(count * 0.03)))
  return Array.from({ length: count }, (_, i): CustomerInput => {
    const id = `cust-${digits(i + 1, 4)}`
    const zone = zones[i % zones.length] as AirportZone
    const subscribes =
      i === 0
        ? { sites: [airportSiteId] }
        : i <= zoneWide
          ? { zones: [zone.id] }
          : { devices: pickSome(devicesOf.get(zone.id) ?? [], random.int(1, 3), random) }
    const sms = random.chance(0.7)
    const email = !sms || random.chance(0.5)
    return {
      id,
      name: i === 0 ? 'Airport operations centre' : `${zone.name} tenant ${digits(i + 1, 4)}`,
      language: random.chance(0.6) ? 'fr' : 'en',
      contacts: [
        ...(sms ? [{ sms: `+3362${digits(i + 1, 7)}` }] : []),
        ...(email ? [{ email: `${id}@tenants.cdg.example` }] : []),
        ...(random.chance(0.03) ? [{ voice: `+3363${digits(i + 1, 7)}` }] : []),
      ],
      subscribes: subscribes.devices?.length === 0 ? { zones: [zone.id] } : subscribes,
      ...(random.chance(0.35) && { quietHours: '22:00-07:00' }),
    }
  })
}

function pickSome(items: string[], count: number, random: Random): string[] {
  const chosen = new Set<string>()
  for (let i = 0; i < count && chosen.size < items.length; i++) chosen.add(random.pick(items))
  return [...chosen]
}
