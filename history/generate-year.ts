import { performance } from 'node:perf_hooks'
import type { Redis } from 'ioredis'
import pino, { type Logger } from 'pino'
import type { Settings, SiteFile } from '../config/index.ts'
import { systemClock, VigieError } from '../domain/index.ts'
import { createIngest, type DeviceRegistry, hashSecret, type Ingest } from '../ingest/index.ts'
import {
  type CustomerBook,
  createCustomerBook,
  createNotificationStore,
  type NotificationStore,
  notificationKeys,
} from '../notifier/index.ts'
import {
  consumerGroup,
  createDispatcher,
  createIncidentStore,
  createTechnicianRoster,
  createTicketStore,
  type IncidentStore,
  ruleKeys,
  type TechnicianRoster,
  type TicketStore,
} from '../rules/index.ts'
import { type AirportSize, buildAirportWorld } from './airport-world.ts'
import { createOfferMoves } from './offer-moves.ts'
import { writeReadings } from './readings-history.ts'
import { liveTicketLives } from './ticket-lives.ts'
import type { YearSummary } from './year-summary.ts'

export type HistorySettings = Pick<
  Settings,
  | 'redisPrefix'
  | 'logShards'
  | 'readingsRetention'
  | 'deviceReadingsRetention'
  | 'deadLetterRetention'
  | 'ticketTimelineMax'
  | 'ticketTimelineMaxBytes'
>

export type YearSize = AirportSize & { tickets: number }

/** Issue 16's airport: 5,000 devices, 200 technicians, 2,000 customers, 100,000 tickets. */
export const fullYear: YearSize = { devices: 5000, technicians: 200, customers: 2000, tickets: 100_000 }
/** A smaller or larger airport in the full year's proportions: a technician per 25 devices, a customer per 2.5. */
export function scaledYear({ devices, tickets }: { devices: number; tickets: number }): YearSize {
  return {
    devices,
    tickets,
    technicians: Math.max(24, Math.round(devices / 25)),
    customers: Math.max(10, Math.round(devices * 0.4)),
  }
}

/** 300 of 100,000 tickets are still open when the year ends. */
export const openShare = 0.003

export type YearPhase = 'world' | 'tickets' | 'readings'
export type YearProgress = { phase: YearPhase; done: number; total: number }

export type YearOptions = {
  /** A connection to write through; the year gets a pipelining one of its own beside it. */
  redis: Redis
  settings: HistorySettings
  size?: Partial<YearSize>
  seed?: string
  /** The year's last instant (epoch ms): tickets open over the 365 days before it. */
  end?: number
  /** Tickets still open at `end`; 300 for 100,000 by default, scaled. */
  openAtEnd?: number
  /** Readings in the log; by default each device's stream full (DEVICE_READINGS_RETENTION), within the log's. */
  readings?: number
  /** Each device reports this often in the readings log. */
  readingEveryMs?: number
  /** Ticket lives written at once. */
  concurrency?: number
  log?: Logger
  onProgress?: (progress: YearProgress) => void
}

/** The year as written, and vigie's own stores over it, for whoever measures what reading it costs. */
export type HistoryWorld = {
  site: SiteFile
  prefix: string
  /** The stores on the year's connection, closed by `close`. */
  stores: {
    ingest: Ingest
    devices: DeviceRegistry
    roster: TechnicianRoster
    customers: CustomerBook
    incidents: IncidentStore
    tickets: TicketStore
    notifications: NotificationStore
  }
  summary: YearSummary
  timings: { worldMs: number; ticketsMs: number; readingsMs: number; totalMs: number }
  close: () => Promise<void>
}

// A fixed secret: the history's devices are for reading, not for connecting.
export const historyDeviceSecret = 'history-device-secret-not-for-use'

/**
 * Writes a year of a big airport through vigie's own stores, deterministic from its seed: the site's
 * devices, technicians and customers, then every ticket's life in the order they opened (a few dozen
 * at a time), then the readings log. Refuses a prefix that already holds tickets.
 */
