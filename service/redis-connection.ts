import { join } from 'node:path'
import { Redis, type RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import type { Settings } from '../config/index.ts'
import { maskUrlCredentials, VigieError } from '../domain/index.ts'
import { ownRedisPassword, ownRedisUrl, type RedisServer, startRedisServer } from './redis-server.ts'
import { FailoverSafeConnector } from './sentinel-connector.ts'

export type RedisConnection = {
  redis: Redis
  /** Where Redis is, for logs: the URL without its password, or the sentinels and the master's name. */
  where: string
  /** What a child process adds to its environment to reach this same Redis (the URL of one found or started here). */
  childEnv: Record<string, string>
  /** Set when vigie started its own redis-server; stopped with the service. */
  server?: RedisServer
}

type RedisSettings = Pick<
  Settings,
  | 'redisUrl'
  | 'redisSentinels'
  | 'redisSentinelName'
  | 'redisSentinelPassword'
  | 'redisPassword'
  | 'localRedisPort'
  | 'dataDir'
>

/** A Redis to reach: a URL, or a master found through Sentinel. */
export type RedisTarget =
  | { url: string; password?: string | undefined }
  | {
      sentinels: { host: string; port: number }[]
      name: string
      password?: string | undefined
      sentinelPassword?: string | undefined
    }

/**
 * DESIGN.md § Real components: REDIS_SENTINELS (issue 17) or REDIS_URL when set; otherwise a Redis already
 * on the local port; otherwise a redis-server of our own with AOF on, under the data directory, that wants a
 * password (issue 15: other users of the machine reach its port, and its AOF holds the link-signing secret).
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
  if (settings.redisSentinels && settings.redisSentinelName) {
    const target: RedisTarget = {
      sentinels: settings.redisSentinels,
      name: settings.redisSentinelName,
      password: settings.redisPassword,
      sentinelPassword: settings.redisSentinelPassword,
    }
    const redis = watch(await openClient(target, 10_000, named), log)
    log.info({ redis: describeTarget(target) }, 'redis connected through sentinel')
    return { redis, where: describeTarget(target), childEnv: {} }
  }
  if (settings.redisUrl) {
    const target = { url: settings.redisUrl, password: settings.redisPassword }
    const redis = watch(await openClient(target, 10_000, named), log)
    log.info({ url: maskUrlCredentials(settings.redisUrl) }, 'redis connected')
    return { redis, where: describeTarget(target), childEnv: {} }
  }
  const port = settings.localRedisPort
  const localUrl = `redis://127.0.0.1:${port}`
  const existing = await openClient(localUrl, 1000, named).catch(() => undefined)
  if (existing) {
    log.info({ url: localUrl }, 'redis connected (local server already running)')
    return { redis: watch(existing, log), where: localUrl, childEnv: { REDIS_URL: localUrl } }
  }
  const dir = join(settings.dataDir, 'redis')
  const password = ownRedisPassword(dir)
  const ownUrl = ownRedisUrl(port, password)
  const own = { where: localUrl, childEnv: { REDIS_URL: ownUrl } }
  // Our own server outlives a vigie killed with SIGKILL; the next start takes it up again.
  const left = await openClient(ownUrl, 1000, named).catch(() => undefined)
  if (left) {
    log.info({ port }, 'redis connected (our own server, still running)')
    return { redis: watch(left, log), ...own }
  }
  const server = await startRedisServer({ port, dir, log, password })
  try {
    const redis = watch(await openClient(server.url, 5000, named), log)
    return { redis, ...own, server }
  } catch (error) {
    await server.stop()
    throw error
  }
}

/** The target without its passwords, for logs and errors. */
export function describeTarget(target: RedisTarget | string): string {
  if (typeof target === 'string') return maskUrlCredentials(target)
  if ('url' in target) return maskUrlCredentials(target.url)
  const hosts = target.sentinels.map(({ host, port }) =>
    host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
  )
  return `sentinel ${hosts.join(',')} master ${target.name}`
}

/**
 * A client that is connected and answered PING, or an error naming the target. Through Sentinel it asks for
 * the master again after any lost connection, and at once when a sentinel announces a new one; a master
 * demoted under it (READONLY) makes it reconnect and send the command again.
 */
export async function openClient(
  target: RedisTarget | string,
  timeoutMs: number,
  {
    name,
    sentinelTimeoutMs = 2000,
  }: {
    name?: string
    /** How long a Sentinel may take to say where the master is before the next one is asked. */
    sentinelTimeoutMs?: number
  } = {},
): Promise<Redis> {
  const common: RedisOptions = {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 2,
    // CLIENT LIST then says which process, prefix and roles a connection serves; duplicates inherit it.
    ...(name === undefined ? {} : { connectionName: name.replace(/\s/g, '_') }),
  }
  const redis =
    typeof target === 'string'
      ? new Redis(target, common)
      : 'url' in target
        ? new Redis(target.url, { ...common, ...(target.password ? { password: target.password } : {}) })
        : new Redis({
            ...common,
            sentinels: target.sentinels,
            name: target.name,
            ...(target.password ? { password: target.password } : {}),
            ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
            // A failover takes Sentinel some seconds: a command waits it out rather than failing at once.
            maxRetriesPerRequest: 60,
            retryStrategy: (times) => Math.min(times * 100, 500),
            sentinelRetryStrategy: (times) => Math.min(times * 100, 1000),
            failoverDetector: true,
            Connector: FailoverSafeConnector,
            // A hung Sentinel would otherwise hold every reconnection: the next one is asked instead.
            sentinelCommandTimeout: sentinelTimeoutMs,
            reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
          })
  // The last error seen while opening says why better than ioredis' final "Connection is closed".
  let lastError: unknown
  let refused: (error: Error) => void = () => {}
  const note = (error: Error) => {
    lastError = error
    // A wrong or missing password does not mend with retries: say so at once.
    if (/WRONGPASS|NOAUTH/.test(error.message)) refused(error)
  }
  redis.on('error', note) // connection errors surface here and through commands; ioredis reconnects on its own
  redis.on('sentinelError', note)
  let timer: NodeJS.Timeout | undefined
  try {
    // A deadline of our own: through Sentinel, ioredis asks the sentinels again and again, for ever, when none
    // will answer (a wrong REDIS_SENTINEL_PASSWORD), and connectTimeout only bounds a socket to the master.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
      refused = reject
    })
    await Promise.race([redis.connect().then(() => redis.ping()), deadline])
    return redis
  } catch (cause) {
    redis.disconnect()
    throw new VigieError({
      code: 'REDIS_UNAVAILABLE',
      message: `Redis at ${describeTarget(target)} is not reachable`,
      cause: lastError ?? cause,
    })
  } finally {
    clearTimeout(timer)
    redis.off('sentinelError', note)
    redis.off('error', note)
    redis.on('error', () => {})
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
