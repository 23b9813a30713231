import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { findFreePort, type RedisSentinelSet, startRedisSentinelSet } from '../service/index.ts'
import { type Haproxy, startHaproxy } from './haproxy.ts'
import { startVigieNode, type VigieNode } from './vigie-node.ts'

export type Cluster = {
  redis: RedisSentinelSet
  nodes: VigieNode[]
  haproxy: Haproxy
  /** What the nodes were given: the Redis password and admin key among them (printed once, to the operator). */
  env: Record<string, string>
  /** Stops HAProxy, then the nodes (each drains), then Redis: the reverse of the start. */
  stop: () => Promise<void>
}

/**
 * Issue 17's deployment on one machine: Redis with replicas and three Sentinels, vigie nodes with every
 * role on it, and HAProxy in front of them on the MQTT and HTTP ports. Everything listens on loopback.
 */
export async function startCluster({
  dir,
  log,
  baseEnv,
  nodes = 2,
  mqttPort,
  httpPort,
  adminKey,
}: {
  dir: string
  log: Logger
  /** The operator's environment: the site file, Twilio, SMTP… (any REDIS_URL is replaced). */
  baseEnv: NodeJS.ProcessEnv
  nodes?: number
  mqttPort: number
  httpPort: number
  adminKey: string
}): Promise<Cluster> {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const stops: (() => Promise<void>)[] = []
  const stop = async () => {
    for (const step of stops.splice(0).reverse())
      await step().catch((err: unknown) => log.warn({ err }, 'stop failed'))
  }
  try {
    const password = randomBytes(24).toString('hex')
    const redis = await startRedisSentinelSet({ dir: join(dir, 'redis'), log, password })
    stops.push(redis.stop)
    const env: Record<string, string> = {
      REDIS_SENTINELS: redis.sentinels,
      REDIS_SENTINEL_NAME: redis.name,
      REDIS_PASSWORD: password,
      VIGIE_REDIS_REPLICAS_ACK: '1',
      VIGIE_ADMIN_KEY: adminKey,
      // Only HAProxy faces the network; it says who the client is (X-Forwarded-For, PROXY protocol).
      BIND_HOST: '127.0.0.1',
      HTTP_TRUST_PROXY: 'loopback',
      MQTT_PROXY_PROTOCOL: 'on',
      // Sessions, queues and the message bus in Redis: a device's session is any node's.
      MQTT_CLUSTER: 'on',
      PUBLIC_URL: `http://localhost:${httpPort}`,
    }
    const { REDIS_URL: _ignored, ...operatorEnv } = baseEnv
    const started: VigieNode[] = []
    for (let i = 1; i <= nodes; i++) {
      const name = `node-${i}`
      mkdirSync(join(dir, name), { recursive: true, mode: 0o700 })
      const node = await startVigieNode({
        name,
        env: { ...operatorEnv, ...env, VIGIE_DATA_DIR: join(dir, name) },
        httpPort: await findFreePort(),
        mqttPort: await findFreePort(),
        logPath: join(dir, `${name}.log`),
      })
      stops.push(() => node.stop())
      started.push(node)
    }
    const haproxy = await startHaproxy({
      dir,
      checkIntervalMs: 1000,
      backends: started.map((node) => ({
        name: node.name,
        mqttPort: node.mqttPort,
        httpPort: node.httpPort,
      })),
      mqttPort,
      httpPort,
    })
    stops.push(haproxy.stop)
    return { redis, nodes: started, haproxy, env, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
