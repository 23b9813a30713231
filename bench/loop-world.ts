import { readFile, rm } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import type { Redis } from 'ioredis'
import type { MessageStandIns } from '../demo/index.ts'
import { findFreePort, openClient } from '../service/index.ts'
import { prepareBenchWorld } from './bench-setup.ts'
import type { Children } from './child-processes.ts'
import type { DeviceCredential } from './load-generator.ts'
import { logShards } from './rules-world.ts'

/** A reading above this opens an incident, a ticket, an offer and its notifications. */
export const probeCelsius = 70

/** N devices sharing one secret, so the site file carries one scrypt hash computed once. */
export function loopDevices(count: number, secret: string): DeviceCredential[] {
  const width = String(count).length
  return Array.from({ length: count }, (_, i) => ({
    id: `bench-${String(i + 1).padStart(width, '0')}`,
    secret,
  }))
}

/**
 * One site: temperature devices (the load generator's 18.0–25.9 °C never fires), a critical rule above
 * 60 °C that calls and texts its technician, customers told by SMS and email, eight technicians.
 */
export function loopSiteFile(devices: DeviceCredential[], secretHash: string, extra = ''): string {
  const technicians = Array.from(
    { length: 8 },
    (_, i) =>
      `  - { id: tech-${i + 1}, name: Tech ${i + 1}, phone: "+3360000${String(i + 1).padStart(4, '0')}", email: tech-${i + 1}@bench.invalid, skills: [hvac], location: { lat: ${(49 + i * 1e-3).toFixed(3)}, lon: 2.571 } }`,
  )
  return `# Written by bench/suite.ts for one run; deleted after it.
sites:
  - { id: bench, name: Benchmark site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.571 }, zones: [{ id: hall, name: Hall }] }
devices:
${devices.map((d) => `  - { id: ${d.id}, kind: temperature, site: bench, zone: hall, secretHash: "${secretHash}" }`).join('\n')}
technicians:
${technicians.join('\n')}
customers:
  - { id: tenant-sms, name: Tenant by SMS, contacts: [{ sms: "+33611110001" }], subscribes: { zones: [hall] } }
  - { id: tenant-mail, name: Tenant by mail, contacts: [{ email: tenant@bench.invalid }], subscribes: { sites: [bench] } }
rules:
  - { id: too-hot, name: Too hot, match: { kind: temperature }, condition: { field: celsius, above: 60, clearBelow: 55 }, severity: critical, skill: hvac, voice: true, notifyCustomers: true }
dispatch: { offerTimeout: 30m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
${extra}`
}

/** vigie started with every role (its rule workers in a child process), its own redis-server, the notifier sending to the stand-ins. */
export type LoopVigie = {
  mqttPort: number
  httpUrl: string
  /** Everything the process printed lately (its last 20,000 characters). */
  output: () => string
  /** Resolves with the exit code or signal when the process ends. */
  exited: Promise<number | string>
  pid: number
  redisPid: number
  /** The bench's own connection, to read what vigie wrote (never MONITOR). */
  redis: Redis
  prefix: string
  startMs: number
  /** Its temp dir (site file, Redis data), removed by stop. */
  dir: string
  stop: () => Promise<void>
}

export async function startLoopVigie({
  children,
  devices,
  secretHash,
  standIns,
  startTimeoutMs,
  cpuProfileDir,
  siteExtra,
  env = {},
}: {
  children: Children
  devices: DeviceCredential[]
  secretHash: string
  standIns: MessageStandIns
  startTimeoutMs: number
  /** Run under node --cpu-prof, the profile written there as it stops. */
  cpuProfileDir?: string | undefined
  /** More of the site file (mqttAccounts, say). */
  siteExtra?: string
  /** More settings. */
  env?: Record<string, string>
}): Promise<LoopVigie> {
  const { dir, sitePath, prefix, redisServer } = await prepareBenchWorld({
    label: 'vigie-suite-',
    site: loopSiteFile(devices, secretHash, siteExtra),
  })
  const [mqttPort, httpPort] = [await findFreePort(), await findFreePort()]
  const started = performance.now()
  const child = children.start({
    args: [
      ...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []),
      '--import',
      'tsx',
      'service/main.ts',
      'start',
    ],
    raiseOpenFiles: true,
    env: {
      VIGIE_ROLES: 'broker,workers,notifier,api',
      VIGIE_CONFIG: sitePath,
      REDIS_URL: redisServer.url,
      REDIS_PREFIX: prefix,
      MQTT_PORT: String(mqttPort),
      HTTP_PORT: String(httpPort),
      BIND_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      VIGIE_LOG_SHARDS: String(logShards),
      TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'bench-auth-token-0123456789',
      TWILIO_FROM: '+33600000000',
      TWILIO_API_URL: standIns.twilioUrl,
      SMTP_URL: standIns.smtpUrl,
      ...env,
    },
  })
  let redis: Redis | undefined
  const stop = async () => {
    await child.stop()
    await redis?.quit().catch(() => undefined)
    await redisServer.stop()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    redis = await openClient(redisServer.url, 5000)
    // The API listens last: once it answers, every role has started.
    await child.waitForPort(httpPort, startTimeoutMs)
    const leases = Array.from({ length: logShards }, (_, shard) => `${prefix}rules-lease:${shard}`)
    const deadline = Date.now() + 60_000
    while ((await redis.exists(...leases)) < logShards) {
      if (Date.now() > deadline) throw new Error(`the rule workers took no shard:\n${child.output()}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } catch (error) {
    await stop()
    throw error
  }
  return {
    mqttPort,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    output: child.output,
    exited: child.exited,
    pid: child.pid,
    redisPid: redisServer.pid,
    redis,
    prefix,
    startMs: performance.now() - started,
    dir,
    stop,
  }
}

/** The child's open-files limit as the kernel applies it (soft), from /proc/<pid>/limits. */
export async function openFilesLimit(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/limits`, 'utf8').catch(() => '')
  const match = /^Max open files\s+(\d+)/m.exec(text)
  return match ? Number(match[1]) : undefined
}
