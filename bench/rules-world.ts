import { rm } from 'node:fs/promises'
import type { Redis } from 'ioredis'
import { findFreePort, openClient } from '../service/index.ts'
import { prepareBenchWorld } from './bench-setup.ts'
import type { BenchChild, Children } from './child-processes.ts'
import type { DeviceCredential } from './load-generator.ts'

/** The service split as it would be scaled: the front (broker and API) and the rule workers apart. */
export type RulesWorld = {
  mqttPort: number
  prefix: string
  redis: Redis
  front: BenchChild
  workers: BenchChild
  redisPid: number
  stop: () => Promise<void>
}

export const logShards = 16

/**
 * Background temperature devices with two rules that do real work on the generator's 18.0–25.9 °C
 * sawtooth (a `for:` timer scheduled and cancelled every 80 readings) but open nothing, and probe doors
 * whose forced opening opens an incident, a ticket and an offer to one of eight security technicians.
 */
function siteFile(background: DeviceCredential[], probes: DeviceCredential[]): string {
  const device = (d: DeviceCredential, kind: string, i: number) =>
    `  - { id: ${d.id}, kind: ${kind}, site: bench, zone: hall, secret: "${d.secret}", location: { lat: ${(49 + (i % 100) * 1e-5).toFixed(5)}, lon: 2.571 } }`
  const technicians = Array.from(
    { length: 8 },
    (_, i) =>
      `  - { id: tech-${i + 1}, name: Tech ${i + 1}, phone: "+3360000${String(i + 1).padStart(4, '0')}", language: en, skills: [security, hvac], location: { lat: ${(49 + i * 1e-3).toFixed(3)}, lon: 2.571 } }`,
  )
  return `# Written by bench/rules-bench.ts for one run; deleted after it.
sites:
  - { id: bench, name: Benchmark site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.571 }, zones: [{ id: hall, name: Hall }] }
devices:
${[...background.map((d, i) => device(d, 'temperature', i)), ...probes.map((d, i) => device(d, 'door', i))].join('\n')}
technicians:
${technicians.join('\n')}
rules:
  - { id: warm-for-long, match: { kind: temperature }, condition: { field: celsius, above: 25.5, clearBelow: 25 }, for: 10m, severity: minor, skill: hvac }
  - { id: too-hot, match: { kind: temperature }, condition: { field: celsius, above: 60, clearBelow: 55 }, severity: major, skill: hvac }
  - { id: door-forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }
dispatch: { offerTimeout: 30m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`
}

export async function startRulesWorld({
  children,
  background,
  probes,
  cpuProfileDir,
}: {
  children: Children
  background: DeviceCredential[]
  probes: DeviceCredential[]
  cpuProfileDir?: string
}): Promise<RulesWorld> {
  const { dir, sitePath, prefix, redisServer } = await prepareBenchWorld({
    label: 'vigie-rules-bench-',
    site: siteFile(background, probes),
  })
  const [mqttPort, httpPort] = [await findFreePort(), await findFreePort()]
  const env = {
    VIGIE_CONFIG: sitePath,
    REDIS_URL: redisServer.url,
    REDIS_PREFIX: prefix,
    BIND_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    VIGIE_LOG_SHARDS: String(logShards),
  }
  const start = (roles: string, extra: Record<string, string> = {}) =>
    children.start({
      args: [
        ...(cpuProfileDir && roles === 'workers' ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []),
        '--import',
        'tsx',
        'service/main.ts',
        'start',
      ],
      env: { ...env, VIGIE_ROLES: roles, ...extra },
    })
  const front = start('broker,api', { MQTT_PORT: String(mqttPort), HTTP_PORT: String(httpPort) })
  const redis = await openClient(redisServer.url, 5000)
  let workers: BenchChild | undefined
  const stop = async () => {
    await Promise.all([front.stop(), workers?.stop()])
    await redis.quit()
    await redisServer.stop()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    // Seeding hashes every secret with scrypt before the broker listens.
    await front.waitForPort(mqttPort, 60_000 + (background.length + probes.length) * 60)
    workers = start('workers')
    const deadline = Date.now() + 60_000
    while ((await redis.keys(`${prefix}rules-lease:*`)).length < logShards) {
      if (Date.now() > deadline) throw new Error(`the workers took no shard:\n${workers.output()}`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { mqttPort, prefix, redis, front, workers, redisPid: redisServer.pid, stop }
}

/** Log entries the rule workers have read so far, over every shard (Redis 7: XINFO GROUPS entries-read). */
export async function entriesRead(redis: Redis, prefix: string): Promise<{ read: number; lag: number }> {
  let read = 0
  let lag = 0
  for (let shard = 0; shard < logShards; shard++) {
    const groups = (await redis.xinfo('GROUPS', `${prefix}log:${shard}`).catch(() => [])) as unknown[][]
    for (const group of groups) {
      const fields = new Map<unknown, unknown>()
      for (let i = 0; i < group.length; i += 2) fields.set(group[i], group[i + 1])
      if (fields.get('name') !== 'rules') continue
      read += Number(fields.get('entries-read') ?? 0)
      lag += Number(fields.get('lag') ?? 0)
    }
  }
  return { read, lag }
}
