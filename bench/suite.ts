import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { startMessageStandIns } from '../demo/index.ts'
import { scaledYear } from '../history/index.ts'
import { hashSecret } from '../ingest/index.ts'
import { createLogger } from '../service/index.ts'
import { createChildren, repoRoot } from './child-processes.ts'
import { runHistoryStep } from './history-step.ts'
import { runIdleConnections } from './idle-connections-step.ts'
import { createProbeSchedule } from './latency-step.ts'
import { connectFleet } from './load-generator.ts'
import { loopDevices, openFilesLimit, startLoopVigie } from './loop-world.ts'
import { findMosquitto, startMosquitto } from './mosquitto.ts'
import { runOverload } from './overload-step.ts'
import { createProgress, type PlannedStep } from './progress.ts'
import { runRelay } from './relay-step.ts'
import { describeMachine } from './results-file.ts'
import { loopRates, parseSuiteFlags, suiteUsage } from './suite-flags.ts'
import {
  type SuiteContext,
  type SuiteFigures,
  suiteMarkdown,
  suiteText,
  withSuiteSection,
} from './suite-report.ts'
import { startPlainAedes } from './targets.ts'
import { type LoopWindow, runLoopWindow } from './whole-loop-step.ts'

const parsed = parseSuiteFlags(process.argv.slice(2))
if (parsed.kind === 'help') {
  console.log(suiteUsage)
  process.exit(0)
}
if (parsed.kind === 'error') {
  console.error(`${parsed.message}\n\n${suiteUsage}`)
  process.exit(2)
}
const options = parsed.options
// The load generator holds one socket a device in this process, which cannot raise its own limit.
const ownLimit = await openFilesLimit(process.pid)
if (ownLimit !== undefined && ownLimit < options.devices + 256) {
  console.error(
    `--devices ${options.devices}: this shell allows ${ownLimit} open files (\`ulimit -n\`); ` +
      `raise it (ulimit -n ${options.devices + 256}, up to \`ulimit -Hn\`) or ask for fewer devices`,
  )
  process.exit(2)
}
const { skip, seconds, warmupSeconds } = options
// A threshold crossed by 1 reading in 1,000: tickets, offers and notices flow during the load.
const probeShare = 1000
// Logins run one scrypt check each: 30 to 70 a second on two cores, as busy as they are.
const loginsPerSecond = 40
const rates = loopRates(options)
const relayRates = rates.length ? rates : options.rates
const mosquitto = skip.has('mosquitto') ? undefined : findMosquitto()

const windowSeconds = warmupSeconds + seconds + 8
const plan: PlannedStep[] = [
  ...(rates.length
    ? [
        {
          label: 'vigie: start, connect devices',
          estimateSeconds: 8 + options.devices / loginsPerSecond,
        },
        ...rates.map((rate) => ({
          label: `whole loop at ${rate}/s`,
          estimateSeconds: windowSeconds,
        })),
      ]
    : []),
  ...(skip.has('rss')
    ? []
    : [
        {
          label: 'rss',
          estimateSeconds: 15 + options.connected / loginsPerSecond + options.holdSeconds,
        },
      ]),
  ...(skip.has('overload')
    ? []
    : [
        {
          label: 'overload',
          estimateSeconds: 20 + options.overload.devices / loginsPerSecond + options.overload.seconds + 20,
        },
      ]),
  ...(skip.has('aedes')
    ? []
    : [{ label: 'plain aedes', estimateSeconds: 5 + relayRates.length * windowSeconds }]),
  ...(mosquitto ? [{ label: 'mosquitto', estimateSeconds: 5 + relayRates.length * windowSeconds }] : []),
  ...(skip.has('history')
    ? []
    : [
        { label: 'history', estimateSeconds: 20 + options.history.tickets / 300 + (options.quick ? 5 : 150) },
      ]),
]
const progress = createProgress({ plan })
const children = createChildren()
const tempDirs = new Set<string>()
// However the run ends, nothing it started outlives it.
process.on('exit', () => {
  progress.close()
  children.killAll()
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})
const stops = new Set<() => Promise<void>>()
let ending: Promise<void> | undefined
function abort(code: number, reason: string): Promise<void> {
  if (ending) return ending
  progress.note(`suite: ${reason}; stopping everything it started`)
  // A stop that hangs does not keep the run alive: the exit handler kills what is left.
  setTimeout(() => process.exit(code), 45_000).unref()
  ending = Promise.allSettled([...stops].map((stop) => stop())).then(() => process.exit(code))
  return ending
}
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)
  process.on(signal, () => (ending ? process.exit(code) : void abort(code, signal)))
