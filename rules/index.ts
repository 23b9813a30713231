export { createDispatcher, type Dispatcher } from './dispatcher.ts'
export { type DryRunIncident, dryRun } from './dry-run.ts'
export { evaluateReading, evaluateTimer } from './evaluate-reading.ts'
export {
  createIncidentStore,
  type Incident,
  type IncidentEvent,
  type IncidentStore,
} from './incident-store.ts'
export { ruleKeys } from './keys.ts'
export { ruleMatches, rulesFor } from './rule-matcher.ts'
export { type Evaluation, idleState, type RuleEffect, type RuleState } from './rule-state.ts'
export { createRuleWorker, type RuleWorkerOptions } from './rule-worker.ts'
export { isWithinLocalRange, localTime } from './site-clock.ts'
export {
  type Candidate,
  createTechnicianRoster,
  isOnShift,
  type TechnicianRoster,
} from './technician-roster.ts'
export {
  isFinished,
  nextStatus,
  type TicketAction,
  type TicketStatus,
  ticketStatuses,
} from './ticket-states.ts'
export { createTicketStore, type Ticket, type TicketStore, type TimelineEntry } from './ticket-store.ts'
export { applyMember, type GroupChange, type GroupMembers, groupKeyOf } from './zone-groups.ts'
