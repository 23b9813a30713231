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
import { loadCachedYear, saveYearCache, type YearWorld } from './year-cache.ts'

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
  world: YearWorld
  /** When the cached year was written; undefined when this run wrote it. */
  cachedAt?: number
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
  /** Reuse the year kept here for this size and seed (written within 12 h), or keep the one written now. */
  cacheDir?: string
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
  cacheDir,
}: HistoryYearOptions): Promise<HistoryYear> {
  const dir = await mkdtemp(join(tmpdir(), 'vigie-history-'))
  const cached = cacheDir ? await loadCachedYear({ cacheDir, size, seed, intoDir: dir }) : undefined
  if (cached) progress?.update(`the year written ${new Date(cached.writtenAt).toISOString()}: loading`)
  const redisServer = await startRedisServer({
    port: await findFreePort(),
    dir,
    log: createLogger({ level: 'silent' }),
    appendOnly: false,
    // Loading a cached year's 2 GB takes a while before the server answers.
    startTimeoutMs: cached ? 600_000 : 10_000,
  })
  const stop = async () => {
    await redisServer.stop()
    await rm(dir, { recursive: true, force: true })
  }
  onStarted?.({ stop })
  try {
    const redis = await openClient(redisServer.url, 5000)
    if (cached) {
      const usedMemoryBytes = await usedMemory(redis)
      return {
        world: cached.world,
        cachedAt: cached.writtenAt,
        redis,
        redisServer,
        usedMemoryBytes,
        stop: async () => {
          await redis.quit()
          await stop()
        },
      }
    }
    const writtenAt = Date.now()
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
    const usedMemoryBytes = await usedMemory(redis)
    if (cacheDir) {
      progress?.update('keeping the year for the next run')
      await redis.save()
      await saveYearCache({ cacheDir, fromDir: dir, size, seed, world, writtenAt })
    }
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

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN)
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
