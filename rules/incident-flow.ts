import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Device, Rule } from '../config/index.ts'
import type { Clock } from '../domain/index.ts'
import type { Dispatcher } from './dispatcher.ts'
import type { IncidentStore } from './incident-store.ts'
import { deviceCorrelationKey, timerMember } from './keys.ts'
import type { MaintenanceWindows } from './maintenance-windows.ts'
import type { Ticket } from './record-schemas.ts'
import { rulesFor } from './rule-matcher.ts'
import type { RuleEffect } from './rule-state.ts'
import { isFinished } from './ticket-states.ts'
import type { TicketStore } from './ticket-store.ts'
import type { ZoneGroupStore } from './zone-group-store.ts'
import { groupKeyOf } from './zone-groups.ts'

export type DeviceWhere = Pick<Device, 'id' | 'kind' | 'site' | 'zone' | 'location'>

type Place = { site: string; zone: string | null; device: string | null }

/**
 * What a rule's effects do to incidents and tickets: open one per correlation key (or per zone for a
 * group rule), join or dispatch its ticket, clear it, and resolve the ticket once it stayed clear. New
 * incidents under a maintenance window, or of a device whose ticket has its technician on site, are
 * suppressed and noted on that ticket instead.
 */
export function createIncidentFlow({
  redis,
  rules,
  incidents,
  tickets,
  dispatcher,
  groups,
  maintenance,
  autoResolveAfterClear,
  logger,
  clock,
}: {
  redis: Redis
  rules: Rule[]
  incidents: IncidentStore
  tickets: TicketStore
  dispatcher: Dispatcher
  groups: ZoneGroupStore
  maintenance: MaintenanceWindows
  autoResolveAfterClear: number
  logger: Logger
  clock: Clock
}) {
  /** The device's unfinished tickets, over every rule that watches it. */
  async function openTicketsOf(device: DeviceWhere): Promise<Ticket[]> {
    const ids = await Promise.all(
      rulesFor(rules, device).map((rule) => tickets.openTicketOf(deviceCorrelationKey(rule.id, device.id))),
    )
    const found = await Promise.all(ids.filter((id): id is string => id !== null).map(tickets.get))
    return found.filter((t): t is Ticket => t !== null && !isFinished(t.status))
  }

  /** Why a new incident at this place is suppressed, and the ticket it is noted on, if it is. */
  async function suppression(
    place: Place,
    device: DeviceWhere | null,
    at: number,
  ): Promise<{ why: string; ticket: Ticket | null } | null> {
    const open = device ? await openTicketsOf(device) : []
    const onSite = open.find((t) => t.status === 'on_site')
    if (onSite) return { why: `technician ${onSite.assignee ?? 'unknown'} on site`, ticket: onSite }
    const window = await maintenance.covering(place, at)
    if (window) return { why: `maintenance window ${window.id}: ${window.reason}`, ticket: open[0] ?? null }
    return null
  }

  async function open(
    rule: Rule,
    correlationKey: string,
    place: Place,
    device: DeviceWhere | null,
    effect: { type: 'fire' | 'update'; at: number; value: unknown },
  ) {
    if (!(await incidents.active(correlationKey))) {
      const suppressed = await suppression(place, device, effect.at)
      if (suppressed) {
        if (effect.type === 'fire')
          logger.info({ rule: rule.id, correlationKey, why: suppressed.why }, 'incident suppressed')
        // Noted once, when the condition starts, not on every repeat.
        if (suppressed.ticket && effect.type === 'fire')
          await tickets.note(
            suppressed.ticket.id,
            'ticket.incident_suppressed',
            'telemetry',
            effect.at,
            `${rule.id}: ${suppressed.why}`,
          )
        return
      }
    }
    const incident = await incidents.raise({ rule, correlationKey, ...place }, effect.at, effect.value)
    if (incident.count !== 1) return
    const { ticket, created } = await tickets.openFor(incident, effect.at)
    if (created) await dispatcher.dispatch(ticket.id, clock.now())
  }

  async function clear(correlationKey: string, at: number, value: unknown, timers: string) {
    const cleared = await incidents.clear(correlationKey, at, value)
    const ticketId = await tickets.openTicketOf(correlationKey)
    if (!cleared || !ticketId) return
    await tickets.note(ticketId, 'ticket.incident_cleared', 'telemetry', at, cleared.id)
    // Resolved only if it stays clear through the verification period.
    await redis.zadd(timers, at + autoResolveAfterClear, timerMember.of({ kind: 'resolve', correlationKey }))
  }

  async function applyToGroup(rule: Rule, device: DeviceWhere, effect: RuleEffect, timers: string) {
    const groupKey = groupKeyOf(rule, device)
    if (!groupKey || !rule.group || (effect.type !== 'fire' && effect.type !== 'clear')) return
    const change = await groups.member({
      rule,
      groupKey,
      device: device.id,
      raised: effect.type === 'fire',
      at: effect.at,
    })
    const place = {
      site: device.site,
      zone: rule.group.by === 'zone' ? (device.zone ?? null) : null,
      device: null,
    }
    if (change === 'open') await open(rule, groupKey, place, null, { ...effect, type: 'fire' })
    if (change === 'clear') await clear(groupKey, effect.at, effect.value, timers)
  }

  return {
    /** Applies the incident side of a rule's effects; `timers` is the shard's timer set. */
    apply: async (rule: Rule, device: DeviceWhere, effect: RuleEffect, timers: string): Promise<void> => {
      if (effect.type === 'schedule' || effect.type === 'cancel') return
      if (rule.group) return applyToGroup(rule, device, effect, timers)
      const correlationKey = deviceCorrelationKey(rule.id, device.id)
      const place = { site: device.site, zone: device.zone ?? null, device: device.id }
      if (effect.type === 'clear') return clear(correlationKey, effect.at, effect.value, timers)
      // A repeat updates the active incident; with none (it was suppressed), it is judged like a first one.
      await open(rule, correlationKey, place, device, effect)
    },

    /** The verification period ended: resolve the ticket if its incident stayed clear. */
    verifyResolution: async (correlationKey: string, now: number): Promise<void> => {
      const ticketId = await tickets.openTicketOf(correlationKey)
      if (!ticketId || (await incidents.active(correlationKey))) return
      await tickets
        .act(ticketId, 'resolve', 'telemetry', now, 'verified by telemetry')
        .catch((err: unknown) => logger.info({ err, ticketId }, 'ticket not auto-resolved'))
    },
  }
}
