import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { demoSitePath } from '../../config/index.ts'
import { findFreePort, openClient } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { spawnService } from '../support/service-process.ts'
import { makeTempDir, writeTempFile } from '../support/temp-files.ts'
import { waitFor } from '../support/wait-for.ts'

const main = ['--import', 'tsx', 'service/main.ts']

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url)
  return { status: res.status, body: await res.json() }
}

describe('npm start', () => {
  it('serves /healthz and /readyz on the given Redis, and stops cleanly on SIGTERM', async () => {
    const { url, prefix, redis } = await openTestRedis()
    await redis.quit()
    const port = await findFreePort()
    const service = spawnService({
      args: [...main, 'start'],
      env: {
        REDIS_URL: url,
        REDIS_PREFIX: prefix,
        HTTP_PORT: String(port),
        MQTT_PORT: '0',
        BIND_HOST: '127.0.0.1',
      },
    })
    // Its rule workers process starts beside it and says "vigie started" too: the node's line names its API.
    await service.waitForLine(/"httpUrl":.*"msg":"vigie started"/, 40_000)
    expect(await get(`http://127.0.0.1:${port}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } })
    // Ready once every role works, the rule workers (in a process of their own on two cores) too.
    const ready = await waitFor(
      async () => {
        const answer = await get(`http://127.0.0.1:${port}/readyz`)
        return answer.status === 200 ? answer : undefined
      },
      { what: '/readyz answering 200', timeoutMs: 30_000 },
    )
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { redis: 'up', broker: 'up', workers: 'up', notifier: 'up', api: 'up' },
    })

    // Exit code 0 means every part closed before the shutdown deadline.
    expect(await service.stop('SIGTERM')).toBe(0)
    expect(service.output()).toContain('"reason":"SIGTERM","msg":"shutting down"')
  })

  it('stops its rule workers process gracefully on a Ctrl-C to the whole group: every shard lease is handed back', async () => {
    const { url, prefix, redis } = await openTestRedis()
    const service = spawnService({
      args: [...main, 'start'],
      env: {
        REDIS_URL: url,
        REDIS_PREFIX: prefix,
        HTTP_PORT: '0',
        MQTT_PORT: '0',
        BIND_HOST: '127.0.0.1',
        VIGIE_LOG_SHARDS: '4',
        VIGIE_WORKERS_PROCESS: 'yes',
      },
    })
    try {
      const leases = () => redis.keys(`${prefix}rules-lease:*`)
      await service.waitForLine(/"msg":"rule workers started in a child process"/)
      // The child imports and starts the whole service again: slow on a busy machine.
      await waitFor(async () => (await leases()).length === 4, {
        what: 'the four shards leased',
        timeoutMs: 30_000,
      })
      // Both processes get the SIGINT; the parent's stop reaches the child too, which must not take it as a second one.
      expect(await service.stop('SIGINT', { group: true })).toBe(0)
      // A child cut short would leave its leases to expire (15 s): a graceful one deletes them.
      expect(await leases()).toEqual([])
      expect(service.output()).not.toContain('shutdown deadline passed')
      expect(service.output()).not.toContain('rule workers process still stopping')
    } finally {
      await service.stop('SIGKILL', { group: true })
      await redis.quit()
    }
  })

  it('starts its own redis-server with AOF under the data directory when REDIS_URL is unset, and stops it', async () => {
    const dataDir = makeTempDir()
    const [redisPort, httpPort] = [await findFreePort(), await findFreePort()]
    const service = spawnService({
      args: [...main, 'start', '--roles', 'api'],
      env: {
        VIGIE_REDIS_PORT: String(redisPort),
        VIGIE_DATA_DIR: dataDir,
        HTTP_PORT: String(httpPort),
        BIND_HOST: '127.0.0.1',
      },
    })
    await service.waitForLine(/"msg":"vigie started"/)
    expect(service.output()).toContain('"msg":"redis-server started"')
    expect(existsSync(join(dataDir, 'redis', 'appendonlydir'))).toBe(true)
    // It wants the password kept beside its data (tests/hostile/safe-defaults.test.ts attacks it).
    const password = readFileSync(join(dataDir, 'redis', 'password'), 'utf8').trim()
    const client = await openClient(`redis://:${password}@127.0.0.1:${redisPort}`, 2000)
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes'])
    client.disconnect()

    expect(await service.stop('SIGINT')).toBe(0)
    await expect(openClient(`redis://:${password}@127.0.0.1:${redisPort}`, 1000)).rejects.toThrow(
      'is not reachable',
    )
  })

  it('takes up its own redis-server again, with the kept password, when a start finds it outlived a killed vigie', async () => {
    const dataDir = makeTempDir()
    const env = {
      VIGIE_REDIS_PORT: String(await findFreePort()),
      VIGIE_DATA_DIR: dataDir,
      HTTP_PORT: '0',
      VIGIE_ROLES: 'api',
    }
    const first = spawnService({ args: [...main, 'start'], env })
    const started = await first.waitForLine(/"msg":"redis-server started"/)
    const redisPid = Number(JSON.parse(started).pid)
    try {
      await first.waitForLine(/"msg":"vigie started"/)
      first.child.kill('SIGKILL')
      expect(await first.exited).toBe('SIGKILL')

      const second = spawnService({ args: [...main, 'start'], env })
      await second.waitForLine(/"msg":"vigie started"/)
      expect(second.output()).toContain('"msg":"redis connected (our own server, still running)"')
      expect(second.output()).not.toContain('"msg":"redis-server started"')
      expect(await second.stop('SIGTERM')).toBe(0)
    } finally {
      process.kill(redisPid, 'SIGTERM')
    }
  })

  it('stops at a typo in the site file with one message naming the file, the path and the allowed values', async () => {
    const text = readFileSync(demoSitePath, 'utf8').replace(
      /(id: door-forced[\s\S]*?severity: )critical/,
      '$1hgh',
    )
    const path = writeTempFile('typo.yaml', text)
    const service = spawnService({ args: [...main, 'start'], env: { VIGIE_CONFIG: path } })
    expect(await service.exited).toBe(2)
    expect(service.output()).toMatch(
      new RegExp(
        `^vigie: Invalid configuration \\(1 problem\\):\\n  ${path}:\\d+ rules\\[3\\]\\.severity: expected one of critical, major, minor, info; got "hgh"\\n$`,
      ),
    )
  })

  it('exits non-zero with the cause and a hint when its port is taken', async () => {
    const { url } = await openTestRedis()
    const blocker: Server = createServer()
    const port = await findFreePort()
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
    try {
      const service = spawnService({
        args: [...main, 'start'],
        env: { REDIS_URL: url, HTTP_PORT: String(port), MQTT_PORT: '0', BIND_HOST: '127.0.0.1' },
      })
      expect(await service.exited).toBe(1)
      const line =
        service
          .output()
          .split('\n')
          .find((l) => l.includes('"msg":"start failed"')) ?? ''
      expect(JSON.parse(line)).toMatchObject({
        level: 60,
        err: { code: 'EADDRINUSE' },
        hint: 'a port is taken: set HTTP_PORT / MQTT_PORT to free ones',
      })
    } finally {
      blocker.close()
    }
  })
})

