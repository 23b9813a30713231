// npm run bench:start — how long a node takes from its spawn to /readyz 200 and to its first evaluated reading (issue 17).
import { rm, writeFile } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import { hashSecret } from '../ingest/index.ts'
import { findFreePort } from '../service/index.ts'
import { positiveIntegerFlag, prepareBenchWorld } from './bench-setup.ts'
import { createChildren } from './child-processes.ts'
import { describeMachine, machineLines } from './results-file.ts'

const usage = `Usage: npm run bench:start -- [--devices N] [--plain N] [--changed N]

  --devices N   doors in the site file, each with its secretHash (default 20000)
  --plain N     also a site of N doors with plain secrets, hashed by vigie (default 0: none)
  --changed N   doors the site file changes before the third start (default 5)`

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { devices: { type: 'string' }, plain: { type: 'string' }, changed: { type: 'string' } },
})
const flag = positiveIntegerFlag(usage)
const devices = flag('devices', values.devices, 20_000)
const plain = values.plain === undefined || values.plain === '0' ? 0 : flag('plain', values.plain, 1)
const changed = flag('changed', values.changed, 5)
const secret = 'bench-door-secret-0123456789'
const adminKey = 'bench-start-admin-key-0123456789'
// Past this a start counts as failed: the figures this bench is about are seconds, the old ones minutes.
const startDeadlineMs = 15 * 60_000

type Door = { id: string; zone: string; secret: { hash: string } | { plain: string } }

/** Every door opened without a badge is forced: its first reading opens a critical ticket. */
function siteFile(doors: Door[]): string {
  const line = (d: Door) =>
    `  - { id: ${d.id}, kind: door, site: s1, zone: ${d.zone}, ${
      'hash' in d.secret ? `secretHash: "${d.secret.hash}"` : `secret: "${d.secret.plain}"`
    } }`
  return `sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: a, name: A }, { id: b, name: B }] }]
devices:
${doors.map(line).join('\n')}
technicians: [{ id: tech-1, name: One, phone: "+33600000001", skills: [security], location: { lat: 49.001, lon: 2.57 } }]
rules: [{ id: door-forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }]
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`
}

type Start = { label: string; readyMs: number; acceptedMs: number; ticketMs: number; provisioned: string }

const children = createChildren()
process.on('exit', children.killAll)
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls until the probe answers something; throws at the deadline, or at once when the node has exited. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  t0: number,
  exitedWith: () => number | string | undefined,
): Promise<number> {
  for (;;) {
    if ((await probe().catch(() => undefined)) !== undefined) return performance.now() - t0
    const exit = exitedWith()
    if (exit !== undefined) throw new Error(`${what}: the node exited (${exit})`)
    if (performance.now() - t0 > startDeadlineMs)
      throw new Error(`${what}: nothing after ${startDeadlineMs} ms`)
    await pause(50)
  }
}

