import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { positiveIntegerFlag } from './bench-setup.ts'
import { createChildren, repoRoot } from './child-processes.ts'
import { connectFleet, type LoadResult } from './load-generator.ts'
import { describeMachine, machineLines, replaceSection } from './results-file.ts'
import { benchDevices, startVigie } from './targets.ts'

const usage = `Usage: node --import tsx bench/replica-ack-bench.ts [options]   (or: npm run bench:replicas -- [options])

Issue 17, acknowledged means replicated: vigie's broker on a Redis with one replica, first with
VIGIE_REDIS_REPLICAS_ACK=0 (PUBACK once the master has the reading), then =1 (once the replica has it
too), at each rate on the same devices. Prints PUBACK latency and the ratio of ack 1 to ack 0.

  --devices N     devices, one MQTT connection each (default 1000; --quick 200)
  --rate R[,R2]   readings per second offered (default 1000,10000; --quick 1000)
  --seconds S     measured window per rate (default 20; --quick 5)
  --warmup S      unmeasured seconds before each window (default 5; --quick 2)
  --quick         a small run: prints, does not write bench/RESULTS.md`

const { values } = parseArgs({
  options: {
    devices: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
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
const deviceCount = positiveInteger('devices', values.devices, quick ? 200 : 1000)
const rates = (values.rate ?? (quick ? '1000' : '1000,10000'))
  .split(',')
  .map((text) => positiveInteger('rate', text.trim(), 0))
const seconds = positiveInteger('seconds', values.seconds, quick ? 5 : 20)
const warmupSeconds = positiveInteger('warmup', values.warmup, quick ? 2 : 5)

const children = createChildren()
process.on('exit', children.killAll)
const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`)

type Row = { ack: number; step: LoadResult }

async function measure(ack: number, devices: ReturnType<typeof benchDevices>): Promise<Row[]> {
  log(`ack ${ack}: starting vigie on a Redis with one replica (seeds ${devices.length} devices)`)
  const target = await startVigie({ children, devices, replicaAck: ack })
  try {
    const fleet = await connectFleet({
      port: target.port,
      devices,
      concurrency: 50,
      connectTimeoutMs: 60_000,
    })
    const rows: Row[] = []
    for (const rate of rates) {
      const step = await fleet.run({
        rate,
        warmupSeconds,
        seconds,
        maxInFlightPerDevice: 10,
        drainTimeoutMs: 15_000,
      })
      log(
        `ack ${ack} at ${rate}/s: ${Math.round(step.ackRate)}/s acknowledged, PUBACK p50 ${step.latencyMs.p50.toFixed(1)} ms, p99 ${step.latencyMs.p99.toFixed(1)} ms`,
      )
      rows.push({ ack, step })
    }
    await fleet.close()
    return rows
  } finally {
    await target.stop()
  }
}

function report(rows: Row[]): string {
  const fixed = (n: number, digits = 1) => n.toFixed(digits)
  const table = [
    '| VIGIE_REDIS_REPLICAS_ACK | offered /s | acknowledged /s | PUBACK p50 ms | p99 ms | max ms | unacked at end |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      ({ ack, step }) =>
        `| ${ack} | ${step.rate} | ${Math.round(step.ackRate)} | ${fixed(step.latencyMs.p50)} | ${fixed(step.latencyMs.p99)} | ${fixed(step.latencyMs.max, 0)} | ${step.unacked} |`,
    ),
  ]
  const ratios = rates.flatMap((rate) => {
    const off = rows.find((row) => row.ack === 0 && row.step.rate === rate)?.step
    const on = rows.find((row) => row.ack === 1 && row.step.rate === rate)?.step
    if (!off || !on) return []
    return [
      `- at ${rate}/s: ack 1 against ack 0, PUBACK p50 ${fixed(on.latencyMs.p50 / off.latencyMs.p50, 2)}×, ` +
        `p99 ${fixed(on.latencyMs.p99 / off.latencyMs.p99, 2)}×, acknowledged rate ${fixed(on.ackRate / off.ackRate, 2)}×`,
    ]
  })
  const machine = describeMachine()
  return [
    `Run ${machine.date}: \`npm run bench:replicas -- ${process.argv.slice(2).join(' ')}\`, ${deviceCount} devices, ` +
      `${warmupSeconds} s warm-up then ${seconds} s measured per rate, at most 10 readings in flight per device.`,
    '',
    ...machineLines(machine, 'vigie (broker role), its redis-server and one replica on the same machine.'),
    ...table,
    '',
    ...ratios,
  ].join('\n')
}

try {
  const devices = benchDevices(deviceCount)
  const rows = [...(await measure(0, devices)), ...(await measure(1, devices))]
  const text = report(rows)
  console.log(`\n${text}\n`)
  if (!quick) {
    const path = join(repoRoot, 'bench', 'RESULTS.md')
    const begin = '<!-- replicas:begin (written by bench/replica-ack-bench.ts) -->'
    const end = '<!-- replicas:end -->'
    const existing = await readFile(path, 'utf8').catch(() => '')
    const place = (block: string) =>
      `${existing.trimEnd()}\n\n## Acknowledged means replicated (issue 17)\n\n${block}`
    await writeFile(path, replaceSection({ text: existing, begin, end, section: text, place }))
    log(`results written to ${path}`)
  }
  process.exit(0)
} catch (error) {
  console.error(error)
  process.exit(1)
}
