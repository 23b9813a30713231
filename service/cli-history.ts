import { parseArgs } from 'node:util'
import { z } from 'zod'
import type { Config } from '../config/index.ts'
import { isVigieError } from '../domain/index.ts'
import {
  createProgressPrinter,
  fullYear,
  generateYear,
  scaledYear,
  type YearSummary,
} from '../history/index.ts'
import { createLogger } from './logger.ts'
import { connectRedis, type RedisConnection } from './redis-connection.ts'

export const historyUsage = `Usage: npm run vigie -- history generate [--tickets N] [--devices N] [--seed S] [options]

  generate   write a year of a big airport (issue 16) into the configured Redis, through vigie's own
             stores: devices, technicians, customers, every ticket's life with its notifications, and the
             readings log, each device's recent readings at their retention. The same seed and sizes
             give the same year. A notifier started on it within the hour would act on the events of
             the last tickets written: open it with --roles api (or broker,api) first.

Options:
  --tickets N        tickets over the year (default ${fullYear.tickets}); 0.3 % are still open at its end
  --devices N        devices (default ${fullYear.devices})
  --technicians N    technicians (default ${fullYear.technicians}, one per 25 devices)
  --customers N      customers (default ${fullYear.customers}, one per 2.5 devices)
  --open N           tickets still open at the end (default 0.3 % of --tickets, at least 5)
  --readings N       readings in the log, one a minute from each device up to the end (default: each
                     device's DEVICE_READINGS_RETENTION, within READINGS_RETENTION × VIGIE_LOG_SHARDS)
  --seed S           what the year is drawn from (default "vigie")
  --end TIME         the year's last instant, ISO-8601 (default now)
  --concurrency N    ticket lives written at once (default 48)
  --prefix P         Redis key prefix (default REDIS_PREFIX); it must hold no tickets yet
  --redis-url URL    Redis to write to (default REDIS_URL, as every command)`

const whole = (name: string, min: number) =>
  z
    .string()
    .regex(/^\d+$/, `--${name}: expected a whole number`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `--${name}: at least ${min}`)
        .max(10_000_000, `--${name}: at most 10,000,000`),
    )

const flagsSchema = z.strictObject({
  tickets: whole('tickets', 1).optional(),
  devices: whole('devices', 1).optional(),
  technicians: whole('technicians', 1).optional(),
  customers: whole('customers', 1).optional(),
  open: whole('open', 0).optional(),
  readings: whole('readings', 0).optional(),
  seed: z.string().min(1, '--seed: not empty').optional(),
  end: z
    .string()
    .refine((text) => !Number.isNaN(Date.parse(text)), '--end: an ISO-8601 time')
    .transform((text) => Date.parse(text))
    .optional(),
  concurrency: whole('concurrency', 1).pipe(z.number().max(1000, '--concurrency: at most 1000')).optional(),
  prefix: z.string().min(1, '--prefix: not empty').max(64, '--prefix: at most 64 characters').optional(),
  'redis-url': z.url({ protocol: /^rediss?$/, error: '--redis-url: a redis:// or rediss:// URL' }).optional(),
})

export type HistoryCommandOptions = {
  /** The arguments after `history`. */
  args: string[]
  readConfig: () => Config
}

/** `vigie history generate`: resolves to the exit code; progress on stderr, the summary on stdout. */
export async function runHistoryCommand({ args, readConfig }: HistoryCommandOptions): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        ...Object.fromEntries(
          Object.keys(flagsSchema.shape).map((name) => [name, { type: 'string' as const }]),
        ),
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (error) {
    console.error(`vigie: ${(error as Error).message}\n\n${historyUsage}`)
    return 2
  }
  const { help, ...rest } = values
  if (help) {
    console.log(historyUsage)
    return 0
  }
  if (positionals[0] !== 'generate' || positionals.length > 1) {
    console.error(
      `vigie: ${positionals[0] ? `unknown history command "${positionals.join(' ')}"` : 'name a command: generate'}\n\n${historyUsage}`,
    )
    return 2
  }
  const parsed = flagsSchema.safeParse(rest)
  if (!parsed.success) {
    console.error(
      `vigie: ${parsed.error.issues.map((issue) => issue.message).join('\n       ')}\n\n${historyUsage}`,
    )
    return 2
  }
  const flags = parsed.data
  const { settings } = readConfig()
  const log = createLogger({ level: 'warn', destination: process.stderr })
  let connection: RedisConnection
  try {
    connection = await connectRedis({
      settings: { ...settings, redisUrl: flags['redis-url'] ?? settings.redisUrl },
      log,
    })
  } catch (error) {
    if (!isVigieError(error) || error.code !== 'REDIS_UNAVAILABLE') throw error
    console.error(`vigie: ${error.message}`)
    return 1
  }
  try {
    const world = await generateYear({
      redis: connection.redis,
      settings: { ...settings, redisPrefix: flags.prefix ?? settings.redisPrefix },
      size: {
        ...scaledYear({
          devices: flags.devices ?? fullYear.devices,
          tickets: flags.tickets ?? fullYear.tickets,
        }),
        ...(flags.technicians !== undefined && { technicians: flags.technicians }),
        ...(flags.customers !== undefined && { customers: flags.customers }),
      },
      ...(flags.seed !== undefined && { seed: flags.seed }),
      ...(flags.end !== undefined && { end: flags.end }),
      ...(flags.open !== undefined && { openAtEnd: flags.open }),
      ...(flags.readings !== undefined && { readings: flags.readings }),
      ...(flags.concurrency !== undefined && { concurrency: flags.concurrency }),
      log,
      onProgress: createProgressPrinter({ write: (line) => console.error(line) }),
    })
    await world.close()
    const memory = /used_memory_human:(\S+)/.exec(await connection.redis.info('memory'))?.[1] ?? 'unknown'
    console.log(summaryText(world.summary, world.timings.totalMs, memory, world.prefix))
    return 0
  } catch (error) {
    if (!isVigieError(error) || error.code !== 'CONFLICT') throw error
    console.error(`vigie: ${error.message}`)
    return 1
  } finally {
    await connection.redis.quit()
    await connection.server?.stop()
  }
}

const thousands = (n: number) => n.toLocaleString('en-US')
const counts = (tally: Record<string, number>) =>
  Object.entries(tally)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => `${key} ${thousands(n)}`)
    .join(', ')

function summaryText(summary: YearSummary, totalMs: number, memory: string, prefix: string): string {
  return [
    `history written under "${prefix}" in ${(totalMs / 1000).toFixed(1)} s; Redis used_memory ${memory}`,
    `  tickets ${thousands(summary.tickets)}: ${counts(summary.byStatus)}`,
    `  by rule: ${counts(summary.byRule)}`,
    `  incidents ${thousands(summary.incidents)}; timeline entries: ${counts(summary.timeline)}`,
    `  notifications ${thousands(summary.notifications.total)}: ${counts(summary.notifications.byStatus)}`,
    `  by template: ${counts(summary.notifications.byTemplate)}`,
    `  readings ${thousands(summary.readings)}`,
    `  digest ${summary.digest}`,
  ].join('\n')
}
