import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { VigieError } from '../domain/index.ts'
import { findFreePort } from './free-port.ts'
import { type RedisServer, startRedisServer } from './redis-server.ts'

export type RedisSentinelSet = {
  /** The monitored master's name (REDIS_SENTINEL_NAME). */
  name: string
  /** REDIS_SENTINELS: host:port of each Sentinel, comma separated. */
  sentinels: string
  /** Every redis-server, master first as started; a failover changes which one is master, not this list. */
  servers: RedisServer[]
  sentinelServers: RedisServer[]
  /** The port of the server Sentinel names master now. */
  masterPort: () => Promise<number>
  /** Resolves once Sentinel names a master other than `port`, with its port; rejects past the deadline. */
  waitForNewMaster: (port: number, timeoutMs: number) => Promise<number>
  stop: () => Promise<void>
}

/**
 * Issue 17's Redis on one machine: a master, its replicas and Sentinels, each a redis-server on loopback with
 * its files under dir. Sentinels decide a failover with a quorum of two and call a master down after
 * downAfterMs without an answer.
 */
export async function startRedisSentinelSet({
  dir,
  log,
  replicas = 2,
  sentinels = 3,
  name = 'vigie',
  password,
  sentinelPassword,
  downAfterMs = 1000,
  appendOnly = true,
}: {
  dir: string
  log: Logger
  replicas?: number
  sentinels?: number
  name?: string
  /** Every server and replica wants it (REDIS_PASSWORD); the Sentinels use it to reach them. */
  password?: string
  /** Every Sentinel wants it (REDIS_SENTINEL_PASSWORD), from clients and from each other. */
  sentinelPassword?: string
  downAfterMs?: number
  appendOnly?: boolean
}): Promise<RedisSentinelSet> {
  const started: RedisServer[] = []
  const stopAll = async () => {
    await Promise.all(started.splice(0).map((server) => server.stop()))
  }
  try {
    const master = await startRedisServer({
      port: await findFreePort(),
      dir: join(dir, 'redis-0'),
      log,
      appendOnly,
      ...(password === undefined ? {} : { password }),
    })
    started.push(master)
    const servers = [master]
    for (let i = 1; i <= replicas; i++) {
      const replica = await startRedisServer({
        port: await findFreePort(),
        dir: join(dir, `redis-${i}`),
        log,
        appendOnly,
        ...(password === undefined ? {} : { password }),
        extraArgs: ['--replicaof', '127.0.0.1', String(master.port)],
      })
      started.push(replica)
      servers.push(replica)
    }
    await waitForReplicas(master, replicas, 10_000)
    const sentinelServers: RedisServer[] = []
    for (let i = 0; i < sentinels; i++) {
      const config = [
        `sentinel monitor ${name} 127.0.0.1 ${master.port} ${Math.min(2, sentinels)}`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} ${Math.max(10_000, downAfterMs * 10)}`,
        `sentinel parallel-syncs ${name} 1`,
        ...(password === undefined ? [] : [`sentinel auth-pass ${name} ${password}`]),
        ...(sentinelPassword === undefined
          ? []
          : [`requirepass ${sentinelPassword}`, `sentinel sentinel-pass ${sentinelPassword}`]),
        '',
      ].join('\n')
      const sentinel = await startRedisServer({
        port: await findFreePort(),
        dir: join(dir, `sentinel-${i}`),
        log,
        sentinelConfig: config,
      })
      started.push(sentinel)
      sentinelServers.push(sentinel)
    }
    const ask = async (): Promise<number> => {
      for (const sentinel of sentinelServers) {
        // A bounded wait: a hung Sentinel (a test stops one) must not hold the question.
        const client = new Redis(sentinel.port, '127.0.0.1', {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          connectTimeout: 1000,
          commandTimeout: 1000,
          ...(sentinelPassword === undefined ? {} : { password: sentinelPassword }),
        })
        client.on('error', () => {})
        try {
          await client.connect()
          const reply = (await client.call('SENTINEL', 'get-master-addr-by-name', name)) as string[] | null
          if (reply?.[1]) return Number(reply[1])
        } catch {
          // A Sentinel killed or starting: the next one answers.
        } finally {
          client.disconnect()
        }
      }
      throw new VigieError({ code: 'REDIS_UNAVAILABLE', message: `no Sentinel names a master for ${name}` })
    }
    return {
      name,
      sentinels: sentinelServers.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(','),
      servers,
      sentinelServers,
      masterPort: ask,
      waitForNewMaster: async (port, timeoutMs) => {
        const deadline = performance.now() + timeoutMs
        for (;;) {
          const now = await ask().catch(() => port)
          if (now !== port) return now
          if (performance.now() > deadline)
            throw new VigieError({
              code: 'REDIS_UNAVAILABLE',
              message: `Sentinel still names ${port} master after ${timeoutMs} ms`,
            })
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      },
      stop: stopAll,
    }
  } catch (error) {
    await stopAll()
    throw error
  }
}

/** Polls the master's INFO until this many replicas are online, so the Sentinels find them all at once. */
async function waitForReplicas(master: RedisServer, count: number, timeoutMs: number): Promise<void> {
  const client = new Redis(master.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  const deadline = performance.now() + timeoutMs
  try {
    await client.connect()
    for (;;) {
      const info = await client.info('replication')
      const online = info.match(/state=online/g)?.length ?? 0
      if (online >= count) return
      if (performance.now() > deadline)
        throw new VigieError({
          code: 'REDIS_UNAVAILABLE',
          message: `${online} of ${count} replicas in sync after ${timeoutMs} ms`,
        })
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  } finally {
    client.disconnect()
  }
}
