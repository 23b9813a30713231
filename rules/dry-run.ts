import type { Rule, Severity, SiteFile } from '../config/index.ts'
import type { Reading } from '../domain/index.ts'
import { evaluateReading, evaluateTimer } from './evaluate-reading.ts'
import { deviceCorrelationKey } from './keys.ts'
import { ruleMatches } from './rule-matcher.ts'
import { idleState, type RuleEffect, type RuleState } from './rule-state.ts'
import { applyMember, type GroupMembers, groupKeyOf } from './zone-groups.ts'

export type DryRunIncident = {
  rule: string
  correlationKey: string
  site: string
  zone: string | null
  device: string | null
  severity: Severity
  openedAt: string
  /** Readings that matched again while it was open. */
  updates: number
  clearedAt: string | null
}

type World = Pick<SiteFile, 'sites' | 'devices' | 'rules'>

/**
 * Replays readings through the rules in memory and lists the incidents that would open, writing nothing.
 * Timers and silence are judged on the readings' own clock, up to `until` (default: the last reading).
 */
export function dryRun({ world, readings, until }: { world: World; readings: Reading[]; until?: number }): {
  incidents: DryRunIncident[]
  unknownDevices: string[]
} {
  const devices = new Map(world.devices.map((device) => [device.id, device]))
  const sites = new Map(world.sites.map((site) => [site.id, site]))
  const ordered = [...readings].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts))
  const start = ordered[0] ? Date.parse(ordered[0].ts) : 0
  const end = until ?? (ordered.length > 0 ? Date.parse(ordered[ordered.length - 1]?.ts ?? '') : start)

  const states = new Map<string, RuleState>()
  // Only devices heard in the replay can fall silent in it; the others' state is simply unknown.
  const lastSeen = new Map<string, number>()
  const open = new Map<string, DryRunIncident>()
  const incidents: DryRunIncident[] = []
  const groups = new Map<string, GroupMembers>()
  const unknownDevices = new Set<string>()

  function openIncident(
    rule: Rule,
    key: string,
    place: { site: string; zone: string | null; device: string | null },
    at: number,
  ) {
    if (open.has(key)) return
    const incident: DryRunIncident = {
      rule: rule.id,
      correlationKey: key,
      ...place,
      severity: rule.severity,
      openedAt: new Date(at).toISOString(),
      updates: 0,
      clearedAt: null,
    }
    open.set(key, incident)
    incidents.push(incident)
  }

  function closeIncident(key: string, at: number) {
    const incident = open.get(key)
    if (!incident) return
    incident.clearedAt = new Date(at).toISOString()
    open.delete(key)
  }

  function apply(rule: Rule, deviceId: string, effects: RuleEffect[]) {
    const device = devices.get(deviceId)
    if (!device) return
    const groupKey = groupKeyOf(rule, device)
    for (const effect of effects) {
      if (effect.type === 'schedule' || effect.type === 'cancel') continue
      if (rule.group) {
        if (!groupKey || effect.type === 'update') continue
        const members = groups.get(groupKey) ?? new Map<string, number>()
        groups.set(groupKey, members)
        const change = applyMember({
          rule,
          members,
          open: open.has(groupKey),
          device: deviceId,
          raised: effect.type === 'fire',
          at: effect.at,
        })
        const place = {
          site: device.site,
          zone: rule.group.by === 'zone' ? (device.zone ?? null) : null,
          device: null,
        }
        if (change === 'open') openIncident(rule, groupKey, place, effect.at)
        if (change === 'clear') closeIncident(groupKey, effect.at)
        continue
      }
      const key = deviceCorrelationKey(rule.id, deviceId)
      if (effect.type === 'fire')
        openIncident(rule, key, { site: device.site, zone: device.zone ?? null, device: deviceId }, effect.at)
      else if (effect.type === 'update') {
        const incident = open.get(key)
        if (incident) incident.updates++
      } else closeIncident(key, effect.at)
    }
  }

  /** Fires pending timers and silences that fall due up to `now`, in time order. */
  function advanceTo(now: number) {
    const due: { at: number; run: () => void }[] = []
    for (const device of world.devices) {
      for (const rule of world.rules) {
        if (!ruleMatches(rule, device)) continue
        const key = `${rule.id}|${device.id}`
        const state = states.get(key) ?? idleState
        if (state.phase === 'pending' && state.dueAt !== undefined && state.dueAt <= now) {
          const at = state.dueAt
          due.push({
            at,
            run: () => {
              const next = evaluateTimer({ state, now: at })
              states.set(key, next.state)
              apply(rule, device.id, next.effects)
            },
          })
        }
        const heard = lastSeen.get(device.id)
        if (rule.condition.kind === 'silent' && state.phase === 'idle' && heard !== undefined) {
          const at = heard + rule.condition.silentFor
          if (at <= now) {
            due.push({
              at,
              run: () => {
                states.set(key, { phase: 'active', since: at, count: 1 })
                apply(rule, device.id, [{ type: 'fire', at, value: null }])
              },
            })
          }
        }
      }
    }
    for (const { run } of due.sort((a, b) => a.at - b.at)) run()
  }

  for (const reading of ordered) {
    const device = devices.get(reading.device)
    if (!device) {
      unknownDevices.add(reading.device)
      continue
    }
    const at = Date.parse(reading.ts)
    advanceTo(at)
    lastSeen.set(device.id, at)
    for (const rule of world.rules) {
      if (!ruleMatches(rule, device)) continue
      const key = `${rule.id}|${device.id}`
      const next = evaluateReading({
        rule,
        state: states.get(key) ?? idleState,
        reading,
        site: sites.get(device.site),
      })
      states.set(key, next.state)
      apply(rule, device.id, next.effects)
    }
  }
  advanceTo(end)
  return { incidents, unknownDevices: [...unknownDevices] }
}
