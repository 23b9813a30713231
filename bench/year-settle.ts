import { performance } from 'node:perf_hooks'
import type { Redis } from 'ioredis'
import { type SiteFile, settingsSchema } from '../config/index.ts'
import { createTicketStore, ruleKeys } from '../rules/index.ts'
import { createDeploymentSweep, createLogger } from '../service/index.ts'

export type Settled = { ms: number; readings: number; events: number; tickets: number }

/**
 * A written year holds what a year of retention sweeps would have removed or folded (events past
 * EVENTS_MAX_AGE, finished tickets past TICKETS_COMPACT_AFTER): the deployment's sweep is run until it
 * finds nothing, so the measure is of a year in its steady state, and this is the upgrade's one-off cost.
 */
export async function settleYear({
  redis,
  site,
  prefix,
}: {
  redis: Redis
  site: SiteFile
  prefix: string
}): Promise<Settled> {
  const started = performance.now()
  const settings = { ...settingsSchema.parse({}), redisPrefix: prefix }
  const timelineCap = { maxEntries: settings.ticketTimelineMax, maxBytes: settings.ticketTimelineMaxBytes }
  const tickets = createTicketStore({ redis, keys: ruleKeys(prefix), sla: site.sla, timelineCap })
  const sweep = createDeploymentSweep({
    redis,
    settings,
    tickets,
    logger: createLogger({ level: 'silent' }),
    now: Date.now,
    compactMax: Number.POSITIVE_INFINITY,
  })
  const total = { readings: 0, events: 0, tickets: 0 }
  for (let round = 0; round < 5; round++) {
    const removed = await sweep.sweepOnce()
    total.readings += removed.readings
    total.events += removed.events
    total.tickets += removed.tickets
    if (removed.readings + removed.events + removed.tickets === 0) break
  }
  return { ms: performance.now() - started, ...total }
}

/** Until the offers due at start (a stopped year's) are moved on and the notifier has read every event. */
export async function waitForQuiet({
  redis,
  prefix,
  timeoutMs,
}: {
  redis: Redis
  prefix: string
  timeoutMs: number
}) {
  const keys = ruleKeys(prefix)
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    const due = await redis.zcount(keys.offerTimers, '-inf', Date.now())
    const groups = (await redis.xinfo('GROUPS', keys.events).catch(() => [])) as unknown[][]
    const notifier = groups.find((g) => g[1] === 'notifier')
    const lag = notifier ? Number(notifier[notifier.indexOf('lag') + 1] ?? 0) : 0
    const pending = notifier ? Number(notifier[notifier.indexOf('pending') + 1] ?? 0) : 0
    if (due === 0 && lag === 0 && pending === 0) return
    await new Promise<void>((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`the year did not settle within ${timeoutMs} ms`)
}
