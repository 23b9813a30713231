import type { Device, Rule, Severity } from '../config/index.ts'
import type { DispatchChoice } from './dispatch-choice.ts'
import { fitToYear } from './life-ending.ts'
import { lifeMessages } from './life-messages.ts'
import type { LifeStep, OpenStage } from './life-steps.ts'
import { createRandom, type Random } from './seeded-random.ts'
import type { WorldIndex } from './world-index.ts'
import { hourMs, minuteMs } from './year-calendar.ts'

/** One ticket of the year as planned: what fires, where, when, and where its life stops if still open. */
export type LifePlan = {
  index: number
  createdAt: number
  rule: Rule
  site: string
  device: Device | null
  zone: string | null
  correlationKey: string
  stage: OpenStage | null
}

export type LifeWorld = {
  index: WorldIndex
  chooser: DispatchChoice
  seed: string
  end: number
}

const minute = minuteMs
const hour = hourMs

// Mean time from a technician on site to the fix; "resolve within hours" at most.
const fixMean: Record<Severity, number> = {
  critical: 6 * minute,
  major: 25 * minute,
  minor: 70 * minute,
  info: 3 * hour,
}
const fixCeiling = 14 * hour

const fixNotes = [
  'reset the controller',
  'replaced the door closer',
  'cabinet re-seated, AED back in place',
  'replaced the sensor battery',
  'cleaned the filter, airflow back to normal',
  'gateway power supply replaced',
  null,
]
const comments = [
  'parts ordered, back tomorrow morning',
  'access badge needed for the plant room',
  'called the tenant, they confirm the issue',
  'second visit needed for a full check',
  'photo added to the maintenance log',
]

/** The reading's value that raises the incident, and the one that clears it, per rule. */
function values(rule: Rule, random: Random): { raised: unknown; cleared: unknown } {
  switch (rule.condition.kind) {
    case 'above':
      return {
        raised: round(random.between(rule.condition.above + 0.2, rule.condition.above + 5)),
        cleared: 23.4,
      }
    case 'below':
      return {
        raised: round(random.between(rule.condition.below - 5, rule.condition.below - 0.2)),
        cleared: 19.8,
      }
    case 'equals':
      return { raised: rule.condition.equals, cleared: rule.condition.equals !== true }
    default:
      return { raised: null, cleared: null }
  }
}
const round = (n: number) => Math.round(n * 10) / 10

/**
 * Plans one ticket's life, from its incident to its close, as production would write it: offers within a
 * minute, an answer within the offer timeout, an acknowledgement within minutes, a fix within hours; some
 * offers declined or left to expire, some tickets escalated, cancelled or resolved by telemetry; customer
 * notices, ETAs, all-clears and surveys, offers to technicians, escalations to supervisors. A ticket still
 * open at `end` stops at its stage. The same plan and seed give the same steps.
 */
