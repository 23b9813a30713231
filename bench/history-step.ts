import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Redis } from 'ioredis'
import { settingsSchema } from '../config/index.ts'
import { generateYear, type HistoryWorld, type YearSize, type YearSummary } from '../history/index.ts'
import {
  createLogger,
  findFreePort,
  openClient,
  type RedisServer,
  startRedisServer,
} from '../service/index.ts'
import type { Progress } from './progress.ts'

export type HistoryFigures = {
  size: YearSize
  seed: string
  summary: YearSummary
  timings: HistoryWorld['timings']
  /** INFO memory's used_memory once the year is written. */
  usedMemoryBytes: number
}

/** A year written into a redis-server of its own; stop() ends the connections and the server. */
export type HistoryYear = {
  world: HistoryWorld
  redis: Redis
  redisServer: RedisServer
  usedMemoryBytes: number
  stop: () => Promise<void>
}

const phaseLabels = { world: 'devices, technicians, customers', tickets: 'tickets', readings: 'readings' }

export type HistoryYearOptions = {
  size: YearSize
  seed: string
  /** Readings in the log; the default settings' retention when not given. */
  readings?: number
  progress?: Progress
  /** As soon as the server runs, so that a stop from outside (Ctrl-C) ends it too. */
  onStarted?: (server: { stop: () => Promise<void> }) => void
}

/**
 * Issue 16's year in a fresh redis-server (no AOF: the figure is the writing, not the disk), under the
 * default prefix and settings, so a vigie started on it (REDIS_URL) serves the year as production would.
 * The world's stores stay open for measurements over it until stop().
 */
export async function buildHistoryYear({
  size,
  seed,
  readings,
  progress,
  onStarted,
}: HistoryYearOptions): Promise<HistoryYear> {
  const dir = await mkdtemp(join(tmpdir(), 'vigie-history-'))
  const redisServer = await startRedisServer({
    port: await findFreePort(),
    dir,
    log: createLogger({ level: 'silent' }),
    appendOnly: false,
  })
  const stop = async () => {
    await redisServer.stop()
    await rm(dir, { recursive: true, force: true })
  }
  onStarted?.({ stop })
  try {
    const redis = await openClient(redisServer.url, 5000)
    const world = await generateYear({
      redis,
      settings: settingsSchema.parse({}),
      size,
      seed,
      ...(readings === undefined ? {} : { readings }),
      onProgress: ({ phase, done, total }) =>
        progress?.update(
          `${phaseLabels[phase]}: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`,
          phase === 'tickets' ? done / total : undefined,
        ),
    })
    const usedMemoryBytes = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN)
    return {
      world,
      redis,
      redisServer,
      usedMemoryBytes,
      stop: async () => {
        await world.close()
        await redis.quit()
        await stop()
      },
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** The suite's history step: how long the year takes to write, what it holds, and Redis's memory for it. */
export async function runHistoryStep(options: HistoryYearOptions): Promise<HistoryFigures> {
  const { size, seed } = options
  const year = await buildHistoryYear(options)
  try {
    return {
      size,
      seed,
      summary: year.world.summary,
      timings: year.world.timings,
      usedMemoryBytes: year.usedMemoryBytes,
    }
  } finally {
    await year.stop()
  }
}
