import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createLogger, findFreePort, openClient, startRedisServer } from '../service/index.ts'
import { prepareBenchWorld } from './bench-setup.ts'
import type { Children } from './child-processes.ts'
import type { DeviceCredential } from './load-generator.ts'

/** A broker under test, running in a child process of its own. */
export type Target = {
  name: string
  port: number
  pid: number
  /** Other processes doing the target's work (vigie's redis-server), measured alongside. */
  helpers: { name: string; pid: number }[]
  /** From spawn to accepting connections. */
  startMs: number
  /** Readings durably stored, for a target that stores them. */
  storedReadings?: () => Promise<number>
  stop: () => Promise<void>
}

export function benchDevices(count: number): DeviceCredential[] {
  const width = String(count).length
  return Array.from({ length: count }, (_, i) => ({
    id: `bench-${String(i + 1).padStart(width, '0')}`,
    secret: randomBytes(18).toString('base64url'),
  }))
}

/** One site, shaped like the top of config/demo-site.yaml, and the bench's devices with their secrets. */
function siteFile(devices: DeviceCredential[]): string {
  const lines = [
    '# Written by bench/ingest-bench.ts for one run; deleted after it.',
    'sites:',
    '  - id: bench',
    '    name: Benchmark site',
    '    timezone: Europe/Paris',
    '    location: { lat: 49.0034, lon: 2.5710 }',
    'devices:',
    ...devices.map((d) => `  - { id: ${d.id}, kind: temperature, site: bench, secret: "${d.secret}" }`),
  ]
  return `${lines.join('\n')}\n`
}

/**
 * The real service with only the broker role, against a redis-server of its own (append-only, as in
 * production), seeded from a generated site file. Its start includes one scrypt hash per device.
 */
export async function startVigie({
  children,
  devices,
  cpuProfileDir,
  replicaAck,
  cluster = false,
}: {
  children: Children
  devices: DeviceCredential[]
  cpuProfileDir?: string
  /** Issue 17: Redis gets one replica, and ingest waits for this many (VIGIE_REDIS_REPLICAS_ACK) before a PUBACK. */
  replicaAck?: number
  /** MQTT_CLUSTER=on: sessions and the message bus in Redis, as each node of several would run (issue 17). */
  cluster?: boolean
}): Promise<Target> {
  const { dir, sitePath, prefix, redisServer } = await prepareBenchWorld({
    label: 'vigie-bench-',
    site: siteFile(devices),
  })
  const replica =
    replicaAck === undefined
      ? undefined
      : await startRedisServer({
          port: await findFreePort(),
          dir: join(dir, 'replica'),
          log: createLogger({ level: 'silent' }),
          appendOnly: true,
          extraArgs: ['--replicaof', '127.0.0.1', String(redisServer.port)],
        })
  const port = await findFreePort()
  const started = performance.now()
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []
  const child = children.start({
    args: [...profile, '--import', 'tsx', 'service/main.ts', 'start'],
    env: {
      VIGIE_ROLES: 'broker',
      VIGIE_CONFIG: sitePath,
      REDIS_URL: redisServer.url,
      REDIS_PREFIX: prefix,
      MQTT_PORT: String(port),
      BIND_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...(replicaAck === undefined ? {} : { VIGIE_REDIS_REPLICAS_ACK: String(replicaAck) }),
      MQTT_CLUSTER: cluster ? 'on' : 'off',
    },
  })
  const stop = async () => {
    await child.stop()
    await replica?.stop()
    await redisServer.stop()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    // Seeding hashes every secret with scrypt (about 14 ms of a core each here) before the broker listens.
    await child.waitForPort(port, 60_000 + devices.length * 60)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    name: cluster
      ? 'vigie-cluster'
      : replicaAck === undefined
        ? 'vigie'
        : `vigie, one replica, ack ${replicaAck}`,
    port,
    pid: child.pid,
    helpers: [
      { name: 'redis-server', pid: redisServer.pid },
      ...(replica ? [{ name: 'redis replica', pid: replica.pid }] : []),
    ],
    startMs: performance.now() - started,
    storedReadings: async () => {
      const redis = await openClient(redisServer.url, 5000)
      try {
        let total = 0
        let cursor = '0'
        do {
          const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}log:*`, 'COUNT', 1000)
          cursor = nextCursor
          for (const key of keys) total += await redis.xlen(key)
        } while (cursor !== '0')
        return total
      } finally {
        await redis.quit()
      }
    },
    stop,
  }
}

/** aedes with its default handlers on a plain TCP server: the same relay without vigie's work. */
export async function startPlainAedes({ children }: { children: Children }): Promise<Target> {
  const port = await findFreePort()
  const started = performance.now()
  const child = children.start({ args: ['--import', 'tsx', 'bench/plain-aedes.ts', String(port)], env: {} })
  try {
    await child.waitForPort(port, 30_000)
  } catch (error) {
    await child.stop()
    throw error
  }
  return {
    name: 'plain aedes',
    port,
    pid: child.pid,
    helpers: [],
    startMs: performance.now() - started,
    stop: async () => {
      await child.stop()
    },
  }
}
