// Issue 17 "Reconnect storms": node --import tsx bench/reconnect-bench.ts [--devices N] [--chosen N] [--quick]
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateSecret, hashSecret } from '../ingest/index.ts'
import { positiveIntegerFlag } from './bench-setup.ts'
import { createChildren, repoRoot } from './child-processes.ts'
import { type ReconnectFigures, runReconnect } from './reconnect-step.ts'
import { describeMachine, machineLines, replaceSection } from './results-file.ts'

const usage = `Usage: node --import tsx bench/reconnect-bench.ts [options]   (or: npm run bench:reconnect -- [options])

Two vigie nodes (the broker role each) on one redis-server; every device connected to node A, then A
SIGKILLed and every device reconnecting to node B at once (a refused or timed-out login tries again a
second later): the time from the kill until all are back. A node is as many broker processes as one
process's open-files limit needs (two for 20,000 devices here), all of A's killed at once. Once with secrets vigie issued, once with
secrets a person chose (scrypt-hashed), fewer of them.

Options:
  --devices N     devices with issued secrets (default 20000; --quick 1000)
  --chosen N      devices with chosen secrets (default 2000; --quick 200)
  --cpu-prof DIR  node B runs under node --cpu-prof, its profile written to DIR
  --set KEY=VALUE a setting for both nodes (e.g. MQTT_AUTH_PENDING_MAX=5000); may be repeated
  --quick         small; prints the results, does not write bench/RESULTS.md
  --help          this text`

const { values } = parseArgs({
  options: {
    devices: { type: 'string' },
    chosen: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    set: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log(usage)
  process.exit(0)
}
const flag = positiveIntegerFlag(usage)
const quick = values.quick === true
const issuedCount = flag('devices', values.devices, quick ? 1000 : 20_000)
const chosenCount = flag('chosen', values.chosen, quick ? 200 : 2000)

const nodeEnv = Object.fromEntries(
  (values.set ?? []).map((pair) => {
    const at = pair.indexOf('=')
    if (at < 1) {
      console.error(`--set: expected KEY=VALUE, got "${pair}"\n\n${usage}`)
      process.exit(2)
    }
    return [pair.slice(0, at), pair.slice(at + 1)]
  }),
)
const children = createChildren()
const stops = new Set<() => Promise<void>>()
process.on('exit', () => children.killAll())
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    setTimeout(() => process.exit(130), 20_000).unref()
    void Promise.allSettled([...stops].map((stop) => stop())).then(() => process.exit(130))
  })
const note = (text: string) => console.error(`reconnect: ${text}`)
const machine = describeMachine()
const loadAverage = loadavg()[0] ?? 0

// Every device shares one secret, hashed once: what a login costs depends on the hash's scheme only.
const issued = generateSecret()
const chosen = `chosen-${randomBytes(6).toString('hex')}`
const runs: ReconnectFigures[] = []
for (const [secrets, secret, count] of [
  ['issued', issued, issuedCount],
  ['chosen', chosen, chosenCount],
] as const) {
  note(`${count.toLocaleString('en-US')} devices with ${secrets} secrets`)
  runs.push(
    await runReconnect({
      children,
      secrets,
      secret,
      secretHash: await hashSecret(secret),
      requested: count,
      note,
      onStopper: (stop) => stops.add(stop),
      cpuProfileDir: values['cpu-prof'],
      nodeEnv,
    }),
  )
}

const seconds = (ms: number) => (ms / 1000).toFixed(1)
const perSecond = (run: ReconnectFigures) =>
  Math.round(run.devices / Math.max(run.reconnectMs / 1000, 0.001)).toLocaleString('en-US')
const reasonsText = (run: ReconnectFigures) => {
  const parts = Object.entries(run.reasons).map(([reason, n]) => `${n.toLocaleString('en-US')} ${reason}`)
  return parts.length ? ` (${parts.join(', ')})` : ''
}
const rows = runs.map(
  (run) =>
    `| ${run.secrets} (\`${run.scheme}\`) | ${run.devices.toLocaleString('en-US')} | ${seconds(run.firstConnectMs)} s ` +
    `| **${seconds(run.reconnectMs)} s** (${perSecond(run)}/s) | ${run.attempts.toLocaleString('en-US')} ` +
    `| ${run.refused.toLocaleString('en-US')}${reasonsText(run)} ` +
    `| ${run.cpuSeconds.nodeB.toFixed(1)} s, ${run.cpuSeconds.redis.toFixed(1)} s, ${run.cpuSeconds.devices.toFixed(1)} s |`,
)
const [fast, slow] = runs
const ratio =
  fast && slow
    ? `Per device, a reconnection with a chosen secret took ${(
        slow.reconnectMs / slow.devices / (fast.reconnectMs / fast.devices)
      ).toFixed(1)}× as long as with an issued one.`
    : ''
const section = [
  `## Reconnect storm (issue 17), ${machine.date}`,
  '',
  `\`node --import tsx bench/reconnect-bench.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\``,
  '',
  ...machineLines(
    machine,
    `load average ${loadAverage.toFixed(2)} as the run started; the nodes, Redis and the devices' processes share the cores.`,
  ),
  '| secrets (stored as) | devices | all on node A | all back on node B after A is SIGKILLed | logins tried on B | refused (busy) or timed out | CPU meanwhile: node B, Redis, devices |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows,
  '',
  ...runs.filter((run) => run.cap).map((run) => `Capped: ${run.cap}.`),
  ...runs
    .filter((run) => run.processesPerNode > 1)
    .map(
      (run) =>
        `With ${run.devices.toLocaleString('en-US')} devices each node was ${run.processesPerNode} broker processes ` +
        "(a process here may hold 20,000 open files, `ulimit -Hn`), all of A's SIGKILLed at once; B's CPU is theirs summed.",
    ),
  ratio,
].join('\n')
console.log(`\n${section}\n`)
if (quick) {
  console.log('--quick: bench/RESULTS.md left as it was')
} else {
  const path = join(repoRoot, 'bench', 'RESULTS.md')
  const text = await readFile(path, 'utf8').catch(() => '')
  const begin = '<!-- reconnect:begin (written by bench/reconnect-bench.ts) -->'
  const end = '<!-- reconnect:end -->'
  await writeFile(path, replaceSection({ text, begin, end, section, place: (block) => `${text}\n${block}` }))
  console.log(`results written to ${path}`)
}
process.exit(0)
