import type { Device, Location, Site } from '../config/index.ts'
import type { DeviceKind } from '../domain/index.ts'

/** A device the simulator can play: it needs the clear secret to log in as the device. */
export type SimDevice = {
  id: string
  kind: DeviceKind
  site: string
  zone: string | null
  secret: string
  location: Location | null
}

/** What a fleet is built from: the site file's sites and devices. */
export type FleetSite = { sites: Site[]; devices: Device[] }

/**
 * The site file's devices that can be simulated, and those that cannot: a device given only as
 * `secretHash` has no password the simulator could send.
 */
export function simulatableDevices(devices: readonly Device[]): {
  devices: SimDevice[]
  hashedOnly: string[]
} {
  const simulatable: SimDevice[] = []
  const hashedOnly: string[] = []
  for (const device of devices) {
    if (device.secret === undefined) {
      hashedOnly.push(device.id)
      continue
    }
    simulatable.push({
      id: device.id,
      kind: device.kind,
      site: device.site,
      zone: device.zone ?? null,
      secret: device.secret,
      location: device.location ?? null,
    })
  }
  return { devices: simulatable, hashedOnly }
}
