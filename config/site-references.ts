import type { z } from 'zod'
import { type DeviceKind, deviceKinds, readingFieldsOf } from '../domain/index.ts'
import type { Customer, Supervisor, Technician } from './people-schema.ts'
import type { Rule } from './rule-schema.ts'
import type { ApiKey, Device, MqttAccount, Site } from './site-schema.ts'
import type { Webhook } from './webhook-schema.ts'

type SiteFileParts = {
  sites: Site[]
  devices: Device[]
  technicians: Technician[]
  customers: Customer[]
  rules: Rule[]
  dispatch: { supervisors: Supervisor[] }
  apiKeys: ApiKey[]
  mqttAccounts: MqttAccount[]
  webhooks: Webhook[]
}

type Path = (string | number)[]

/** Checks what one object's schema cannot: unique ids and that every reference names something that exists. */
export function checkSiteReferences(file: SiteFileParts, ctx: z.RefinementCtx): void {
  const fail = (path: Path, message: string) => ctx.addIssue({ code: 'custom', path, message })

  const unique = <T>(items: T[], key: (item: T) => string, path: (i: number) => Path, what: string) => {
    const seen = new Map<string, number>()
    items.forEach((item, i) => {
      const value = key(item)
      const first = seen.get(value)
      if (first === undefined) seen.set(value, i)
      else fail(path(i), `duplicate ${what} "${value}" (first used at index ${first})`)
    })
  }

  unique(
    file.sites,
    (s) => s.id,
    (i) => ['sites', i, 'id'],
    'site id',
  )
  const zones = file.sites.flatMap((site, s) =>
    site.zones.map((zone, z) => ({ site, zone, path: ['sites', s, 'zones', z, 'id'] })),
  )
  unique(
    zones,
    (z) => z.zone.id,
    (i) => zones[i]?.path ?? [],
    'zone id',
  )
  unique(
    file.devices,
    (d) => d.id,
    (i) => ['devices', i, 'id'],
    'device id',
  )
  unique(
    file.technicians,
    (t) => t.id,
    (i) => ['technicians', i, 'id'],
    'technician id',
  )
  unique(
    file.customers,
    (c) => c.id,
    (i) => ['customers', i, 'id'],
    'customer id',
  )
  unique(
    file.rules,
    (r) => r.id,
    (i) => ['rules', i, 'id'],
    'rule id',
  )
  unique(
    file.dispatch.supervisors,
    (s) => s.id,
    (i) => ['dispatch', 'supervisors', i, 'id'],
    'supervisor id',
  )
  unique(
    file.apiKeys,
    (k) => k.name,
    (i) => ['apiKeys', i, 'name'],
    'API key name',
  )
  unique(
    file.mqttAccounts,
    (a) => a.username,
    (i) => ['mqttAccounts', i, 'username'],
    'MQTT username',
  )

  const sitesById = new Map(file.sites.map((site) => [site.id, site]))
  const zoneSite = new Map(zones.map(({ site, zone }) => [zone.id, site.id]))
  const devicesById = new Map(file.devices.map((device) => [device.id, device]))
  const technicianIds = new Set(file.technicians.map((t) => t.id))

  // A device id is its MQTT username, so an integration account must not take one.
  file.mqttAccounts.forEach((account, i) => {
    if (devicesById.has(account.username)) {
      fail(['mqttAccounts', i, 'username'], `"${account.username}" is already a device id`)
    }
  })

  file.devices.forEach((device, i) => {
    const site = sitesById.get(device.site)
    if (!site) {
      fail(['devices', i, 'site'], `no site "${device.site}"; known: ${[...sitesById.keys()].join(', ')}`)
      return
    }
    if (device.zone !== undefined && zoneSite.get(device.zone) !== site.id) {
      fail(
        ['devices', i, 'zone'],
        `no zone "${device.zone}" in site "${site.id}"; known: ${site.zones.map((z) => z.id).join(', ') || 'none'}`,
      )
    }
  })

  file.rules.forEach((rule, i) => {
    checkRule(rule, ['rules', i])
  })

  function checkRule(rule: Rule, path: Path): void {
    const { match, condition } = rule
    if (match.site !== undefined && !sitesById.has(match.site))
      fail([...path, 'match', 'site'], `no site "${match.site}"`)
    if (match.zone !== undefined) {
      const site = zoneSite.get(match.zone)
      if (site === undefined) fail([...path, 'match', 'zone'], `no zone "${match.zone}"`)
      else if (match.site !== undefined && site !== match.site) {
        fail([...path, 'match', 'zone'], `zone "${match.zone}" is not in site "${match.site}"`)
      }
    }
    const device = match.device === undefined ? undefined : devicesById.get(match.device)
    if (match.device !== undefined && !device)
      fail([...path, 'match', 'device'], `no device "${match.device}"`)
    if (device && match.kind !== undefined && device.kind !== match.kind) {
      fail([...path, 'match', 'kind'], `device "${device.id}" is a ${device.kind}, not a ${match.kind}`)
    }
    const kinds: readonly DeviceKind[] = match.kind ? [match.kind] : device ? [device.kind] : deviceKinds
    if ('field' in condition) {
      const fields = new Set(kinds.flatMap(readingFieldsOf))
      if (!fields.has(condition.field)) {
        fail(
          [...path, 'condition', 'field'],
          `no field "${condition.field}" in ${kinds.join('/')} readings; known: ${[...fields].join(', ')}`,
        )
      }
    }
    if (condition.kind === 'unauthorised' && !(kinds.length === 1 && kinds[0] === 'door')) {
      fail([...path, 'match', 'kind'], 'an unauthorised condition applies to doors: add kind: door to match')
    }
  }

  file.customers.forEach((customer, i) => {
    const { sites = [], zones: zoneIds = [], devices = [] } = customer.subscribes
    const base = ['customers', i, 'subscribes']
    const known = { sites: sitesById, zones: zoneSite, devices: devicesById }
    for (const [list, ids] of [
      ['sites', sites],
      ['zones', zoneIds],
      ['devices', devices],
    ] as const) {
      ids.forEach((id, j) => {
        if (!known[list].has(id)) fail([...base, list, j], `no ${list.slice(0, -1)} "${id}"`)
      })
    }
  })

  file.apiKeys.forEach((key, i) => {
    if (key.role === 'technician' && key.technician === undefined) {
      fail(['apiKeys', i, 'technician'], 'a technician key names the technician it acts for')
    }
    if (key.technician !== undefined && key.role !== 'technician') {
      fail(['apiKeys', i, 'technician'], 'only a key with role technician names a technician')
    }
    if (key.technician !== undefined && !technicianIds.has(key.technician)) {
      fail(['apiKeys', i, 'technician'], `no technician "${key.technician}"`)
    }
  })

  unique(
    file.webhooks,
    (w) => w.id,
    (i) => ['webhooks', i, 'id'],
    'webhook id',
  )
  file.webhooks.forEach((webhook, i) => {
    webhook.sites?.forEach((id, j) => {
      if (!sitesById.has(id)) fail(['webhooks', i, 'sites', j], `no site "${id}"`)
    })
  })
}
