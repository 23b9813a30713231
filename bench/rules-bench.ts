import { replaceSection } from './results-file.ts'
// Benchmark of issue 4 "Route": readings through the rule workers, and the time from a door forced open
// to its ticket offered to a technician, at several background rates. Not a test: it measures and reports.
//   node --import tsx bench/rules-bench.ts --devices 1000 --rate 1000,10000 --seconds 20

import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import { positiveIntegerFlag } from './bench-setup.ts'
import { createChildren, repoRoot } from './child-processes.ts'
import { connectFleet, type DeviceCredential } from './load-generator.ts'
import { cpuShare, type ProcessSample, sampleProcess } from './process-stats.ts'
import { entriesRead, logShards, startRulesWorld } from './rules-world.ts'

const usage = `Usage: node --import tsx bench/rules-bench.ts [options]   (or: npm run bench:rules -- [options])

  --devices N           background temperature devices, one MQTT connection each (default 1000)
  --rate R[,R2,...]     background readings per second, held one after the other (default 1000,10000)
  --seconds S           measured window per rate (default 20; --quick 5)
  --warmup S            unmeasured seconds at each rate before the window (default 5; --quick 2)
  --probes P            doors forced open per second during each window, each a new ticket (default 5)
  --results FILE        where to write the results (default bench/RESULTS.md; --quick: not written)
  --cpu-prof DIR        run the workers process under node --cpu-prof, profiles written to DIR
  --quick               a small run, under a minute`

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    probes: { type: 'string', default: '5' },
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
const deviceCount = positiveInteger('devices', values.devices, 1000)
const rates = (values.rate ?? (quick ? '1000' : '1000,10000'))
  .split(',')
  .map((t) => positiveInteger('rate', t, 0))
const seconds = positiveInteger('seconds', values.seconds, quick ? 5 : 20)
const warmupSeconds = positiveInteger('warmup', values.warmup, quick ? 2 : 5)
const probesPerSecond = positiveInteger('probes', values.probes, 5)
const resultsPath = values.results ?? (quick ? undefined : join(repoRoot, 'bench', 'RESULTS.md'))

const credentials = (label: string, count: number): DeviceCredential[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `${label}-${String(i + 1).padStart(5, '0')}`,
    secret: randomBytes(18).toString('base64url'),
  }))
const background = credentials('bench', deviceCount)
const probes = credentials('probe', probesPerSecond * seconds * rates.length)
// Forced before any window, so the first measured probe does not pay for cold code paths.
const warmProbes = credentials('warm', 5)

const percentile = (sorted: number[], p: number) =>
  sorted.length ? (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN) : NaN

type Row = {
  rate: number
  acked: number
  evaluated: number
  lagAtEnd: number
  probes: number
  offered: number
  latency: { p50: number; p99: number; max: number }
  cpu: { front: number; workers: number; redis: number }
  peakRssMb: { front: number; workers: number }
}