// Generous: it is there to end a hung run, not a slow one.
const budgetSeconds = 600 + 3 * plan.reduce((sum, step) => sum + step.estimateSeconds, 0)
setTimeout(
  () => void abort(1, `still running after ${Math.round(budgetSeconds)} s`),
  budgetSeconds * 1000,
).unref()

/** Starts something stoppable: stopped by the step itself, or by abort() if the run ends first. */
function keep<T extends { stop: () => Promise<void> }>(thing: T, dir?: string): T {
  stops.add(thing.stop)
  if (dir) tempDirs.add(dir)
  return thing
}

const figures: SuiteFigures = {
  devices: options.devices,
  seconds,
  warmupSeconds,
  probeShare,
  vigie: undefined,
  idle: undefined,
  overload: undefined,
  relays: [],
  notes: [],
}
const context: SuiteContext = {
  command: `node --import tsx bench/suite.ts ${process.argv.slice(2).join(' ')}`.trim(),
  ...describeMachine(),
  loadAverage: loadavg()[0] ?? 0,
  durationMs: 0,
}
if (!skip.has('mosquitto') && !mosquitto)
  figures.notes.push('mosquitto is not on the PATH: its relay was not run')
for (const step of skip) figures.notes.push(`skipped: ${step}`)
const failed = new Set<string>()

/** Runs one step; a failure is noted and the next step still runs. */
async function step(name: string, work: () => Promise<void>): Promise<void> {
  try {
    await work()
  } catch (error) {
    failed.add(name)
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
    figures.notes.push(`${name} failed: ${message}`)
    progress.end(`FAILED: ${message}`)
  }
}

const secret = randomBytes(18).toString('base64url')
// One production-strength hash for every device: the site file loads without 20,000 scrypt runs.
const secretHash = await hashSecret(secret)
// The demo's stand-ins, counting only: a long run keeps no messages and makes no delivery callbacks.
const standIns = await startMessageStandIns({
  log: createLogger({ level: 'warn' }),
  keepMessages: false,
  reportDelivery: false,
})
stops.add(standIns.close)
const devices = loopDevices(options.devices, secret)

if (rates.length)
  await step('whole loop', async () => {
    progress.begin(`vigie: start, connect ${options.devices.toLocaleString('en-US')} devices`)
    progress.update('starting vigie (broker, workers, notifier, api)')
    const vigie = await startLoopVigie({
      children,
      devices,
      secretHash,
      standIns,
      startTimeoutMs: 120_000,
      cpuProfileDir: options.cpuProfileDir,
    })
    keep(vigie, vigie.dir)
    try {
      const fleet = await connectFleet({
        port: vigie.mqttPort,
        devices,
        concurrency: 50,
        connectTimeoutMs: 120_000,
        onConnected: (count) =>
          progress.update(
            `${count.toLocaleString('en-US')} of ${devices.length.toLocaleString('en-US')} connected`,
            count / devices.length,
          ),
      })
      progress.end(
        `started in ${(vigie.startMs / 1000).toFixed(1)} s, connected in ${(fleet.connectMs / 1000).toFixed(1)} s`,
      )
      const windows: LoopWindow[] = []
      // One ticket per device: a device probed at one rate is not probed again at the next.
      const probed = new Set<string>()
      figures.vigie = { startMs: vigie.startMs, connectMs: fleet.connectMs, windows }
      try {
        for (const rate of rates) {
          progress.begin(`whole loop at ${rate.toLocaleString('en-US')}/s`)
          const probes = createProbeSchedule({ perSecond: rate / probeShare, probed })
          const w = await runLoopWindow({
            vigie,
            fleet,
            probes,
            standIns,
            rate,
            warmupSeconds,
            seconds,
            progress,
          })
          windows.push(w)
          progress.end(
            `${Math.round(w.load.ackRate).toLocaleString('en-US')} acked/s; offered p99 ${w.latency.toOffer.p99.toFixed(0)} ms, ` +
              `notified p99 ${w.latency.toNotification.p99.toFixed(0)} ms (${w.latency.probes} probes); vigie CPU ` +
              `${Math.round(w.cpu.vigie * 100)} %, redis ${Math.round(w.cpu.redis * 100)} % of a core`,
          )
        }
      } finally {
        await fleet.close()
      }
    } finally {
      await vigie.stop()
      stops.delete(vigie.stop)
    }
  })

