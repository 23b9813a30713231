import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../domain/index.ts'
import { createIngest, type Ingest } from '../../ingest/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { spawnService } from '../support/service-process.ts'

const main = ['--import', 'tsx', 'service/main.ts']

let redis: Redis
let ingest: Ingest
let env: Record<string, string>

beforeEach(async () => {
  const fresh = await openTestRedis()
  redis = fresh.redis
  env = { REDIS_URL: fresh.url, REDIS_PREFIX: fresh.prefix }
  ingest = createIngest({
    clock: systemClock,
    redis,
    settings: {
      redisPrefix: fresh.prefix,
      logShards: 4,
      readingsRetention: 1000,
      deviceReadingsRetention: 100,
      deadLetterRetention: 100,
    },
    log: createLogger({ level: 'silent' }),
  })
})

afterEach(async () => {
  await redis.quit()
})

/** Runs `vigie devices …` to its end; its exit code and everything it wrote. */
async function devices(...args: string[]): Promise<{ code: number | string; output: string }> {
  const cli = spawnService({ args: [...main, 'devices', ...args], env })
  const code = await cli.exited
  return { code, output: cli.output() }
}

const addDoor = [
  'add',
  'door-cli-1',
  '--kind',
  'door',
  '--site',
  'cdg-t2',
  '--zone',
  't2-gates',
  '--name',
  'Gate 1',
]

describe('npm run vigie -- devices', () => {
  it('adds a device and prints its secret once, a secret that authenticates', async () => {
    const added = await devices(...addDoor)
    expect(added.code).toBe(0)
    const match = /^device door-cli-1 added; secret \(shown once\): (\S+)\n$/.exec(added.output)
    expect(match, added.output).not.toBeNull()
    const secret = match?.[1] ?? ''
    expect(await ingest.registry.authenticate('door-cli-1', secret)).toMatchObject({
      id: 'door-cli-1',
      kind: 'door',
      site: 'cdg-t2',
      zone: 't2-gates',
      name: 'Gate 1',
    })

    const listed = await devices('list')
    expect(listed).toEqual({
      code: 0,
      output: 'ID          KIND  SITE    ZONE      NAME\ndoor-cli-1  door  cdg-t2  t2-gates  Gate 1\n',
    })
  })

  it('refuses an id that exists with exit code 1, and keeps the first secret', async () => {
    const first = /secret \(shown once\): (\S+)/.exec((await devices(...addDoor)).output)?.[1] ?? ''
    const again = await devices('add', 'door-cli-1', '--kind', 'temperature', '--site', 'cdg-t2')
    expect(again).toEqual({
      code: 1,
      output: 'vigie: device door-cli-1 already exists; its secret is unchanged\n',
    })
    expect(await ingest.registry.authenticate('door-cli-1', first)).toMatchObject({ kind: 'door' })
  })

  it('answers bad flags with the reason and the usage, exit code 2, and provisions nothing', async () => {
    const bad = await devices('add', 'door-cli-2', '--kind', 'toaster', '--site', 'cdg-t2')
    expect(bad.code).toBe(2)
    expect(bad.output).toMatch(
      /^vigie: --kind: expected one of temperature, door, aed, heartbeat-only; got "toaster"\n\nUsage: npm run vigie -- devices add <id>/,
    )
    const unknownSite = await devices('add', 'door-cli-2', '--kind', 'door', '--site', 'cdg-t9')
    expect(unknownSite.code).toBe(2)
    expect(unknownSite.output).toMatch(
      /^vigie: site "cdg-t9" is not in .*demo-site\.yaml; known sites: cdg-t2\n$/,
    )
    expect(await ingest.registry.list()).toEqual([])
  })
})
