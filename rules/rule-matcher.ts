import type { Device, Rule } from '../config/index.ts'

type DeviceWhere = Pick<Device, 'id' | 'kind' | 'site' | 'zone'>

/** DESIGN.md § site file: a rule's match filters on kind, site, zone and device; an empty match takes all. */
export function ruleMatches(rule: Rule, device: DeviceWhere): boolean {
  const { kind, site, zone, device: id } = rule.match
  return (
    (kind === undefined || kind === device.kind) &&
    (site === undefined || site === device.site) &&
    (zone === undefined || zone === device.zone) &&
    (id === undefined || id === device.id)
  )
}

export function rulesFor(rules: Rule[], device: DeviceWhere): Rule[] {
  return rules.filter((rule) => ruleMatches(rule, device))
}
