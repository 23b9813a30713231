import type { Device, Rule } from '../config/index.ts'
import { deviceCorrelationKey, groupKeyOf } from '../rules/index.ts'
import type { LifeStep, OpenStage } from './life-steps.ts'
import { createRandom, type Random } from './seeded-random.ts'
import { type LifePlan, type LifeWorld, planLife } from './ticket-life.ts'
import { ticketTimes } from './year-calendar.ts'

// How often each rule fires over the year; a rule the world adds beyond these fires now and then.
const ruleWeights: Record<string, number> = {
  'too-hot': 14,
  'too-cold': 7,
  'door-held-open': 24,
  'door-forced': 6,
  'aed-removed': 2,
  'aed-battery-low': 4,
  'sensor-silent': 24,
  'gateway-silent': 12,
  'zone-outage': 3,
}
const otherRuleWeight = 3

// The tickets still open when the year ends, oldest first: long jobs on site, then fresher ones; the
// newest wait for an answer to their offer. Shares of the open ones.
const stageShares: [OpenStage, number][] = [
  ['on_site', 0.35],
  ['acknowledged', 0.2],
  ['en_route', 0.15],
  ['open', 0.2],
  ['assigned', 0.1],
]

/** Each open ticket's stage, oldest first; every stage at least once when there are enough. */
export function openStagesFor(count: number): OpenStage[] {
  if (count < stageShares.length) return stageShares.slice(0, count).map(([stage]) => stage)
  const counts = stageShares.map(([, share]) => Math.max(1, Math.round(share * count)))
  counts[0] = (counts[0] ?? 0) + count - counts.reduce((sum, n) => sum + n, 0)
  return stageShares.flatMap(([stage], i) => Array<OpenStage>(counts[i] ?? 0).fill(stage))
}

export type YearPlanner = ReturnType<typeof createYearPlanner>

/**
 * The year's tickets in the order they open, each with its life. A correlation key is used again only
 * once the life before it has ended, as production opens a second ticket only after the first is done.
 */
export function createYearPlanner({
  life,
  tickets,
  openAtEnd,
}: {
  life: LifeWorld
  tickets: number
  openAtEnd: number
}) {
  const { index, seed, end } = life
  const times = ticketTimes({
    count: tickets,
    end,
    timeZone: index.site.timezone,
    random: createRandom(`${seed}:calendar`),
  })
  const stages = openStagesFor(Math.min(openAtEnd, tickets))
  const firstOpen = tickets - stages.length
  const busyUntil = new Map<string, number>()
  type Place = { device: Device | null; zone: string | null }
  const placesOf = new Map<string, Place[]>(
    index.world.rules.map((rule) => [
      rule.id,
      rule.group
        ? index.zones.map((zone) => ({ device: null, zone }))
        : index
            .devicesOf(rule.match.kind)
            .filter((d) => !rule.match.zone || d.zone === rule.match.zone)
            .map((device) => ({ device, zone: device.zone ?? null })),
    ]),
  )
  const places = (rule: Rule): Place[] => placesOf.get(rule.id) ?? []
  const rules = index.world.rules.filter((rule) => places(rule).length > 0)
  const weights = Object.fromEntries(rules.map((rule) => [rule.id, ruleWeights[rule.id] ?? otherRuleWeight]))
  const keyOf = (rule: Rule, place: Place) =>
    place.device
      ? deviceCorrelationKey(rule.id, place.device.id)
      : (groupKeyOf(rule, { site: index.site.id, zone: place.zone ?? undefined }) ?? rule.id)

  /** A rule and a place whose key is free at `at`: the first tries are random, then any free one. */
  function choose(at: number, random: Random) {
    for (let attempt = 0; attempt < 40; attempt++) {
      const id = random.weighted(weights)
      const rule = rules.find((r) => r.id === id) as Rule
      const place = random.pick(places(rule))
      const correlationKey = keyOf(rule, place)
      if ((busyUntil.get(correlationKey) ?? 0) < at) return { rule, ...place, correlationKey }
    }
    for (const rule of rules)
      for (const place of places(rule)) {
        const correlationKey = keyOf(rule, place)
        if ((busyUntil.get(correlationKey) ?? 0) < at) return { rule, ...place, correlationKey }
      }
    throw new Error('every device and zone has an open ticket: ask for fewer open tickets or more devices')
  }

  let next = 0
  return {
    total: tickets,
    /** The next ticket and its life, or null after the last. */
    next: (): { plan: LifePlan; steps: LifeStep[] } | null => {
      if (next >= tickets) return null
      const i = next++
      const createdAt = times[i] as number
      const plan: LifePlan = {
        index: i,
        createdAt,
        site: index.site.id,
        ...choose(createdAt, createRandom(`${seed}:plan:${i}`)),
        stage: i >= firstOpen ? (stages[i - firstOpen] ?? null) : null,
      }
      const { steps, busyUntil: until } = planLife(plan, life)
      busyUntil.set(plan.correlationKey, until)
      const opened = steps.find((s) => s.kind === 'open')
      return { plan: { ...plan, createdAt: opened?.at ?? createdAt }, steps }
    },
  }
}