export function planLife(
  plan: LifePlan,
  { index, chooser, seed, end }: LifeWorld,
): { steps: LifeStep[]; busyUntil: number } {
  const random = createRandom(`${seed}:life:${plan.index}`)
  const { rule, stage } = plan
  const { site, world } = index
  const { offerTimeout, maxOffers, travelSpeedKmh, supervisors } = world.dispatch
  const steps: LifeStep[] = []
  const add = (step: LifeStep) => steps.push(step)
  const place = plan.device?.location ?? site.location
  const where = { device: plan.device?.id ?? null, zone: plan.zone, site: plan.site }
  const customers = rule.notifyCustomers ? index.customersOf(where) : []
  const { raised, cleared } = values(rule, random)
  // A ticket still open at the end is on its way to a fix when the year stops it.
  const fate = stage
    ? 'fixed'
    : random.weighted({ fixed: 83, telemetry: 7, cancelled: 4, escalated: 4, unanswered: 2 })

  const tell = lifeMessages({ rule, index, customers, random, steps })
  const escalate = (at: number, why: string) => {
    const names = supervisors.map((s) => s.name).join(', ') || 'no supervisor configured'
    add({ at, kind: 'escalate', why: `${why}; to ${names}` })
    tell.supervisors(at)
  }
  const resolve = (at: number, by: string, detail: string | null) => {
    add({ at, kind: 'act', action: 'resolve', by, detail })
    tell.customers('all-clear', at)
    tell.customers('survey', at)
    if (random.chance(0.75))
      add({
        at: at + random.between(2 * hour, 36 * hour),
        kind: 'act',
        action: 'close',
        by: 'ops-desk',
        detail: null,
      })
  }
  const clearIncident = (at: number) => add({ at, kind: 'clear', value: cleared })

  const t0 = plan.createdAt
  add({ at: t0, kind: 'open', value: raised })
  if (customers.length > 0 && random.chance(0.08))
    add({
      at: t0 + random.between(2 * minute, 45 * minute),
      kind: 'note',
      type: 'ticket.customer_contacted',
      by: 'support-desk',
      detail: 'the customer called the help desk about it',
    })
  if (random.chance(0.1))
    add({
      at: t0 + random.between(minute, 2 * hour),
      kind: 'note',
      type: 'ticket.commented',
      by: 'ops-desk',
      detail: random.pick(comments),
    })

  // Dispatch: offers until one is accepted, or escalation after maxOffers or with nobody qualified on shift.
  // A ticket left waiting for an answer at the end had its earlier offers declined or expire.
  const unanswered = fate === 'escalated' || fate === 'unanswered' || stage === 'open' || stage === 'assigned'
  const offered = new Set<string>()
  let t = t0
  let holder: string | null = null
  // The offer still waiting at the end of the year, for a ticket that stops assigned.
  const pendingAt = stage === 'assigned' ? random.int(1, maxOffers) : 0
  while (holder === null) {
    if (offered.size >= maxOffers) {
      escalate(t, `${offered.size} offers without an answer`)
      break
    }
    const choice = chooser.choose({ at: t, place, skill: rule.skill, exclude: offered, random })
    if (!choice) {
      escalate(t, `no technician on shift${rule.skill ? ` with skill ${rule.skill}` : ''}`)
      break
    }
    const at = t + (offered.size === 0 ? random.between(300, 40_000) : random.between(50, 1500))
    const id = choice.technician.id
    add({
      at,
      kind: 'offer',
      technician: id,
      distanceKm: Math.round(choice.distanceKm * 1000) / 1000,
      etaMinutes: Math.max(1, Math.round((choice.distanceKm / travelSpeedKmh) * 60)),
    })
    offered.add(id)
    if (offered.size === 1) tell.customers('notice', at)
    tell.technician(id, at)
    if (offered.size === pendingAt) return fitToYear({ steps, plan, end, random, offerTimeout })
    const answer = unanswered
      ? random.weighted({ decline: 1, expire: 1 })
      : offered.size === maxOffers
        ? 'accept'
        : random.weighted({ accept: 86, decline: 8, expire: 6 })
    if (answer === 'accept') {
      t = at + random.between(8000, offerTimeout - 10_000)
      add({ at: t, kind: 'accept', by: id, note: null, override: false })
      holder = id
    } else if (answer === 'decline') {
      t = at + random.between(5000, 90_000)
      add({ at: t, kind: 'withdraw', technician: id, type: 'ticket.declined', by: id })
    } else {
      t = at + offerTimeout
      add({ at: t, kind: 'withdraw', technician: id, type: 'ticket.offer_expired', by: 'dispatch' })
    }
  }
  if (holder === null) {
    if (stage === 'open') return fitToYear({ steps, plan, end, random, offerTimeout })
    if (fate === 'unanswered' || supervisors.length === 0) {
      // Nobody took it; the condition went away and telemetry verified it.
      const at = t + random.between(5 * minute, 40 * minute)
      clearIncident(at)
      resolve(at + world.tickets.autoResolveAfterClear, 'telemetry', 'verified by telemetry')
      return fitToYear({ steps, plan, end, random, offerTimeout })
    }
    // A duty manager takes the escalated ticket and sees it through.
    const supervisor = random.pick(supervisors)
    t += random.between(3 * minute, 25 * minute)
    add({ at: t, kind: 'accept', by: supervisor.id, note: 'taken by the duty manager', override: true })
    holder = supervisor.id
  }
  if (stage === 'acknowledged') return fitToYear({ steps, plan, end, random, offerTimeout })

  if (fate === 'telemetry') {
    const at = t + random.between(minute, 10 * minute)
    clearIncident(at)
    resolve(at + world.tickets.autoResolveAfterClear, 'telemetry', 'verified by telemetry')
    return fitToYear({ steps, plan, end, random, offerTimeout })
  }
  // A flapping condition: it clears, then fires again, and the new incident joins the ticket.
  if (random.chance(0.05)) {
    const at = t + random.between(30_000, 3 * minute)
    clearIncident(at)
    t = at + random.between(minute, 8 * minute)
    add({ at: t, kind: 'rejoin', value: raised })
  }
  const cancel = (at: number) => {
    add({
      at,
      kind: 'act',
      action: 'cancel',
      by: 'ops-desk',
      detail: 'false alarm: works announced in the zone',
    })
    clearIncident(at + random.between(10_000, 5 * minute))
  }
  const holderEta = steps.findLast((s) => s.kind === 'offer' && s.technician === holder)
  if (stage === 'en_route' || random.chance(0.85)) {
    t += 5000 + random.exponential(2 * minute, 20 * minute)
    add({ at: t, kind: 'act', action: 'en-route', by: holder, detail: null })
    tell.customers('eta', t)
    if (stage === 'en_route') return fitToYear({ steps, plan, end, random, offerTimeout })
    if (fate === 'cancelled') {
      cancel(t + random.between(minute, 10 * minute))
      return fitToYear({ steps, plan, end, random, offerTimeout })
    }
    const eta = holderEta?.kind === 'offer' ? holderEta.etaMinutes : 5
    t += eta * minute * random.between(0.6, 1.4)
  } else {
    if (fate === 'cancelled') {
      cancel(t + random.between(minute, 15 * minute))
      return fitToYear({ steps, plan, end, random, offerTimeout })
    }
    t += 10_000 + random.exponential(4 * minute, 30 * minute)
  }
  add({ at: t, kind: 'act', action: 'on-site', by: holder, detail: null })
  const fixAt = t + 30_000 + random.exponential(fixMean[rule.severity], fixCeiling)
  if (random.chance(0.25))
    add({
      at: random.between(t, fixAt),
      kind: 'note',
      type: 'ticket.commented',
      by: holder,
      detail: random.pick(comments),
    })
  const other = plan.device
    ? world.rules.find((r) => r.id !== rule.id && r.match.kind === plan.device?.kind)
    : undefined
  if (other && random.chance(0.04))
    add({
      at: random.between(t, fixAt),
      kind: 'note',
      type: 'ticket.incident_suppressed',
      by: 'telemetry',
      detail: `${other.id}: technician ${holder} on site`,
    })
  if (stage === 'on_site') return fitToYear({ steps, plan, end, random, offerTimeout })
  // Fixed: telemetry sees the condition clear first (noted on the ticket), or once the job is closed.
  if (random.chance(0.6)) clearIncident(fixAt - random.between(10_000, 3 * minute))
  else clearIncident(fixAt + random.between(30_000, 10 * minute))
  resolve(fixAt, holder, random.pick(fixNotes))
  return fitToYear({ steps, plan, end, random, offerTimeout })
}
