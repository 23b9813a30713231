import type { SiteFile } from '../config/index.ts'
import { createDispatchChoice } from './dispatch-choice.ts'
import { type LifeStores, liveLife } from './life-runner.ts'
import { createKeyedQueue, runPool } from './promise-pool.ts'
import { indexWorld } from './world-index.ts'
import { createYearPlanner } from './year-plan.ts'
import { createYearTally } from './year-summary.ts'

/**
 * Every ticket of the year, planned in the order they open and lived `concurrency` at a time; two lives
 * of one correlation key never overlap. Answers the tally of what they left.
 */
export async function liveTicketLives({
  site,
  stores,
  tickets,
  openAtEnd,
  seed,
  end,
  concurrency,
  onLived,
}: {
  site: SiteFile
  stores: LifeStores
  tickets: number
  openAtEnd: number
  seed: string
  end: number
  concurrency: number
  onLived?: (lived: number) => void
}): Promise<ReturnType<typeof createYearTally>> {
  const index = indexWorld(site)
  const planner = createYearPlanner({
    life: {
      index,
      chooser: createDispatchChoice({ technicians: site.technicians, timeZone: index.site.timezone }),
      seed,
      end,
    },
    tickets,
    openAtEnd,
  })
  const tally = createYearTally()
  const oneKeyAtATime = createKeyedQueue()
  let lived = 0
  await runPool({
    next: planner.next,
    concurrency,
    work: async ({ plan, steps }) => {
      tally.add(plan.index, await oneKeyAtATime(plan.correlationKey, () => liveLife(plan, steps, stores)))
      onLived?.(++lived)
    },
  })
  return tally
}
