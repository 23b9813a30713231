import { createHash } from 'node:crypto'
import type { LifeOutcome } from './life-runner.ts'

/** What the year holds, counted as it was written; equal for equal seeds and sizes. */
export type YearSummary = {
  tickets: number
  byStatus: Record<string, number>
  byRule: Record<string, number>
  bySeverity: Record<string, number>
  /** Timeline entries by type, kept or folded. */
  timeline: Record<string, number>
  incidents: number
  notifications: {
    total: number
    byStatus: Record<string, number>
    byTemplate: Record<string, number>
    byChannel: Record<string, number>
  }
  readings: number
  /** SHA-256 over every ticket's times, rule, place, status and timeline, and its notifications: no random ids. */
  digest: string
}

const count = (tally: Record<string, number>, key: string, by = 1) => {
  tally[key] = (tally[key] ?? 0) + by
}

/** Adds up the lives as they end, in any order; the digest follows the order they were planned in. */
export function createYearTally() {
  const summary: Omit<YearSummary, 'digest'> = {
    tickets: 0,
    byStatus: {},
    byRule: {},
    bySeverity: {},
    timeline: {},
    incidents: 0,
    notifications: { total: 0, byStatus: {}, byTemplate: {}, byChannel: {} },
    readings: 0,
  }
  const fingerprints: string[] = []
  return {
    add: (index: number, { ticket, notifications, incidents }: LifeOutcome): void => {
      summary.tickets++
      summary.incidents += incidents
      count(summary.byStatus, ticket.status)
      count(summary.byRule, ticket.rule)
      count(summary.bySeverity, ticket.severity)
      for (const entry of ticket.timeline) count(summary.timeline, entry.type)
      for (const [type, n] of Object.entries(ticket.folded ?? {})) count(summary.timeline, type, n ?? 0)
      for (const n of notifications) {
        summary.notifications.total++
        count(summary.notifications.byStatus, n.status)
        count(summary.notifications.byTemplate, n.template)
        count(summary.notifications.byChannel, n.channel)
      }
      const messages = notifications
        .map((n) => `${n.id.slice(ticket.id.length)} ${n.status} ${n.attempts} ${n.sentAt}`)
        .sort()
      fingerprints[index] = createHash('sha256')
        .update(
          [
            ticket.createdAt,
            ticket.rule,
            ticket.device,
            ticket.zone,
            ticket.status,
            ticket.assignee,
            ticket.resolvedAt,
            ...ticket.timeline.map((e) => `${e.at} ${e.type} ${e.by}`),
            ...messages,
          ].join('\n'),
        )
        .digest('hex')
    },
    finish: (readings: number): YearSummary => ({
      ...summary,
      readings,
      digest: createHash('sha256').update(fingerprints.join('\n')).digest('hex'),
    }),
  }
}
