import { randomBytes } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger, findFreePort, type RedisServer, startRedisServer } from '../service/index.ts'

/** A whole number ≥ 1 from a flag, or the usage and exit 2: a bench refuses what it cannot run. */
export function positiveIntegerFlag(usage: string) {
  return (name: string, text: string | undefined, fallback: number): number => {
    const value = text === undefined ? fallback : Number(text)
    if (!Number.isInteger(value) || value < 1) {
      console.error(`--${name}: expected a positive whole number, got "${text}"\n\n${usage}`)
      process.exit(2)
    }
    return value
  }
}

/** A temp dir with the site file written and a redis-server of its own (append-only, as in production). */
export async function prepareBenchWorld({ label, site }: { label: string; site: string }): Promise<{
  dir: string
  sitePath: string
  prefix: string
  redisServer: RedisServer
}> {
  const dir = await mkdtemp(join(tmpdir(), label))
  const redisServer = await startRedisServer({
    port: await findFreePort(),
    dir: join(dir, 'redis'),
    log: createLogger({ level: 'silent' }),
    appendOnly: true,
  })
  const sitePath = join(dir, 'site.yaml')
  await writeFile(sitePath, site)
  return { dir, sitePath, prefix: `bench-${randomBytes(4).toString('hex')}:`, redisServer }
}