export async function generateYear(options: YearOptions): Promise<HistoryWorld> {
  const started = performance.now()
  const { settings, seed = 'vigie', end = Date.now(), concurrency = 48, onProgress } = options
  const size: YearSize = { ...fullYear, ...options.size }
  const openAtEnd = options.openAtEnd ?? Math.max(5, Math.round(size.tickets * openShare))
  const log = options.log ?? pino({ level: 'silent' })
  const prefix = settings.redisPrefix
  // Many lives' commands in one write per turn of the event loop.
  const redis = options.redis.duplicate({ enableAutoPipelining: true })
  // The readings' script calls, batched by the reading log itself, skip the auto-pipeline.
  const readingsRedis = options.redis.duplicate()
  try {
    const site = buildAirportWorld({ size, seed, secretHash: await hashSecret(historyDeviceSecret) })
    const keys = ruleKeys(prefix)
    const timelineCap = { maxEntries: settings.ticketTimelineMax, maxBytes: settings.ticketTimelineMaxBytes }
    const ingest = createIngest({ clock: systemClock, redis: readingsRedis, settings, log, lingerMs: 1 })
    const tickets = createTicketStore({ redis, keys, sla: site.sla, timelineCap })
    if ((await tickets.page({ limit: 1 })).items.length > 0)
      throw new VigieError({
        code: 'CONFLICT',
        message: `Redis prefix "${prefix}" already holds tickets: a history goes into a fresh Redis or prefix`,
      })
    const roster = createTechnicianRoster({ redis, keys, technicians: site.technicians })
    const customers = createCustomerBook({ redis, prefix, customers: site.customers })
    const incidents = createIncidentStore({ redis, keys })
    const notifications = createNotificationStore({ redis, keys: notificationKeys(prefix) })
    const places = new Map(site.devices.map((d) => [d.id, d.location ?? null]))
    const dispatcher = createDispatcher({
      redis,
      keys,
      tickets,
      roster,
      world: site,
      placeOf: async (id) => places.get(id) ?? null,
    })
    const offers = createOfferMoves({
      redis,
      offerTimersKey: keys.offerTimers,
      tickets,
      offerTimeout: site.dispatch.offerTimeout,
    })

    const setUp = 3
    onProgress?.({ phase: 'world', done: 0, total: setUp })
    await ingest.registry.seed(site.devices)
    onProgress?.({ phase: 'world', done: 1, total: setUp })
    await roster.seed()
    onProgress?.({ phase: 'world', done: 2, total: setUp })
    await customers.seed()
    onProgress?.({ phase: 'world', done: 3, total: setUp })
    const worldMs = performance.now() - started

    // The lives first, then the readings: a life waits on Redis at every step, and a reading batch holds
    // Redis for milliseconds, so side by side the lives crawl.
    onProgress?.({ phase: 'tickets', done: 0, total: size.tickets })
    const tally = await liveTicketLives({
      site,
      stores: { incidents, tickets, dispatcher, offers, notifications },
      tickets: size.tickets,
      openAtEnd,
      seed,
      end,
      concurrency,
      onLived: (lived) => {
        if (lived % 500 === 0 || lived === size.tickets)
          onProgress?.({ phase: 'tickets', done: lived, total: size.tickets })
      },
    })
    const ticketsMs = performance.now() - started - worldMs

    // Every device's recent readings at their retention (what the device routes read), within the log's.
    const readings =
      options.readings ??
      Math.min(
        settings.readingsRetention * settings.logShards,
        size.devices * settings.deviceReadingsRetention,
      )
    onProgress?.({ phase: 'readings', done: 0, total: readings })
    const written = await writeReadings({
      ingest,
      devices: site.devices,
      count: readings,
      end,
      everyMs: options.readingEveryMs ?? 60_000,
      seed,
      onProgress: (done) => onProgress?.({ phase: 'readings', done, total: readings }),
    })
    // The year's readings and events were handled as they came: the rule workers and the notifier start
    // after them, not from the first (a deployment that ran all year has its groups there).
    await redis
      .xgroup('CREATE', keys.events, 'notifier', '$', 'MKSTREAM')
      .catch(() => redis.xgroup('SETID', keys.events, 'notifier', '$'))
    for (let shard = 0; shard < settings.logShards; shard++) {
      const key = ingest.keys.shard(shard)
      await redis
        .xgroup('CREATE', key, consumerGroup, '$', 'MKSTREAM')
        .catch(() => redis.xgroup('SETID', key, consumerGroup, '$'))
    }
    const totalMs = performance.now() - started
    return {
      site,
      prefix,
      stores: { ingest, devices: ingest.registry, roster, customers, incidents, tickets, notifications },
      summary: tally.finish(written),
      timings: { worldMs, ticketsMs, readingsMs: totalMs - worldMs - ticketsMs, totalMs },
      close: async () => {
        await Promise.all([redis.quit(), readingsRedis.quit()])
      },
    }
  } catch (error) {
    redis.disconnect()
    readingsRedis.disconnect()
    throw error
  }
}
