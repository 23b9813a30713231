import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { positiveIntegerFlag } from './bench-setup.ts'
import { createChildren, repoRoot } from './child-processes.ts'
import { connectFleet, type DeviceCredential } from './load-generator.ts'
import { cpuShare, type ProcessSample, sampleProcess } from './process-stats.ts'
import {
  markdownReport,
  type RunContext,
  type StepMeasurement,
  type TargetRun,
  textReport,
} from './report.ts'
import { describeMachine, replaceSection } from './results-file.ts'
import { benchDevices, startPlainAedes, startVigie, type Target } from './targets.ts'

const usage = `Usage: node --import tsx bench/ingest-bench.ts [options]   (or: npm run bench -- [options])

  --devices N           devices, one MQTT connection each (default 5000; --quick 500)
  --rate R[,R2,...]     readings per second offered, over all devices; several rates are held one after
                        the other on the same connections (default 10000; --quick 2000)
  --seconds S           measured window per rate (default 30; --quick 10)
  --warmup S            unmeasured seconds at each rate before the window (default 5; --quick 3)
  --max-in-flight K     unacknowledged readings a device may have before it skips its turn (default 10)
  --targets LIST        vigie,vigie-cluster,aedes (default vigie,aedes); vigie-cluster is vigie with
                        MQTT_CLUSTER=on (sessions and the message bus in Redis)
  --results FILE        where to write the results (default bench/RESULTS.md; --quick: not written)
  --cpu-prof DIR        run the vigie child under node --cpu-prof, profiles written to DIR
  --quick               a small run, under a minute`