const children = createChildren()
process.on('exit', children.killAll)
const world = await startRulesWorld({
  children,
  background,
  probes: [...warmProbes, ...probes],
  ...(values['cpu-prof'] ? { cpuProfileDir: values['cpu-prof'] } : {}),
})
const rows: Row[] = []
let ceiling: { backlog: number; perSecond: number; workersCpu: number } | undefined
try {
  const fleet = await connectFleet({
    port: world.mqttPort,
    devices: background,
    concurrency: 50,
    connectTimeoutMs: 60_000,
  })
  const probeClients = await Promise.all(
    probes.map((p) =>
      mqtt.connectAsync({
        host: '127.0.0.1',
        port: world.mqttPort,
        clientId: p.id,
        username: p.id,
        password: p.secret,
        reconnectPeriod: 0,
      }),
    ),
  )
  for (const warm of warmProbes) {
    const client = await mqtt.connectAsync({
      host: '127.0.0.1',
      port: world.mqttPort,
      clientId: warm.id,
      username: warm.id,
      password: warm.secret,
      reconnectPeriod: 0,
    })
    await client.publishAsync(`devices/${warm.id}/telemetry`, '{"type":"door","open":true}', { qos: 1 })
    await client.endAsync()
  }
  const warmDeadline = Date.now() + 30_000
  while ((await world.redis.zcard(`${world.prefix}tickets`)) < warmProbes.length && Date.now() < warmDeadline)
    await new Promise((resolve) => setTimeout(resolve, 100))
  let nextProbe = 0
  for (const rate of rates) {
    const pids = { front: world.front.pid, workers: world.workers.pid, redis: world.redisPid }
    let before: Record<string, ProcessSample | null> = {}
    let after: Record<string, ProcessSample | null> = {}
    let readBefore: ReturnType<typeof entriesRead> | undefined
    let readAfter: ReturnType<typeof entriesRead> | undefined
    const sentAt = new Map<string, number>()
    let probeTimer: NodeJS.Timeout | undefined
    const sample = () =>
      Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, sampleProcess(pid)]))
    const step = await fleet.run({
      rate,
      warmupSeconds,
      seconds,
      maxInFlightPerDevice: 10,
      drainTimeoutMs: 15_000,
      onWindowStart: () => {
        before = sample()
        readBefore = entriesRead(world.redis, world.prefix)
        // Probes go out evenly through the window, each on a door that was never forced before.
        probeTimer = setInterval(() => {
          const index = nextProbe++
          const probe = probes[index]
          const client = probeClients[index]
          if (!probe || !client) return
          sentAt.set(probe.id, Date.now())
          client.publish(`devices/${probe.id}/telemetry`, '{"type":"door","open":true}', { qos: 1 })
        }, 1000 / probesPerSecond)
      },
      onWindowEnd: () => {
        clearInterval(probeTimer)
        after = sample()
        readAfter = entriesRead(world.redis, world.prefix)
      },
    })
    // Every probe's ticket offered, or the deadline. The offer's time is its event's stream id: the Redis
    // server's clock when the offer was written, the same clock (this machine's) as the publish time.
    const offeredAt = new Map<string, number>()
    const deadline = Date.now() + 60_000
    let cursor = '-'
    while (offeredAt.size < sentAt.size && Date.now() < deadline) {
      const entries = await world.redis.xrange(`${world.prefix}events`, cursor, '+', 'COUNT', 1000)
      for (const [id, fields] of entries) {
        const event = JSON.parse(fields[1] ?? '{}') as { type?: string; ticket?: { device?: string } }
        const device = event.ticket?.device ?? ''
        if (event.type === 'ticket.offered' && sentAt.has(device))
          offeredAt.set(device, Number(id.split('-')[0]))
        cursor = `(${id}`
      }
      if (entries.length === 0) await new Promise((resolve) => setTimeout(resolve, 250))
    }
    const [start, end] = [await readBefore, await readAfter]
    const latencies = [...offeredAt]
      .map(([device, at]) => at - (sentAt.get(device) ?? at))
      .sort((a, b) => a - b)
    const mb = (s: ProcessSample | null | undefined) => Math.round((s?.peakRssBytes ?? 0) / 1_048_576)
    rows.push({
      rate,
      acked: Math.round(step.ackRate),
      evaluated: Math.round(((end?.read ?? 0) - (start?.read ?? 0)) / seconds),
      lagAtEnd: end?.lag ?? 0,
      probes: sentAt.size,
      offered: offeredAt.size,
      latency: {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.at(-1) ?? NaN,
      },
      cpu: {
        front: cpuShare(before.front ?? null, after.front ?? null, seconds),
        workers: cpuShare(before.workers ?? null, after.workers ?? null, seconds),
        redis: cpuShare(before.redis ?? null, after.redis ?? null, seconds),
      },
      peakRssMb: { front: mb(after.front), workers: mb(after.workers) },
    })
    console.log(JSON.stringify(rows.at(-1)))
  }
  // Ceiling: with the workers paused, a backlog builds at the highest rate; then they evaluate it alone.
  const top = Math.max(...rates)
  process.kill(world.workers.pid, 'SIGSTOP')
  await fleet.run({
    rate: top,
    warmupSeconds: 0,
    seconds: 10,
    maxInFlightPerDevice: 10,
    drainTimeoutMs: 15_000,
  })
  const backlog = (await entriesRead(world.redis, world.prefix)).lag
  const before = sampleProcess(world.workers.pid)
  const resumed = performance.now()
  process.kill(world.workers.pid, 'SIGCONT')
  while ((await entriesRead(world.redis, world.prefix)).lag > 0 && performance.now() - resumed < 120_000)
    await new Promise((resolve) => setTimeout(resolve, 50))
  const drainSeconds = (performance.now() - resumed) / 1000
  ceiling = {
    backlog,
    perSecond: Math.round(backlog / drainSeconds),
    workersCpu: cpuShare(before, sampleProcess(world.workers.pid), drainSeconds),
  }
  console.log(JSON.stringify({ ceiling }))
  await Promise.all(probeClients.map((c) => c.endAsync(true)))
  await fleet.close()
} finally {
  await world.stop()
}

const pct = (share: number) => `${Math.round(share * 100)} %`
const table = [
  '| background readings/s offered | acked/s | evaluated by rules/s | rules lag at window end | probes | offered | reading → offer p50 ms | p99 ms | max ms | front CPU | workers CPU | redis CPU | front / workers peak RSS MB |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.rate.toLocaleString('en')} | ${r.acked.toLocaleString('en')} | ${r.evaluated.toLocaleString('en')} | ${r.lagAtEnd.toLocaleString('en')} | ${r.probes} | ${r.offered} | ${r.latency.p50} | ${r.latency.p99} | ${r.latency.max} | ${pct(r.cpu.front)} | ${pct(r.cpu.workers)} | ${pct(r.cpu.redis)} | ${r.peakRssMb.front} / ${r.peakRssMb.workers} |`,
  ),
]
const node = execFileSync(process.execPath, ['--version'], { encoding: 'utf8' }).trim()
const section = [
  `Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: \`node --import tsx bench/rules-bench.ts --devices ${deviceCount} --rate ${rates.join(',')} --seconds ${seconds} --probes ${probesPerSecond}\``,
  '',
  `Machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'unknown CPU'}; node ${node}; warm-up ${warmupSeconds} s, measured window ${seconds} s; ${logShards} log shards, one workers process.`,
  '',
  ...table,
  '',
  ceiling
    ? `- Ceiling of one workers process: a backlog of ${ceiling.backlog.toLocaleString('en')} readings (workers paused while ${Math.max(...rates).toLocaleString('en')}/s came in for 10 s) evaluated at ${ceiling.perSecond.toLocaleString('en')} readings/s, workers at ${pct(ceiling.workersCpu)} of a core.`
    : '',
].join('\n')
console.log(`\n${section}`)
if (resultsPath) {
  const text = await readFile(resultsPath, 'utf8')
  const [begin, end] = [
    '<!-- rules-results:begin (written by bench/rules-bench.ts) -->',
    '<!-- rules-results:end -->',
  ]
  await writeFile(
    resultsPath,
    replaceSection({ text, begin, end, section, place: (block) => `${text}\n${block}` }),
  )
  console.log(`written to ${resultsPath}`)
}
process.exit(0)