/** One start of a node with every role; a forced door is published as soon as the broker lets it in. */
async function measureStart(
  world: { sitePath: string; prefix: string; redisUrl: string },
  label: string,
  door: string,
  doorSecret: string,
): Promise<Start> {
  const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()]
  const http = `http://127.0.0.1:${httpPort}`
  const t0 = performance.now()
  const child = children.start({
    args: ['--import', 'tsx', 'service/main.ts', 'start'],
    env: {
      VIGIE_CONFIG: world.sitePath,
      REDIS_URL: world.redisUrl,
      REDIS_PREFIX: world.prefix,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      BIND_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      VIGIE_ADMIN_KEY: adminKey,
    },
  })
  let exit: number | string | undefined
  void child.exited.then((code) => {
    exit = code
  })
  // Kept whole, as the child keeps only its last output: who provisioned, parent and workers process alike.
  const provisioning: string[] = []
  let partial = ''
  child.child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString()
    const complete = text.split('\n')
    partial = complete.pop() ?? ''
    for (const line of complete) {
      if (!line.includes('devices from the site file')) continue
      const { msg, written } = JSON.parse(line) as { msg: string; written?: number }
      provisioning.push(written === undefined ? msg : `${msg} (${written} written)`)
    }
  })
  try {
    const ready = until(
      'readyz',
      async () => ((await fetch(`${http}/readyz`)).status === 200 ? true : undefined),
      t0,
      () => exit,
    )
    const acceptedMs = await until(
      'the door let in',
      async () => {
        const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
          username: door,
          password: doorSecret,
          clientId: door,
          reconnectPeriod: 0,
          connectTimeout: 2000,
        })
        await client.publishAsync(`devices/${door}/telemetry`, JSON.stringify({ type: 'door', open: true }), {
          qos: 1,
        })
        await client.endAsync()
        return true
      },
      t0,
      () => exit,
    )
    const ticketMs = await until(
      'its ticket',
      async () => {
        const res = await fetch(`${http}/api/tickets?device=${door}`, {
          headers: { authorization: `Bearer ${adminKey}` },
        })
        const { items } = (await res.json()) as { items: unknown[] }
        return items.length > 0 ? true : undefined
      },
      t0,
      () => exit,
    )
    const readyMs = await ready
    return { label, readyMs, acceptedMs, ticketMs, provisioned: provisioning.join('; ') || '—' }
  } finally {
    // SIGTERM: a graceful stop, its shard leases handed back, as an operator's restart does.
    await child.stop(60_000)
  }
}

async function runSite(label: string, doors: Door[], secretOf: (d: Door) => string): Promise<Start[]> {
  const world = await prepareBenchWorld({ label: 'vigie-start-', site: siteFile(doors) })
  const redisUrl = world.redisServer.url
  const at = { ...world, redisUrl }
  const door = (i: number) => doors[i] as Door
  try {
    const starts = [
      await measureStart(at, `${label}: first start, empty Redis`, door(0).id, secretOf(door(0))),
    ]
    starts.push(await measureStart(at, `${label}: restart, same site file`, door(1).id, secretOf(door(1))))
    // A few doors move zone: what a site file edit looks like.
    const edited = doors.map((d, i) => (i >= 10 && i < 10 + changed ? { ...d, zone: 'b' } : d))
    await writeFile(world.sitePath, siteFile(edited))
    starts.push(
      await measureStart(at, `${label}: restart, ${changed} doors changed`, door(2).id, secretOf(door(2))),
    )
    return starts
  } finally {
    await world.redisServer.stop()
    await rm(world.dir, { recursive: true, force: true })
  }
}

const seconds = (ms: number) => (ms / 1000).toFixed(1)
const ids = (count: number) =>
  Array.from({ length: count }, (_, i) => `door-${String(i + 1).padStart(5, '0')}`)

const hash = await hashSecret(secret)
const results = await runSite(
  `${devices.toLocaleString('en')} doors, secretHash`,
  ids(devices).map((id) => ({ id, zone: 'a', secret: { hash } })),
  () => secret,
)
if (plain > 0) {
  results.push(
    ...(await runSite(
      `${plain.toLocaleString('en')} doors, plain secrets`,
      ids(plain).map((id) => ({ id, zone: 'a', secret: { plain: `${secret}-${id}` } })),
      (d) => ('plain' in d.secret ? d.secret.plain : secret),
    )),
  )
}

const machine = describeMachine()
const lines = [
  `### Start to ready and to the first evaluated reading (issue 17), ${machine.date}`,
  '',
  ...machineLines(
    machine,
    'every role in one node, its rule workers in a child process; `npm run bench:start`.',
  ),
  '| start | spawn → /readyz 200 (s) | spawn → door let in (s) | spawn → its ticket (s) | provisioning |',
  '|---|---:|---:|---:|---|',
  ...results.map(
    (r) =>
      `| ${r.label} | ${seconds(r.readyMs)} | ${seconds(r.acceptedMs)} | ${seconds(r.ticketMs)} | ${r.provisioned} |`,
  ),
]
console.log(lines.join('\n'))
