import { parseArgs } from 'node:util'
import { z } from 'zod'

/** The suite's steps, in the order they run; `--skip` names them. */
export const suiteSteps = [
  'loop',
  'latency',
  'cpu',
  'rss',
  'overload',
  'aedes',
  'mosquitto',
  'history',
] as const
export type SuiteStep = (typeof suiteSteps)[number]

/** The rate of issue 7's latency and CPU goals. */
export const lowRate = 1000

export const suiteUsage = `Usage: node --import tsx bench/suite.ts [options]   (or: npm run bench -- [options])

The benchmark suite of issue 7. Steps (names for --skip):
  loop        N devices through the whole service (broker, workers, notifier, api) at the offered rates:
              acked readings/s, held or not, tickets, offers and notifications produced
  latency     reading → ticket offered and → first notification queued, p50/p99, at ${lowRate}/s and at each rate
  cpu         vigie's and its redis-server's CPU at ${lowRate}/s
  rss         peak RSS of vigie and redis with --connected idle devices (heartbeat every 60 s)
  overload    issue 15: devices offering far more than vigie stores, with a QoS 1 integration on devices/#
              that reads 50 KB/s: no crash, every acknowledged reading stored, the integration dropped, RSS
  aedes       plain aedes relaying the same load, as ratios to vigie
  mosquitto   Mosquitto (when on the PATH) relaying the same load, as ratios to vigie
  history     issue 16: a year of a big airport (--devices devices, --history-tickets tickets, each device's
              readings at their retention) written into a fresh Redis: how long it takes, what it holds, used_memory

Options:
  --devices N        devices publishing, one MQTT connection each (default 5000; --quick 300)
  --rate R[,R2]      readings per second offered through the whole loop (default 10000; --quick ${lowRate})
  --seconds S        measured window per rate (default 30; --quick 8)
  --warmup S         unmeasured seconds at each rate before its window (default 20; --quick 2): every device
                     has published a few times, and the JIT and the collector have settled
  --connected C      idle devices connected for the rss step (default 20000; --quick 500)
  --overload-rate R  readings per second offered in the overload step (default 40000; --quick 5000), from
                     --devices devices but at most 2,000
  --overload-seconds S  how long the overload lasts (default 60; --quick 10)
  --history-tickets N   tickets in the history step's year (default 100000; --quick 2000, with 100,000 readings)
  --cpu-prof DIR     run the whole loop's vigie under node --cpu-prof, its profile written to DIR
  --skip LIST        steps not to run, comma-separated (e.g. rss,mosquitto); the results are then printed only
  --quick            everything small, about a minute; prints the results, does not write bench/RESULTS.md
  --help             this text

A full run (no --quick, no --skip) takes about 15–20 minutes on 2 cores, most of it 20,000 scrypt-checked
logins, and rewrites the suite section at the top of bench/RESULTS.md. Progress goes to stderr.`

const count = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, `--${name}: expected a whole number`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, `--${name}: expected at least 1`)
        .max(1_000_000, `--${name}: at most 1,000,000`),
    )

const flagsSchema = z.strictObject({
  quick: z.boolean().default(false),
  help: z.boolean().default(false),
  devices: count('devices').optional(),
  rate: z
    .string()
    .transform((text) => text.split(',').map((part) => part.trim()))
    .pipe(z.array(count('rate')).min(1))
    .optional(),
  seconds: count('seconds').pipe(z.number().max(3600, '--seconds: at most 3600')).optional(),
  warmup: count('warmup').pipe(z.number().max(3600, '--warmup: at most 3600')).optional(),
  connected: count('connected').optional(),
  'overload-rate': count('overload-rate').optional(),
  'overload-seconds': count('overload-seconds')
    .pipe(z.number().max(3600, '--overload-seconds: at most 3600'))
    .optional(),
  'history-tickets': count('history-tickets').optional(),
  'cpu-prof': z.string().min(1, '--cpu-prof: a directory').optional(),
  skip: z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(suiteSteps, { error: `--skip: each name is one of ${suiteSteps.join(', ')}` })))
    .optional(),
})

export type SuiteOptions = {
  quick: boolean
  devices: number
  /** Offered rates of the loop step, lowest first, each once. */
  rates: number[]
  seconds: number
  warmupSeconds: number
  connected: number
  /** How long the idle devices stay connected before their peak RSS is read. */
  holdSeconds: number
  overload: { rate: number; seconds: number; devices: number }
  /** The history step's year; its readings are the default retention's unless set. */
  history: { tickets: number; devices: number; readings: number | undefined }
  skip: Set<SuiteStep>
  /** Where the whole loop's vigie writes its CPU profile, when asked. */
  cpuProfileDir: string | undefined
  /** Whether bench/RESULTS.md gets the run's section; otherwise it is printed only. */
  writeResults: boolean
}

export type ParsedFlags =
  | { kind: 'help' }
  | { kind: 'run'; options: SuiteOptions }
  | { kind: 'error'; message: string }

/** The command line, checked once where it enters: options, the help, or every problem in one message. */
export function parseSuiteFlags(args: string[]): ParsedFlags {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args,
      strict: true,
      options: {
        quick: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        devices: { type: 'string' },
        rate: { type: 'string' },
        seconds: { type: 'string' },
        warmup: { type: 'string' },
        connected: { type: 'string' },
        'overload-rate': { type: 'string' },
        'overload-seconds': { type: 'string' },
        'history-tickets': { type: 'string' },
        'cpu-prof': { type: 'string' },
        skip: { type: 'string' },
      },
    }).values
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) }
  }
  const parsed = flagsSchema.safeParse(values)
  if (!parsed.success) {
    return { kind: 'error', message: parsed.error.issues.map((issue) => issue.message).join('\n') }
  }
  const flags = parsed.data
  if (flags.help) return { kind: 'help' }
  const quick = flags.quick
  const rates = [...new Set(flags.rate ?? [quick ? lowRate : 10_000])].sort((a, b) => a - b)
  const devices = flags.devices ?? (quick ? 300 : 5000)
  return {
    kind: 'run',
    options: {
      quick,
      devices,
      rates,
      seconds: flags.seconds ?? (quick ? 8 : 30),
      warmupSeconds: flags.warmup ?? (quick ? 2 : 20),
      connected: flags.connected ?? (quick ? 500 : 20_000),
      holdSeconds: quick ? 3 : 30,
      overload: {
        rate: flags['overload-rate'] ?? (quick ? 5000 : 40_000),
        seconds: flags['overload-seconds'] ?? (quick ? 10 : 60),
        devices: Math.min(devices, 2000),
      },
      history: {
        tickets: flags['history-tickets'] ?? (quick ? 2000 : 100_000),
        devices,
        readings: quick ? 100_000 : undefined,
      },
      skip: new Set(flags.skip ?? []),
      cpuProfileDir: flags['cpu-prof'],
      // A section with steps missing would replace a whole one: only complete runs are written.
      writeResults: !quick && (flags.skip ?? []).length === 0,
    },
  }
}

/** The rates the whole loop is held at: the latency and CPU rate first when those steps run, then --rate. */
export function loopRates(options: Pick<SuiteOptions, 'rates' | 'skip'>): number[] {
  const low = options.skip.has('latency') && options.skip.has('cpu') ? [] : [lowRate]
  const sustained = options.skip.has('loop') ? [] : options.rates
  return [...new Set([...low, ...sustained])].sort((a, b) => a - b)
}
