import type { LifeStep } from './life-steps.ts'
import type { Random } from './seeded-random.ts'
import type { LifePlan } from './ticket-life.ts'

/**
 * Orders the steps; a life that would still run at `end` is squeezed into the time left, and an offer
 * still waiting at `end` is moved to its last two minutes, so its timer has not run out. What would
 * happen after `end` (a late close, a held notice) is left out.
 */
export function fitToYear({
  steps,
  plan,
  end,
  random,
  offerTimeout,
}: {
  steps: LifeStep[]
  plan: LifePlan
  end: number
  random: Random
  offerTimeout: number
}): { steps: LifeStep[]; busyUntil: number } {
  const t0 = plan.createdAt
  const lives = (s: LifeStep) =>
    s.kind !== 'queue' && s.kind !== 'outcome' && s.kind !== 'receipt' && s.kind !== 'note'
  const shaping = steps.filter((s) => lives(s) && !(s.kind === 'act' && s.action === 'close'))
  const last = Math.max(...shaping.map((s) => s.at))
  let moved = steps
  if (plan.stage === 'assigned') {
    const shift = end - random.between(5000, offerTimeout - 10_000) - last
    moved = steps.map((s) => ({ ...s, at: s.at + shift }))
  } else if (last > end - 1000) {
    const factor = (end - 1000 - t0) / (last - t0)
    moved = steps.map((s) => ({ ...s, at: t0 + (s.at - t0) * factor }))
  }
  const kept = moved
    .map((s) => ({ ...s, at: Math.round(s.at) }))
    .filter((s) => s.at <= end)
    .sort((a, b) => a.at - b.at)
  const ends = kept.filter(
    (s) => s.kind === 'clear' || (s.kind === 'act' && (s.action === 'resolve' || s.action === 'cancel')),
  )
  return {
    steps: kept,
    busyUntil: plan.stage ? Number.POSITIVE_INFINITY : Math.max(t0, ...ends.map((s) => s.at)),
  }
}
