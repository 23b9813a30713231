import { readFileSync } from 'node:fs'
import { findFreePort } from '../../service/index.ts'
import { openTestRedis } from './redis.ts'
import { type ServiceProcess, spawnService } from './service-process.ts'
import { writeTempFile } from './temp-files.ts'

export type VigieProcess = {
  process: ServiceProcess
  pid: number
  httpUrl: string
  mqttPort: number
  /** The process's resident memory now, from /proc (Linux). */
  rssBytes: () => number
  /** A figure of /metrics by its name (its unlabelled sample). */
  metric: (name: string) => Promise<number>
  stop: () => Promise<number | string>
}

/**
 * vigie in a process of its own (`npm start` as a user runs it), every role, on the test Redis with a fresh
 * prefix and free ports: what a hostile test attacks, so that a crash or a leak is the service's, not the test's.
 */
export async function startVigieProcess({
  site,
  env = {},
}: {
  site: string
  env?: Record<string, string>
}): Promise<VigieProcess> {
  const { url, prefix, redis } = await openTestRedis()
  await redis.quit()
  const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()]
  const service = spawnService({
    args: ['--import', 'tsx', 'service/main.ts', 'start'],
    env: {
      VIGIE_CONFIG: writeTempFile('site.yaml', site),
      REDIS_URL: url,
      REDIS_PREFIX: prefix,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      BIND_HOST: '127.0.0.1',
      // The workers stay in this process: its memory is the whole service's.
      VIGIE_WORKERS_PROCESS: 'no',
      LOG_LEVEL: 'info',
      ...env,
    },
  })
  await service.waitForLine(/"msg":"vigie started"/, 60_000)
  const pid = service.child.pid ?? 0
  const httpUrl = `http://127.0.0.1:${httpPort}`
  return {
    process: service,
    pid,
    httpUrl,
    mqttPort,
    rssBytes: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024
    },
    metric: async (name) => {
      const text = await (await fetch(`${httpUrl}/metrics`)).text()
      const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]
      if (value === undefined) throw new Error(`no ${name} in /metrics`)
      return Number(value)
    },
    stop: () => service.stop('SIGTERM'),
  }
}
