import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Settings } from '../config/index.ts'
import { maskUrlCredentials, VigieError } from '../domain/index.ts'
import { ownRedisPassword, ownRedisUrl, type RedisServer, startRedisServer } from './redis-server.ts'

export type RedisConnection = {
  redis: Redis
  url: string
  /** Set when vigie started its own redis-server; stopped with the service. */
  server?: RedisServer
}

type RedisSettings = Pick<Settings, 'redisUrl' | 'localRedisPort' | 'dataDir'>

/**
 * DESIGN.md § Real components: REDIS_URL when set; otherwise a Redis already on the local port;
 * otherwise a redis-server of our own with AOF on, under the data directory, that wants a password
 * (issue 15: other users of the machine reach its port, and its AOF holds the link-signing secret).
 */
export async function connectRedis({
  settings,
  log,
  name,
}: {
  settings: RedisSettings
  log: Logger
  /** The connections' name in CLIENT LIST. */
  name?: string
}): Promise<RedisConnection> {
  const named = name === undefined ? {} : { name }
  if (settings.redisUrl) {
    const redis = watch(await openClient(settings.redisUrl, 10_000, named), log)
    log.info({ url: maskUrlCredentials(settings.redisUrl) }, 'redis connected')
    return { redis, url: settings.redisUrl }
  }
  const port = settings.localRedisPort
  const localUrl = `redis://127.0.0.1:${port}`
  const existing = await openClient(localUrl, 1000, named).catch(() => undefined)
  if (existing) {
    log.info({ url: localUrl }, 'redis connected (local server already running)')
    return { redis: watch(existing, log), url: localUrl }
  }
  const dir = join(settings.dataDir, 'redis')
  const password = ownRedisPassword(dir)
  const ownUrl = ownRedisUrl(port, password)
  // Our own server outlives a vigie killed with SIGKILL; the next start takes it up again.
  const left = await openClient(ownUrl, 1000, named).catch(() => undefined)
  if (left) {
    log.info({ port }, 'redis connected (our own server, still running)')
    return { redis: watch(left, log), url: ownUrl }
  }
  const server = await startRedisServer({ port, dir, log, password })
  try {
    const redis = watch(await openClient(server.url, 5000, named), log)
    return { redis, url: server.url, server }
  } catch (error) {
    await server.stop()
    throw error
  }
}

/** A client that is connected and answered PING, or an error naming the URL. */
export async function openClient(
  url: string,
  timeoutMs: number,
  { name }: { name?: string } = {},
): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 2,
    // CLIENT LIST then says which process, prefix and roles a connection serves; duplicates inherit it.
    ...(name === undefined ? {} : { connectionName: name.replace(/\s/g, '_') }),
  })
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
      message: `Redis at ${maskUrlCredentials(url)} is not reachable`,
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
