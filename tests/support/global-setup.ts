import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { createLogger, findFreePort, startRedisServer } from '../../service/index.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
  }
}

/** One real redis-server for the run, on a free port in a temp directory; never a user's Redis on 6379. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-test-redis-'))
  const server = await startRedisServer({
    port: await findFreePort(),
    dir,
    appendOnly: false,
    log: createLogger({ level: 'silent' }),
  })
  project.provide('redisUrl', server.url)
  return async () => {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
