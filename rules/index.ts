export { startCommandExpiry } from './command-expiry.ts'
export {
  type Command,
  type CommandStatus,
  commandSchema,
  commandStatuses,
} from './command-record.ts'
export { type CommandAnswer, type CommandStore, createCommandStore } from './command-store.ts'
export {
  type CustomerHistoryMember,
  customerHistoryMax,
  customerHistoryMember,
  customerHistoryOps,
} from './customer-history.ts'
export { type Answering, createDispatcher, type Dispatcher } from './dispatcher.ts'
export { type DryRunIncident, dryRun } from './dry-run.ts'
export { evaluateReading, evaluateTimer } from './evaluate-reading.ts'
export {
  type CommandEvent,
  commandEventSchema,
  eventsMaxLength,
  type IncidentEvent,
  incidentEventSchema,
  type TicketEvent,
  type TicketSummary,
  ticketEventSchema,
  ticketSummarySchema,
  type VigieEvent,
  vigieEventSchema,
  type WebhookEvent,
  webhookEventSchema,
} from './events.ts'
export {
  createTicketIntake,
  reportedRule,
  type TicketIntake,
  type TicketReport,
} from './external-ticket.ts'
export { createIncidentStore, type IncidentStore } from './incident-store.ts'
export {
  consumerGroup,
  deviceCorrelationKey,
  offerTimerMember,
  ruleKeys,
  type TimerTarget,
  timerMember,
} from './keys.ts'
export { computeKpis, type Kpis, kpisFromSums, type Spread } from './kpis.ts'
export {
  createMaintenanceWindows,
  type MaintenanceWindow,
  type MaintenanceWindows,
  maintenanceScopeSchema,
  maintenanceWindowSchema,
} from './maintenance-windows.ts'
export { codeOf, offerCodePattern } from './offer-codes.ts'
export {
  type ExternalRef,
  externalRefSchema,
  type Incident,
  incidentSchema,
  offerSchema,
  type Reporter,
  reporterSchema,
  type Ticket,
  type TicketEventType,
  type TimelineEntry,
  ticketEventTypes,
  ticketSchema,
  timelineEntrySchema,
} from './record-schemas.ts'
export { ruleMatches, rulesFor } from './rule-matcher.ts'
export { type Evaluation, idleState, type RuleEffect, type RuleState } from './rule-state.ts'
export { createRuleStateBook, type RuleStateBook } from './rule-state-book.ts'
export { createRuleWorker, type RuleWorkerOptions } from './rule-worker.ts'
export { createSeededRecords } from './seeded-records.ts'
export { isWithinLocalRange, localTime } from './site-clock.ts'
export { type Page, readSortedSetPage, type SortedSetPosition } from './sorted-set-page.ts'
export {
  type Candidate,
  createTechnicianRoster,
  isOnShift,
  type TechnicianRoster,
} from './technician-roster.ts'
export type { TimelineCap } from './ticket-bounds.ts'
export { compactFinishedTickets, compactTimeline } from './ticket-compaction.ts'
export { ticketFacts } from './ticket-facts.ts'
export type { IndexOp } from './ticket-indexes.ts'
export { ensureTicketIndexes, ticketIndexVersion } from './ticket-reindex.ts'
export {
  isFinished,
  nextStatus,
  type TicketAction,
  type TicketStatus,
  ticketStatuses,
} from './ticket-states.ts'
export { createTicketStore, type TicketQuery, type TicketStore } from './ticket-store.ts'
export { applyMember, type GroupChange, type GroupMembers, groupKeyOf } from './zone-groups.ts'
