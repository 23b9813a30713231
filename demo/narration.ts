import { readSurveyAnswer, surveyScales } from '../domain/index.ts'
import type { Kpis, VigieEvent } from '../rules/index.ts'

export type Names = {
  rule: (id: string) => string
  technician: (id: string) => string
}

const clock = (at: string) => at.slice(11, 19)

/**
 * One line of the demo's story for an event of the stream, or null for the ones that would only add noise
 * (an incident updated by each new reading, a comment).
 */
export function narrate(event: VigieEvent, names: Names): string | null {
  if (event.type === 'incident.opened') {
    const { incident } = event
    const where = incident.device ?? incident.zone ?? incident.site
    return `${clock(event.at)}  incident  ${names.rule(incident.rule)} at ${where} (${incident.severity})`
  }
  if (event.type === 'incident.cleared')
    return `${clock(event.at)}  cleared   ${names.rule(event.incident.rule)}: the readings are back to normal`
  if (!event.type.startsWith('ticket.')) return null
  const { ticket } = event as Extract<VigieEvent, { ticket: unknown }>
  const what = `${names.rule(ticket.rule)} (${ticket.id.slice(0, 8)})`
  const who = (id: string | null | undefined) => (id ? names.technician(id) : 'nobody')
  switch (event.type) {
    case 'ticket.created':
      return `${clock(event.at)}  ticket    opened: ${what}, ${ticket.severity}, SLA ${clock(ticket.slaDueAt)}`
    case 'ticket.offered': {
      const offer = ticket.offer
      const trip =
        offer?.distanceKm === undefined
          ? ''
          : ` — ${Math.round(offer.distanceKm * 1000)} m, ETA ${offer.etaMinutes} min`
      return `${clock(event.at)}  offer     ${what} offered to ${who(offer?.technician)}${trip}`
    }
    case 'ticket.declined':
    case 'ticket.offer_expired':
      return `${clock(event.at)}  offer     ${what}: ${event.type === 'ticket.declined' ? 'declined' : 'no answer'}, next technician`
    case 'ticket.escalated':
      return `${clock(event.at)}  escalated ${what}: ${event.detail ?? 'no technician'}`
    case 'ticket.acknowledged':
      return `${clock(event.at)}  accepted  ${what} by ${who(ticket.assignee)}`
    case 'ticket.en_route':
      return `${clock(event.at)}  en route  ${who(ticket.assignee)} to ${ticket.device ?? ticket.zone ?? ticket.site}`
    case 'ticket.on_site':
      return `${clock(event.at)}  on site   ${who(ticket.assignee)} at ${ticket.device ?? ticket.zone ?? ticket.site}`
    case 'ticket.resolved':
      return `${clock(event.at)}  resolved  ${what}${event.detail ? `: ${event.detail}` : ''}`
    case 'ticket.notified':
      return `${clock(event.at)}  sent      ${event.detail ?? ''}`
    case 'ticket.notification_failed':
      return `${clock(event.at)}  FAILED    ${event.detail ?? ''}`
    case 'ticket.survey_answered': {
      const answer = readSurveyAnswer(event.detail)
      const of = answer
        ? `${answer.score} of ${surveyScales[answer.kind].max} (${answer.kind.toUpperCase()})`
        : '?'
      return `${clock(event.at)}  survey    a customer answered ${of} about ${what}`
    }
    default:
      return null
  }
}

const minutes = (spread: Kpis['timeToResolveMinutes']) =>
  spread ? `p50 ${spread.p50} min, p90 ${spread.p90} min (${spread.count})` : 'none yet'
const percent = (value: number | null) => (value === null ? 'none yet' : `${value} %`)

/** The KPIs as the demo prints them at the end (README § KPIs has each definition). */
export function kpiReport(kpis: Kpis): string[] {
  return [
    `tickets                          ${kpis.tickets}`,
    `time to first customer notice    ${minutes(kpis.timeToFirstNoticeMinutes)}`,
    `time to acknowledge              ${minutes(kpis.timeToAcknowledgeMinutes)}`,
    `time to resolve                  ${minutes(kpis.timeToResolveMinutes)}`,
    `SLA met                          ${percent(kpis.slaMetPercent)}`,
    `first-visit fix                  ${percent(kpis.firstVisitFixPercent)}`,
    `resolved before customers called ${percent(kpis.resolvedBeforeCustomerContactPercent)}`,
    `CSAT (4–5 of 5)                  ${percent(kpis.csatPercent)} from ${kpis.csatAnswers} answers`,
  ]
}
