import { readSurveyAnswer, type SurveyAnswer } from '../domain/index.ts'
import type { Ticket, TimelineEntry } from './record-schemas.ts'

/** A ticket's share of the KPI sums: field → count. Spreads are histograms, `<measure>:<minutes>` → tickets. */
export type Facts = Map<string, number>

export const spreadMeasures = ['notice', 'ack', 'resolve'] as const
export type SpreadMeasure = (typeof spreadMeasures)[number]

// Customer messages, as the notifier names its templates in `ticket.notified` entries.
const customerTemplates = ['notice', 'eta', 'all-clear', 'survey']

/** A message sent to a customer: the first one on a ticket is its time to first notice. */
export const isCustomerNotice = (e: TimelineEntry): boolean =>
  e.type === 'ticket.notified' && customerTemplates.some((name) => e.detail?.includes(`(${name})`))

/** Three significant digits (0.1 minute under 100): as precise as the KPIs print, at most 0.5 % off above. */
export function quantizeMinutes(minutes: number): number {
  if (minutes < 100) return Math.round(minutes * 10) / 10
  const step = minutes < 1000 ? 1 : minutes < 10_000 ? 10 : 100
  return Math.round(minutes / step) * step
}

const minutesBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 60_000

/**
 * What one ticket adds to the KPIs of its creation hour, day and month (README § KPIs). Kept sums are
 * this function of the ticket as it is now: each change adds facts(after) − facts(before).
 */
export function ticketFacts(ticket: Ticket): Facts {
  const facts: Facts = new Map([['tickets', 1]])
  const spread = (measure: SpreadMeasure, at: string | undefined) => {
    if (at !== undefined) facts.set(`${measure}:${quantizeMinutes(minutesBetween(ticket.createdAt, at))}`, 1)
  }
  spread('notice', ticket.timeline.find(isCustomerNotice)?.at)
  spread('ack', ticket.timeline.find((e) => e.type === 'ticket.acknowledged')?.at)
  const { resolvedAt } = ticket
  if (resolvedAt !== null) {
    spread('resolve', resolvedAt)
    facts.set('resolved', 1)
    if (Date.parse(resolvedAt) <= Date.parse(ticket.slaDueAt)) facts.set('slaMet', 1)
    // Fixed at the first visit: no new ticket on the same key within a week of resolution (revisitedBy).
    if (ticket.revisitedBy === undefined) facts.set('fixed', 1)
    const contact = ticket.timeline.find((e) => e.type === 'ticket.customer_contacted')
    if (!contact || Date.parse(contact.at) > Date.parse(resolvedAt)) facts.set('beforeContact', 1)
  }
  const answers = surveyAnswersOf(ticket)
  const count = (field: string, n: number) => {
    if (n > 0) facts.set(field, n)
  }
  // CSAT keeps its fields of before issue 18 (answers, positive), so sums already kept stay right.
  const csat = answers.filter((a) => a.kind === 'csat').map((a) => a.score)
  count('answers', csat.length)
  count('positive', csat.filter((a) => a >= 4).length)
  const nps = answers.filter((a) => a.kind === 'nps').map((a) => a.score)
  count('npsAnswers', nps.length)
  count('npsPromoters', nps.filter((a) => a >= 9).length)
  count('npsDetractors', nps.filter((a) => a <= 6).length)
  const ces = answers.filter((a) => a.kind === 'ces').map((a) => a.score)
  count('cesAnswers', ces.length)
  count(
    'cesSum',
    ces.reduce((sum, a) => sum + a, 0),
  )
  return facts
}

/** A ticket's survey answers, of every kind; an entry that is no answer of ours is skipped. */
export const surveyAnswersOf = (ticket: Ticket): SurveyAnswer[] =>
  ticket.timeline.flatMap((e) => {
    const answer = e.type === 'ticket.survey_answered' ? readSurveyAnswer(e.detail) : null
    return answer ? [answer] : []
  })

/** What changes in the sums when a ticket goes from before to after; fields that do not move are left out. */
export function factDeltas(before: Ticket | null, after: Ticket): Facts {
  const deltas: Facts = new Map(ticketFacts(after))
  for (const [field, count] of before ? ticketFacts(before) : [])
    deltas.set(field, (deltas.get(field) ?? 0) - count)
  for (const [field, delta] of deltas) if (delta === 0) deltas.delete(field)
  return deltas
}

/** The UTC hour, day and month a ticket was created in: the periods whose sums it joins. */
export function periodsOf(createdAt: string): string[] {
  const iso = new Date(createdAt).toISOString()
  return [iso.slice(0, 13), iso.slice(0, 10), iso.slice(0, 7)]
}
