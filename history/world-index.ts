import type { Customer, Device, Site, SiteFile, Technician } from '../config/index.ts'
import type { DeviceKind } from '../domain/index.ts'
import { quietUntil, whatsappAddress } from '../notifier/index.ts'
import type { Contact } from './message-trail.ts'

export type WorldIndex = ReturnType<typeof indexWorld>

const channelOf = (contact: Customer['contacts'][number]): Contact =>
  'sms' in contact
    ? { channel: 'sms', to: contact.sms }
    : 'voice' in contact
      ? { channel: 'voice', to: contact.voice }
      : 'whatsapp' in contact
        ? { channel: 'whatsapp', to: whatsappAddress(contact.whatsapp) }
        : { channel: 'email', to: contact.email }

/** The site file looked up the ways the year's planning asks: by kind, by id, by subscription. */
export function indexWorld(world: SiteFile) {
  const [site] = world.sites
  if (!site) throw new Error('the world has no site')
  const byKind = new Map<DeviceKind, Device[]>()
  for (const device of world.devices) byKind.set(device.kind, [...(byKind.get(device.kind) ?? []), device])
  const subscribers = new Map<string, Customer[]>()
  const subscribe = (key: string, customer: Customer) =>
    subscribers.set(key, [...(subscribers.get(key) ?? []), customer])
  for (const customer of world.customers) {
    for (const id of customer.subscribes.devices ?? []) subscribe(`device:${id}`, customer)
    for (const id of customer.subscribes.zones ?? []) subscribe(`zone:${id}`, customer)
    for (const id of customer.subscribes.sites ?? []) subscribe(`site:${id}`, customer)
  }
  const technicians = new Map<string, Technician>(world.technicians.map((t) => [t.id, t]))
  // Quiet hours end at a minute that depends only on the minute asked and the range: worked out once.
  const quietEnds = new Map<string, number | undefined>()
  return {
    world,
    site: site as Site,
    devicesOf: (kind: DeviceKind | undefined): Device[] => (kind ? (byKind.get(kind) ?? []) : world.devices),
    zones: site.zones.map((zone) => zone.id),
    technician: (id: string): Technician | undefined => technicians.get(id),
    /** Who customer notices reach, as the notifier's `subscribed` finds them: device, zone or site. */
    customersOf: (place: { device: string | null; zone: string | null; site: string }): Customer[] => {
      const found = new Set<Customer>([
        ...(place.device ? (subscribers.get(`device:${place.device}`) ?? []) : []),
        ...(place.zone ? (subscribers.get(`zone:${place.zone}`) ?? []) : []),
        ...(subscribers.get(`site:${place.site}`) ?? []),
      ])
      return [...found].sort((a, b) => a.id.localeCompare(b.id))
    },
    contactsOf: (customer: Customer): Contact[] => customer.contacts.map(channelOf),
    /** When the notifier would send a customer's message asked for at `at`: now, or when quiet hours end. */
    heldUntil: (customer: Customer, at: number): number | undefined => {
      if (!customer.quietHours) return undefined
      const key = `${Math.floor(at / 60_000)}|${customer.quietHours.text}`
      if (!quietEnds.has(key)) {
        if (quietEnds.size > 10_000) quietEnds.clear()
        quietEnds.set(key, quietUntil(customer, at, site.timezone))
      }
      return quietEnds.get(key)
    },
  }
}