describe('npm run demo', () => {
  it('runs the demo site, prints where the dashboard is and starts the story; Ctrl-C stops it all', async () => {
    const dataDir = makeTempDir()
    const [redisPort, httpPort] = [await findFreePort(), await findFreePort()]
    const service = spawnService({
      command: 'npm',
      args: ['run', '--silent', 'demo'],
      env: {
        VIGIE_REDIS_PORT: String(redisPort),
        VIGIE_DATA_DIR: dataDir,
        HTTP_PORT: String(httpPort),
        // Not 1883: another file's vigie, or another checkout's suite, may hold it.
        MQTT_PORT: String(await findFreePort()),
        BIND_HOST: '127.0.0.1',
      },
    })
    const banner = await service.waitForLine(/vigie is running/, 60_000)
    expect(banner).toContain(`API at http://127.0.0.1:${httpPort}`)
    const key = (await service.waitForLine(/admin API key for this run: /)).split(': ')[1] ?? ''
    const dashboard = await service.waitForLine(/dashboard, signed in for this run: /)
    expect(dashboard).toContain(`http://127.0.0.1:${httpPort}/#key=${key}`)
    const page = await fetch(`http://127.0.0.1:${httpPort}/`)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await page.text()).toContain('<script type="module" src="/console/dashboard.js">')
    // The story's fleet is on MQTT once its first line is out.
    await service.waitForLine(/the fleet: 24 devices on MQTT/)
    expect(await get(`http://127.0.0.1:${httpPort}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } })
    const unknown = await fetch(`http://127.0.0.1:${httpPort}/api/anything`, {
      headers: { authorization: `Bearer ${key}` },
    })
    expect(unknown.status).toBe(404)
    // As a Ctrl-C in a terminal: the whole process group gets SIGINT; npm itself then ends by that signal.
    await service.stop('SIGINT', { group: true })
    expect(service.output()).toContain('stopping (SIGINT)')
    // The Ctrl-C reached vigie, not the Redis it started: it drained before stopping that one.
    expect(service.output()).not.toContain('ECONNREFUSED')
    expect(service.output()).not.toContain('shutdown deadline passed')
    await expect(fetch(`http://127.0.0.1:${httpPort}/healthz`)).rejects.toThrow()
    const password = readFileSync(join(dataDir, 'redis', 'password'), 'utf8').trim()
    await expect(openClient(`redis://:${password}@127.0.0.1:${redisPort}`, 1000)).rejects.toThrow(
      'is not reachable',
    )
  })
})
