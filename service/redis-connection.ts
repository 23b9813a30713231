import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Settings } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import { type RedisServer, startRedisServer } from './redis-server.ts'

export type RedisConnection = {
  redis: Redis
  url: string
  /** Set when vigie started its own redis-server; stopped with the service. */
  server?: RedisServer
}

type RedisSettings = Pick<Settings, 'redisUrl' | 'localRedisPort' | 'dataDir'>

/**
 * DESIGN.md § Real components: REDIS_URL when set; otherwise a Redis already on the local port;
 * otherwise a redis-server of our own with AOF on, under the data directory.
 */
export async function connectRedis({
  settings,
  log,
}: {
  settings: RedisSettings
  log: Logger
}): Promise<RedisConnection> {
  if (settings.redisUrl) {
    const redis = watch(await openClient(settings.redisUrl, 10_000), log)
    log.info({ url: redactUrl(settings.redisUrl) }, 'redis connected')
    return { redis, url: settings.redisUrl }
  }
  const localUrl = `redis://127.0.0.1:${settings.localRedisPort}`
  const existing = await openClient(localUrl, 1000).catch(() => undefined)
  if (existing) {
    log.info({ url: localUrl }, 'redis connected (local server already running)')
    return { redis: watch(existing, log), url: localUrl }
  }
  const server = await startRedisServer({
    port: settings.localRedisPort,
    dir: join(settings.dataDir, 'redis'),
    log,
  })
  try {
    const redis = watch(await openClient(server.url, 5000), log)
    return { redis, url: server.url, server }
  } catch (error) {
    await server.stop()
    throw error
  }
}

/** A client that is connected and answered PING, or an error naming the URL. */
export async function openClient(url: string, timeoutMs: number): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 2 })
  redis.on('error', () => {
    // Connection errors surface through connect() and commands; ioredis reconnects on its own.
  })
  try {
    await redis.connect()
    await redis.ping()
    return redis
  } catch (cause) {
    redis.disconnect()
    throw new VigieError({
      code: 'REDIS_UNAVAILABLE',
      message: `Redis at ${redactUrl(url)} is not reachable`,
      cause,
    })
  }
}

/** Logs a lost connection once per outage rather than once per retry. */
function watch(redis: Redis, log: Logger): Redis {
  let down = false
  redis.on('error', (err) => {
    if (!down) log.warn({ err }, 'redis connection lost; reconnecting')
    down = true
  })
  redis.on('ready', () => {
    if (down) log.info('redis connection back')
    down = false
  })
  return redis
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//[redacted]@')
}
