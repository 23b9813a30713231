import type { Ticket } from './record-schemas.ts'
import { type Facts, isCustomerNotice, type SpreadMeasure, surveyAnswersOf } from './ticket-facts.ts'

/** Minutes, p50 and p90 (nearest rank), over the tickets that have the measure; null when none do. */
export type Spread = { p50: number; p90: number; count: number } | null

export type Kpis = {
  tickets: number
  timeToFirstNoticeMinutes: Spread
  timeToAcknowledgeMinutes: Spread
  timeToResolveMinutes: Spread
  slaMetPercent: number | null
  firstVisitFixPercent: number | null
  resolvedBeforeCustomerContactPercent: number | null
  csatPercent: number | null
  csatAnswers: number
  /** % promoters (9–10) − % detractors (0–6) of the NPS answers, −100 to 100. */
  npsScore: number | null
  npsAnswers: number
  /** The mean CES answer, 1 (very hard) to 7 (very easy). */
  cesMean: number | null
  cesAnswers: number
}

const repeatWindowMs = 7 * 86_400_000

const minutesBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 60_000
const round = (value: number) => Math.round(value * 10) / 10
const percent = (part: number, whole: number) => (whole === 0 ? null : round((100 * part) / whole))

/** NPS and CES from their counts (README § KPIs): the same arithmetic for timelines and kept sums. */
const npsAndCes = (s: {
  npsAnswers: number
  npsPromoters: number
  npsDetractors: number
  cesAnswers: number
  cesSum: number
}) => ({
  npsScore: percent(s.npsPromoters - s.npsDetractors, s.npsAnswers),
  npsAnswers: s.npsAnswers,
  cesMean: s.cesAnswers === 0 ? null : Math.round((100 * s.cesSum) / s.cesAnswers) / 100,
  cesAnswers: s.cesAnswers,
})

function spread(values: number[]): Spread {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0
  return { p50: round(rank(50)), p90: round(rank(90)), count: sorted.length }
}

const first = (ticket: Ticket, test: (e: Ticket['timeline'][number]) => boolean) => ticket.timeline.find(test)

/**
 * Customer-experience figures from ticket timelines (README § KPIs gives each definition). Detection
 * is the ticket's creation: the incident's time.
 */
export function computeKpis(tickets: Ticket[], everyTicket: Ticket[] = tickets): Kpis {
  const resolved = tickets.filter((t) => t.resolvedAt !== null)
  // Fixed at the first visit: no new ticket for the same device and rule within a week of resolution.
  const revisited = (t: Ticket) =>
    everyTicket.some((other) => {
      const after = Date.parse(other.createdAt) - Date.parse(t.resolvedAt ?? '')
      return (
        other.id !== t.id && other.correlationKey === t.correlationKey && after > 0 && after <= repeatWindowMs
      )
    })
  const firstNotice = tickets.flatMap((t) => {
    const notice = first(t, isCustomerNotice)
    return notice ? [minutesBetween(t.createdAt, notice.at)] : []
  })
  const acknowledged = tickets.flatMap((t) => {
    const ack = first(t, (e) => e.type === 'ticket.acknowledged')
    return ack ? [minutesBetween(t.createdAt, ack.at)] : []
  })
  const every = tickets.flatMap(surveyAnswersOf)
  const scoresOf = (kind: string) => every.filter((a) => a.kind === kind).map((a) => a.score)
  const answers = scoresOf('csat')
  const nps = scoresOf('nps')
  const ces = scoresOf('ces')
  return {
    tickets: tickets.length,
    timeToFirstNoticeMinutes: spread(firstNotice),
    timeToAcknowledgeMinutes: spread(acknowledged),
    timeToResolveMinutes: spread(
      resolved.map((t) => minutesBetween(t.createdAt, t.resolvedAt ?? t.createdAt)),
    ),
    slaMetPercent: percent(
      resolved.filter((t) => Date.parse(t.resolvedAt ?? '') <= Date.parse(t.slaDueAt)).length,
      resolved.length,
    ),
    firstVisitFixPercent: percent(resolved.filter((t) => !revisited(t)).length, resolved.length),
    resolvedBeforeCustomerContactPercent: percent(
      resolved.filter((t) => {
        const contact = first(t, (e) => e.type === 'ticket.customer_contacted')
        return !contact || Date.parse(contact.at) > Date.parse(t.resolvedAt ?? '')
      }).length,
      resolved.length,
    ),
    csatPercent: percent(answers.filter((a) => a >= 4).length, answers.length),
    csatAnswers: answers.length,
    ...npsAndCes({
      npsAnswers: nps.length,
      npsPromoters: nps.filter((a) => a >= 9).length,
      npsDetractors: nps.filter((a) => a <= 6).length,
      cesAnswers: ces.length,
      cesSum: ces.reduce((sum, a) => sum + a, 0),
    }),
  }
}

/** p50 and p90 (nearest rank) of a histogram `<measure>:<minutes>` → count. */
function spreadOfHistogram(sums: Facts, measure: SpreadMeasure): Spread {
  const prefix = `${measure}:`
  const buckets: [number, number][] = []
  let count = 0
  for (const [field, n] of sums) {
    if (!field.startsWith(prefix) || n <= 0) continue
    buckets.push([Number(field.slice(prefix.length)), n])
    count += n
  }
  if (count === 0) return null
  buckets.sort((a, b) => a[0] - b[0])
  const rank = (p: number) => {
    const wanted = Math.max(1, Math.ceil((p / 100) * count))
    let seen = 0
    for (const [minutes, n] of buckets) {
      seen += n
      if (seen >= wanted) return minutes
    }
    return buckets.at(-1)?.[0] ?? 0
  }
  return { p50: round(rank(50)), p90: round(rank(90)), count }
}

/** The same figures as computeKpis, from sums kept per period (rules/ticket-facts.ts) instead of timelines. */
export function kpisFromSums(sums: Facts): Kpis {
  const sum = (field: string) => sums.get(field) ?? 0
  const answers = sum('answers')
  return {
    tickets: sum('tickets'),
    timeToFirstNoticeMinutes: spreadOfHistogram(sums, 'notice'),
    timeToAcknowledgeMinutes: spreadOfHistogram(sums, 'ack'),
    timeToResolveMinutes: spreadOfHistogram(sums, 'resolve'),
    slaMetPercent: percent(sum('slaMet'), sum('resolved')),
    firstVisitFixPercent: percent(sum('fixed'), sum('resolved')),
    resolvedBeforeCustomerContactPercent: percent(sum('beforeContact'), sum('resolved')),
    csatPercent: percent(sum('positive'), answers),
    csatAnswers: answers,
    ...npsAndCes({
      npsAnswers: sum('npsAnswers'),
      npsPromoters: sum('npsPromoters'),
      npsDetractors: sum('npsDetractors'),
      cesAnswers: sum('cesAnswers'),
      cesSum: sum('cesSum'),
    }),
  }
}