const { values } = parseArgs({
  options: {
    devices: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    'max-in-flight': { type: 'string', default: '10' },
    targets: { type: 'string', default: 'vigie,aedes' },
    results: { type: 'string' },
    'cpu-prof': { type: 'string' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  console.log(usage)
  process.exit(0)
}

const positiveInteger = positiveIntegerFlag(usage)

const quick = values.quick
const deviceCount = positiveInteger('devices', values.devices, quick ? 500 : 5000)
const rates = (values.rate ?? (quick ? '2000' : '10000'))
  .split(',')
  .map((text) => positiveInteger('rate', text.trim(), 0))
const seconds = positiveInteger('seconds', values.seconds, quick ? 10 : 30)
const warmupSeconds = positiveInteger('warmup', values.warmup, quick ? 3 : 5)
const maxInFlightPerDevice = positiveInteger('max-in-flight', values['max-in-flight'], 10)
const targetNames = values.targets.split(',').map((name) => name.trim())
const knownTargets = new Set(['vigie', 'vigie-cluster', 'aedes'])
if (targetNames.length === 0 || targetNames.some((name) => !knownTargets.has(name))) {
  console.error(`--targets: expected vigie, vigie-cluster or aedes, got "${values.targets}"\n\n${usage}`)
  process.exit(2)
}
const resultsPath = values.results ?? (quick ? undefined : join(repoRoot, 'bench', 'RESULTS.md'))
const drainTimeoutMs = 15_000

const children = createChildren()
process.on('exit', children.killAll)
const running = new Set<Target>()
let stopped: Promise<unknown> | undefined
async function stopAll(code: number, reason?: string): Promise<never> {
  if (!stopped) {
    if (reason) console.error(`ingest-bench: ${reason}`)
    stopped = Promise.allSettled([...running].map((target) => target.stop()))
  }
  await stopped
  process.exit(code)
}
process.on('SIGINT', () => void stopAll(130, 'SIGINT'))
process.on('SIGTERM', () => void stopAll(143, 'SIGTERM'))
// The run ends by itself: connecting is bounded by scrypt, each rate by its window and drain.
const budgetSeconds =
  240 + (deviceCount * 2 * 30) / 1000 + targetNames.length * rates.length * (warmupSeconds + seconds + 20)
setTimeout(
  () => void stopAll(1, `still running after ${Math.round(budgetSeconds)} s: stopped`),
  budgetSeconds * 1000,
).unref()

function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`)
}

async function measure(target: Target, devices: DeviceCredential[]): Promise<TargetRun> {
  log(
    `${target.name}: listening after ${(target.startMs / 1000).toFixed(1)} s; connecting ${devices.length} devices`,
  )
  const fleet = await connectFleet({ port: target.port, devices, concurrency: 50, connectTimeoutMs: 60_000 })
  log(`${target.name}: connected in ${(fleet.connectMs / 1000).toFixed(1)} s`)
  const steps: StepMeasurement[] = []
  for (const rate of rates) {
    log(`${target.name}: ${rate}/s, ${warmupSeconds} s warm-up then ${seconds} s measured`)
    let before: (ProcessSample | null)[] = []
    let after: (ProcessSample | null)[] = []
    let windowStart = 0
    let windowSeconds = 0
    const pids = [target.pid, ...target.helpers.map((helper) => helper.pid)]
    const result = await fleet.run({
      rate,
      warmupSeconds,
      seconds,
      maxInFlightPerDevice,
      drainTimeoutMs,
      onWindowStart: () => {
        before = pids.map(sampleProcess)
        windowStart = performance.now()
      },
      onWindowEnd: () => {
        after = pids.map(sampleProcess)
        windowSeconds = (performance.now() - windowStart) / 1000
      },
    })
    const helperIndexes = target.helpers.map((_, i) => i + 1)
    const final = pids.map(sampleProcess)
    const step: StepMeasurement = {
      ...result,
      brokerCpu: cpuShare(before[0] ?? null, after[0] ?? null, windowSeconds),
      helperCpu: helperIndexes.reduce(
        (sum, i) => sum + cpuShare(before[i] ?? null, after[i] ?? null, windowSeconds),
        0,
      ),
      peakRssBytes: final[0]?.peakRssBytes ?? Number.NaN,
      helperPeakRssBytes: helperIndexes.reduce((sum, i) => sum + (final[i]?.peakRssBytes ?? 0), 0),
    }
    steps.push(step)
    log(
      `${target.name}: ${Math.round(step.ackRate)}/s acknowledged, p50 ${step.latencyMs.p50.toFixed(1)} ms, ` +
        `p99 ${step.latencyMs.p99.toFixed(1)} ms, broker CPU ${Math.round(step.brokerCpu * 100)} %`,
    )
    log(`${target.name}: acknowledged per second: ${step.perSecond.join(' ')}`)
  }
  const disconnects = fleet.disconnects()
  const acked = fleet.ackedTotal()
  const stored = target.storedReadings ? await target.storedReadings() : undefined
  await fleet.close()
  return {
    target: target.name,
    devices: devices.length,
    startMs: target.startMs,
    connectMs: fleet.connectMs,
    steps,
    disconnects,
    ...(stored === undefined ? {} : { durability: { acked, stored } }),
  }
}

async function runTarget(start: () => Promise<Target>, devices: DeviceCredential[]): Promise<TargetRun> {
  const target = await start()
  running.add(target)
  try {
    return await measure(target, devices)
  } finally {
    running.delete(target)
    await target.stop()
  }
}

async function writeResults(path: string, report: string): Promise<void> {
  const begin = '<!-- results:begin (written by bench/ingest-bench.ts) -->'
  const end = '<!-- results:end -->'
  const existing = await readFile(path, 'utf8').catch(() => '')
  const place = (block: string) => `# Ingest benchmark\n\n${block}`
  await writeFile(path, replaceSection({ text: existing, begin, end, section: report, place }))
}

const context: RunContext = {
  command: `node --import tsx bench/ingest-bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
  ...describeMachine(),
  warmupSeconds,
  seconds,
  maxInFlightPerDevice,
}

try {
  const devices = benchDevices(deviceCount)
  const runs: TargetRun[] = []
  for (const name of targetNames) {
    const start =
      name === 'aedes'
        ? () => startPlainAedes({ children })
        : () =>
            startVigie({
              children,
              devices,
              cluster: name === 'vigie-cluster',
              ...(values['cpu-prof'] ? { cpuProfileDir: values['cpu-prof'] } : {}),
            })
    log(
      name !== 'aedes'
        ? `${name}: starting (seeds ${deviceCount} devices, one scrypt hash each)`
        : `${name}: starting`,
    )
    runs.push(await runTarget(start, devices))
  }
  console.log(`\n${textReport(runs)}\n`)
  if (resultsPath) {
    await writeResults(resultsPath, markdownReport(runs, context))
    log(`results written to ${resultsPath}`)
  }
  process.exit(0)
} catch (error) {
  console.error(error)
  await stopAll(1)
}
