import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  connectRedis,
  createLogger,
  type RedisSentinelSet,
  startRedisSentinelSet,
} from '../../service/index.ts'

const silent = createLogger({ level: 'silent' })
const password = 'server-password-0123456789'
const sentinelPassword = 'sentinel-password-0123456789'

describe('Redis and Sentinels that want passwords (issue 17)', () => {
  let dir: string
  let set: RedisSentinelSet
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigie-sentinel-pw-'))
    set = await startRedisSentinelSet({ dir, log: silent, appendOnly: false, password, sentinelPassword })
  }, 60_000)
  afterAll(async () => {
    await set?.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const settings = (passwords: { redisPassword?: string; redisSentinelPassword?: string }) => ({
    redisSentinels: set.sentinels
      .split(',')
      .map((part) => ({ host: '127.0.0.1', port: Number(part.split(':')[1]) })),
    redisSentinelName: set.name,
    localRedisPort: 0,
    dataDir: dir,
    ...passwords,
  })

  it('connects with both passwords, and follows a failover the password-protected Sentinels decide', async () => {
    const { redis } = await connectRedis({
      settings: settings({ redisPassword: password, redisSentinelPassword: sentinelPassword }),
      log: silent,
    })
    try {
      await redis.set('pw-test', 'before')
      const oldMaster = await set.masterPort()
      await set.servers.find((server) => server.port === oldMaster)?.kill()
      const newMaster = await set.waitForNewMaster(oldMaster, 30_000)
      // ioredis waits out the failover: the write lands on the promoted replica, which kept the first one.
      await redis.set('pw-test-after', 'after')
      expect(await redis.get('pw-test')).toBe('before')
      expect(newMaster).not.toBe(oldMaster)
    } finally {
      redis.disconnect()
    }
  }, 60_000)

  it.each([
    [
      'a wrong Sentinel password',
      { redisPassword: password, redisSentinelPassword: 'wrong-password-0123456789' },
    ],
    ['no Sentinel password', { redisPassword: password }],
    [
      'a wrong server password',
      { redisPassword: 'wrong-password-0123456789', redisSentinelPassword: sentinelPassword },
    ],
  ])(
    'refuses to start with %s, naming the target and not the password',
    async (_, passwords) => {
      const started = performance.now()
      const error = await connectRedis({ settings: settings(passwords), log: silent }).then(
        () => new Error('connected'),
        (error: Error) => error,
      )
      console.log(
        `${_}: ${error.message} (${error.cause instanceof Error ? error.cause.message : ''}) after ${Math.round(performance.now() - started)} ms`,
      )
      expect(error).toMatchObject({ code: 'REDIS_UNAVAILABLE' })
      expect(error.message).toContain(`master ${set.name}`)
      expect(String(error.message) + String(error.cause)).not.toContain('password-0123456789')
    },
    60_000,
  )
})