if (!skip.has('rss'))
  await step('rss', async () => {
    progress.begin(`rss: ${options.connected.toLocaleString('en-US')} idle devices`)
    const idle = await runIdleConnections({
      children,
      standIns,
      secret,
      secretHash,
      requested: options.connected,
      holdSeconds: options.holdSeconds,
      progress,
      onStarted: (vigie) => keep(vigie, vigie.dir),
    })
    figures.idle = idle
    progress.end(
      `${idle.connected.toLocaleString('en-US')} connected in ${Math.round(idle.connectMs / 1000)} s; ` +
        `vigie VmHWM ${Math.round(idle.vigie.peakRssBytes / 2 ** 20)} MB, redis ${Math.round(idle.redisPeakRssBytes / 2 ** 20)} MB`,
    )
  })

if (!skip.has('overload'))
  await step('overload', async () => {
    const { rate, seconds: overloadSeconds, devices: count } = options.overload
    progress.begin(`overload: ${rate.toLocaleString('en-US')}/s offered for ${overloadSeconds} s`)
    const run = await runOverload({
      children,
      standIns,
      devices: devices.slice(0, count),
      secretHash,
      rate,
      seconds: overloadSeconds,
      subscriberBytesPerSecond: 50_000,
      progress,
      onStarted: (vigie) => keep(vigie, vigie.dir),
    })
    figures.overload = run
    progress.end(
      `${run.survived ? 'no crash' : `EXITED ${run.exit}`}; ${Math.round(run.load.ackRate).toLocaleString('en-US')} acked/s; ` +
        `stored ${run.stored >= run.acknowledged ? '≥' : '<'} acknowledged; subscriber ` +
        `${run.subscriberDroppedAfterSeconds === null ? 'never dropped' : `dropped at ${Math.round(run.subscriberDroppedAfterSeconds)} s`}; ` +
        `peak RSS ${Math.round(run.peakRssBytes / 2 ** 20)} MB`,
    )
  })

const relays = [
  ...(skip.has('aedes') ? [] : [{ name: 'plain aedes', start: () => startPlainAedes({ children }) }]),
  ...(mosquitto ? [{ name: 'mosquitto', start: () => startMosquitto({ children, binary: mosquitto }) }] : []),
]
for (const relay of relays)
  await step(relay.name, async () => {
    progress.begin(relay.name)
    const run = await runRelay({
      start: relay.start,
      devices,
      rates: relayRates,
      warmupSeconds,
      seconds,
      progress,
      onStarted: (target) => keep(target),
    })
    figures.relays.push(run)
    progress.end(
      run.windows
        .map(
          (w) =>
            `${w.rate}/s: ${Math.round(w.load.ackRate)} acked/s, p99 ${w.load.latencyMs.p99.toFixed(1)} ms`,
        )
        .join('; '),
    )
  })

if (!skip.has('history'))
  await step('history', async () => {
    const { tickets, devices, readings } = options.history
    progress.begin(`history: a year of ${tickets.toLocaleString('en-US')} tickets`)
    let started: { stop: () => Promise<void> } | undefined
    const run = await runHistoryStep({
      size: scaledYear({ devices, tickets }),
      seed: 'vigie',
      ...(readings === undefined ? {} : { readings }),
      progress,
      onStarted: (server) => {
        started = keep(server)
      },
    })
    if (started) stops.delete(started.stop)
    figures.history = run
    progress.end(
      `written in ${Math.round(run.timings.totalMs / 1000)} s: ${run.summary.tickets.toLocaleString('en-US')} tickets, ` +
        `${run.summary.notifications.total.toLocaleString('en-US')} notifications, ` +
        `${run.summary.readings.toLocaleString('en-US')} readings; used_memory ${Math.round(run.usedMemoryBytes / 2 ** 20)} MB`,
    )
  })

await standIns.close()
stops.delete(standIns.close)
progress.close()
context.durationMs = performance.now()
console.log(`\n${suiteText(figures, context)}\n`)
// A relay that failed is noted in the section; without vigie's own figures there is nothing to write.
const vigieFailed =
  failed.has('whole loop') || failed.has('rss') || failed.has('overload') || failed.has('history')
if (options.writeResults && !vigieFailed) {
  const path = join(repoRoot, 'bench', 'RESULTS.md')
  const existing = await readFile(path, 'utf8').catch(() => '')
  await writeFile(path, withSuiteSection(existing, suiteMarkdown(figures, context)))
  console.log(`results written to ${path}`)
} else if (options.writeResults) {
  console.log(`${[...failed].join(', ')} failed: bench/RESULTS.md left as it was`)
} else {
  const why = options.quick ? '--quick' : '--skip'
  console.log(
    `${why}: bench/RESULTS.md left as it was; its section would read:\n\n${suiteMarkdown(figures, context)}`,
  )
}
process.exit(failed.size ? 1 : 0)
