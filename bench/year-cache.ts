import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { buildAirportWorld, type HistoryWorld, type YearSize } from '../history/index.ts'

/** What a measurement needs of a written year, without the stores that wrote it. */
export type YearWorld = Pick<HistoryWorld, 'site' | 'prefix' | 'summary' | 'timings'>

// A cached year ends when it was written; older than this, its open offers and SLAs are stale enough to skew a run.
const maxAgeMs = 12 * 3_600_000

const cachedSchema = z.object({
  size: z.object({
    devices: z.number(),
    technicians: z.number(),
    customers: z.number(),
    tickets: z.number(),
  }),
  seed: z.string(),
  writtenAt: z.number(),
  prefix: z.string(),
  secretHash: z.string(),
  summary: z.record(z.string(), z.unknown()),
  timings: z.object({
    worldMs: z.number(),
    ticketsMs: z.number(),
    readingsMs: z.number(),
    totalMs: z.number(),
  }),
})

/** The cached year for this size and seed, its RDB copied into `intoDir`; undefined when none fits. */
export async function loadCachedYear({
  cacheDir,
  size,
  seed,
  intoDir,
  now = Date.now(),
}: {
  cacheDir: string
  size: YearSize
  seed: string
  intoDir: string
  now?: number
}): Promise<{ world: YearWorld; writtenAt: number } | undefined> {
  const text = await readFile(join(cacheDir, 'year.json'), 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  const cached = cachedSchema.safeParse(JSON.parse(text))
  if (!cached.success) return undefined
  const { data } = cached
  const sameSize = (Object.keys(size) as (keyof YearSize)[]).every((k) => data.size[k] === size[k])
  if (!sameSize || data.seed !== seed || now - data.writtenAt > maxAgeMs) return undefined
  if (!(await stat(join(cacheDir, 'dump.rdb')).catch(() => undefined))) return undefined
  await copyFile(join(cacheDir, 'dump.rdb'), join(intoDir, 'dump.rdb'))
  const world: YearWorld = {
    // The site file is the seed's: rebuilt, with the devices' hash the year was written with.
    site: buildAirportWorld({ size, seed, secretHash: data.secretHash }),
    prefix: data.prefix,
    summary: data.summary as YearWorld['summary'],
    timings: data.timings,
  }
  return { world, writtenAt: data.writtenAt }
}

/** Keeps the year just written (its RDB, saved by the caller into `fromDir`) for the next run. */
export async function saveYearCache({
  cacheDir,
  fromDir,
  size,
  seed,
  world,
  writtenAt,
}: {
  cacheDir: string
  fromDir: string
  size: YearSize
  seed: string
  world: YearWorld
  writtenAt: number
}): Promise<void> {
  await mkdir(cacheDir, { recursive: true })
  await copyFile(join(fromDir, 'dump.rdb'), join(cacheDir, 'dump.rdb'))
  const { site, prefix, summary, timings } = world
  const secretHash = site.devices[0]?.secretHash ?? ''
  await writeFile(
    join(cacheDir, 'year.json'),
    JSON.stringify({ size, seed, writtenAt, prefix, secretHash, summary, timings }),
  )
}
