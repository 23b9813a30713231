import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Settings } from '../config/index.ts'
import { ingestKeys } from '../ingest/index.ts'
import { compactFinishedTickets, ruleKeys, type TicketStore } from '../rules/index.ts'
import { createLease } from '../streams/index.ts'
import { serviceKeys } from './keys.ts'
import { trimStreamBefore } from './trim-stream.ts'

export type RetentionSweepOptions = {
  redis: Redis
  /** The readings log's shard streams, and each device's own readings stream. */
  shardKeys: string[]
  deviceIdsKey: string
  deviceReadingsKey: (id: string) => string
  eventsKey: string
  /** Who sweeps now: one process of a deployment at a time. */
  leaseKey: string
  readingsMaxAge: number
  eventsMaxAge: number
  /** Compacts the finished tickets created before a time (rules/ticket-compaction.ts), after TICKETS_COMPACT_AFTER. */
  compactTickets?: {
    after: number
    run: (options: { createdBefore: number; stopped: () => boolean }) => Promise<number>
  }
  logger: Logger
  now?: () => number
  everyMs?: number
}

// Devices' streams trimmed per round trip: 5,000 devices are ten pipelines, not 5,000 calls.
const slice = 500

/**
 * Trims by age what is otherwise capped by count only: the readings log, each device's readings and the
 * events stream lose their entries older than READINGS_MAX_AGE and EVENTS_MAX_AGE (XTRIM MINID, whose
 * stream ids are milliseconds), and compacts old finished tickets. Runs every `everyMs` in one process of
 * the deployment (a lease).
 */
export function createRetentionSweep(options: RetentionSweepOptions) {
  const { redis, logger, now = Date.now, everyMs = 600_000 } = options
  const me = randomUUID()
  let timer: NodeJS.Timeout | undefined
  let running: Promise<unknown> | undefined
  // A close ends a sweep between two steps: a backlog (a year's first sweep) is not worth a late stop.
  let closing = false
  const stopped = () => closing

  /** One sweep at `at`; answers how many entries went. */
  async function sweepOnce(at = now()): Promise<{ readings: number; events: number; tickets: number }> {
    const readingsBefore = `${Math.max(0, at - options.readingsMaxAge)}-0`
    const eventsBefore = `${Math.max(0, at - options.eventsMaxAge)}-0`
    let readings = 0
    const trim = async (keys: string[], minId: string) => {
      const pipeline = redis.pipeline()
      for (const key of keys) pipeline.xtrim(key, 'MINID', minId)
      for (const [err, removed] of (await pipeline.exec()) ?? []) {
        if (err) throw err
        readings += Number(removed)
      }
    }
    for (const key of options.shardKeys)
      readings += await trimStreamBefore({ redis, key, minId: readingsBefore, stopped })
    let cursor = '0'
    do {
      const [next, ids] = await redis.sscan(options.deviceIdsKey, cursor, 'COUNT', slice)
      cursor = next
      // Each device's stream is capped by count, so one XTRIM of it is bounded work.
      if (ids.length > 0) await trim(ids.map(options.deviceReadingsKey), readingsBefore)
    } while (cursor !== '0' && !closing)
    const events = await trimStreamBefore({ redis, key: options.eventsKey, minId: eventsBefore, stopped })
    const { compactTickets } = options
    const tickets =
      compactTickets && !closing
        ? await compactTickets.run({ createdBefore: at - compactTickets.after, stopped })
        : 0
    return { readings, events, tickets }
  }

  // Taken for a whole period and never released: one sweep per period in the deployment, by whoever takes it.
  const lease = createLease({ redis, key: options.leaseKey, ttlMs: everyMs, owner: me })
  async function tick() {
    if (!(await lease.acquire())) return
    const removed = await sweepOnce()
    if (removed.readings + removed.events + removed.tickets > 0)
      logger.info(removed, 'old readings and events trimmed, old finished tickets compacted')
  }

  return {
    sweepOnce,
    start: () => {
      running = tick().catch((err: unknown) => logger.error({ err }, 'retention sweep failed; next time'))
      timer = setInterval(() => {
        running = tick().catch((err: unknown) => logger.error({ err }, 'retention sweep failed; next time'))
      }, everyMs)
      timer.unref()
    },
    close: async () => {
      closing = true
      clearInterval(timer)
      await running
    },
  }
}

/**
 * The sweep a deployment runs, wired to its keys and settings: the service's at start, and the year bench's
 * to bring a written year where a year of sweeps would have left it (`compactMax` past the per-sweep bound).
 */
export function createDeploymentSweep({
  redis,
  settings,
  tickets,
  logger,
  now,
  compactMax,
}: {
  redis: Redis
  settings: Pick<
    Settings,
    'redisPrefix' | 'logShards' | 'readingsMaxAge' | 'eventsMaxAge' | 'ticketsCompactAfter'
  >
  tickets: Pick<TicketStore, 'update'>
  logger: Logger
  now: () => number
  compactMax?: number
}) {
  const ingest = ingestKeys(settings.redisPrefix)
  const keys = ruleKeys(settings.redisPrefix)
  return createRetentionSweep({
    redis,
    shardKeys: Array.from({ length: settings.logShards }, (_, n) => ingest.shard(n)),
    deviceIdsKey: ingest.deviceIds,
    deviceReadingsKey: ingest.deviceReadings,
    eventsKey: keys.events,
    leaseKey: serviceKeys(settings.redisPrefix).retentionLease,
    readingsMaxAge: settings.readingsMaxAge,
    eventsMaxAge: settings.eventsMaxAge,
    compactTickets: {
      after: settings.ticketsCompactAfter,
      run: ({ createdBefore, stopped }) =>
        compactFinishedTickets({
          stopped,
          redis,
          keys,
          tickets,
          createdBefore,
          ...(compactMax === undefined ? {} : { max: compactMax }),
        }),
    },
    logger,
    now,
  })
}
