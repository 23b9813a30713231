/** Every Redis key the rule workers write, under the deployment's prefix. */
export type RuleKeys = ReturnType<typeof ruleKeys>

export function ruleKeys(prefix: string) {
  return {
    /** One hash per device: rule id → its RuleState as JSON. */
    states: (deviceId: string) => `${prefix}rule-states:${deviceId}`,
    /** Pending timers of one shard (members: timerMember), score the due time. */
    timers: (shard: number) => `${prefix}rule-timers:${shard}`,
    /** Who processes a shard of the readings log now. */
    lease: (shard: number) => `${prefix}rules-lease:${shard}`,
    /** Members of a zone-wide rule's group (device → when it raised), and whether its incident is open. */
    groupMembers: (groupKey: string) => `${prefix}group-members:${groupKey}`,
    groupOpen: (groupKey: string) => `${prefix}group-open:${groupKey}`,
    /** The incident id active under a correlation key; never two at once. */
    activeIncident: (correlationKey: string) => `${prefix}incident-active:${correlationKey}`,
    incident: (id: string) => `${prefix}incident:${id}`,
    /** Every incident by opening time. */
    incidents: `${prefix}incidents`,
    /** One device's incidents by opening time, the newest kept (rules/incident-store.ts), written as each opens. */
    incidentsOf: (device: string) => `${prefix}incidents-of:${device}`,
    /** One device's incidents still active: written as each opens, left as it clears. */
    activeIncidentsOf: (device: string) => `${prefix}incidents-active-of:${device}`,
    ticket: (id: string) => `${prefix}ticket:${id}`,
    /** Every ticket by creation time. */
    tickets: `${prefix}tickets`,
    /** Tickets by creation time under one value of a field (status, site, zone, device, rule, key). */
    ticketsBy: (field: TicketIndexField, value: string) => `${prefix}tickets-by:${field}:${value}`,
    /** The sites that have tickets: the KPIs of "every site" read theirs. */
    ticketSites: `${prefix}ticket-sites`,
    /** Counters kept as tickets move: `status:<s>` and `open:<severity>` (unfinished). */
    ticketCounts: `${prefix}ticket-counts`,
    /** Unfinished tickets assigned to each technician: the loads dispatch balances. */
    technicianLoads: `${prefix}technician-loads`,
    /** KPI sums of the tickets created in one hour, day or month at a site (rules/ticket-facts.ts). */
    kpiAggregate: (site: string, period: string) => `${prefix}kpi:${site}:${period}`,
    /** Per finished status, the creation time up to which old tickets were compacted (rules/ticket-compaction.ts). */
    compactionCursor: `${prefix}ticket-compaction`,
    /** Which layout of the indexes above is built; absent on a deployment that predates them. */
    ticketIndexVersion: `${prefix}ticket-index-version`,
    /** Set while a build runs, so the next claimant of a build whose process died clears it first. */
    ticketIndexBuildMark: `${prefix}ticket-index-version:build-started`,
    /** Who builds the ticket indexes now (rules/ticket-reindex.ts): one process at a time. */
    ticketIndexBuildLease: `${prefix}ticket-index-build-lease`,
    /** The unfinished ticket of a correlation key: a new incident there joins it instead of opening another. */
    openTicket: (correlationKey: string) => `${prefix}ticket-open:${correlationKey}`,
    /** The ticket opened for an external reference (source, id): claimed in the ticket's own write, never two. */
    externalTicket: (source: string, id: string) => `${prefix}ticket-external:${source}:${id}`,
    /** One customer's timeline (rules/customer-history.ts members), by time, written with each record it names. */
    customerHistory: (customer: string) => `${prefix}customer-history:${customer}`,
    /** Technicians' records by id (JSON), and where each came from: site, api or deleted. */
    technicians: `${prefix}technicians`,
    technicianOrigins: `${prefix}technician-origins`,
    /** A technician's id by their phone, written in the same step as their record (an SMS names its sender). */
    technicianByPhone: `${prefix}technician-by-phone`,
    /** Live technician positions (Redis GEO) and availability. */
    technicianPositions: `${prefix}technician-positions`,
    technicianAvailability: `${prefix}technician-availability`,
    /** Offers waiting for an answer, across shards (members: offerTimerMember), score the expiry. */
    offerTimers: `${prefix}offer-timers`,
    /** The tickets offered to a technician now (a set of ids), written in the same step as each ticket. */
    offersOf: (technician: string) => `${prefix}offers-of:${technician}`,
    /** Maintenance windows by id (JSON); new incidents under one are suppressed. */
    maintenanceWindows: `${prefix}maintenance-windows`,
    /** Typed events for the engage step (notifier), in order. */
    events: `${prefix}events`,
    /** Issue 19: one device command (JSON, rules/command-record.ts). */
    command: (id: string) => `${prefix}command:${id}`,
    /** A device's commands by creation time, written in the same step as each command. */
    commandsOf: (device: string) => `${prefix}commands-of:${device}`,
    /** Its finished ones (done, failed, expired) by creation time: the oldest go past DEVICE_COMMANDS_KEPT. */
    commandsFinishedOf: (device: string) => `${prefix}commands-finished-of:${device}`,
    /** Commands not answered yet, score their expiry: the sweep marks those past it expired. */
    commandExpiries: `${prefix}command-expiries`,
    /** What the broker role publishes (fields t: topic, p: payload), consumed by group `brokers`. */
    commandOutbox: `${prefix}command-outbox`,
  }
}

export const consumerGroup = 'rules'

/** A device's correlation key under a rule (a zone's is groupKeyOf's): its incidents and tickets go by it. */
export const deviceCorrelationKey = (ruleId: string, deviceId: string): string => `${ruleId}:${deviceId}`

/** What a shard's timer is for: a rule's `for:` on a device, or checking that a cleared incident stayed clear. */
export type TimerTarget =
  | { kind: 'rule'; rule: string; device: string }
  | { kind: 'resolve'; correlationKey: string }

/** The member encoding of a shard's timers: "rule|device", or "resolve|correlation key". */
export const timerMember = {
  of: (target: TimerTarget): string =>
    target.kind === 'resolve' ? `resolve|${target.correlationKey}` : `${target.rule}|${target.device}`,
  read: (member: string): TimerTarget => {
    if (member.startsWith('resolve|'))
      return { kind: 'resolve', correlationKey: member.slice('resolve|'.length) }
    const [rule = '', device = ''] = member.split('|')
    return { kind: 'rule', rule, device }
  },
}

/** The member encoding of the offer timers: "ticket|technician". */
export const offerTimerMember = {
  of: (ticket: string, technician: string): string => `${ticket}|${technician}`,
  read: (member: string): { ticket: string; technician: string } => {
    const [ticket = '', technician = ''] = member.split('|')
    return { ticket, technician }
  },
}

export type TicketIndexField = 'status' | 'site' | 'zone' | 'device' | 'rule' | 'key'
