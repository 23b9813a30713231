import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { findFreePort } from '../../service/index.ts'
import { oneDoorSite } from '../support/one-door-site.ts'
import { openTestRedis } from '../support/redis.ts'
import { spawnService } from '../support/service-process.ts'
import { writeTempFile } from '../support/temp-files.ts'
import { waitFor } from '../support/wait-for.ts'

const adminKey = 'start-readiness-admin-key-0123'
type ReadyBody = { status?: string; error?: { message: string }; checks: Record<string, string> }

async function readyz(httpPort: number): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`)
  return { status: res.status, body: (await res.json()) as ReadyBody }
}

const lines = (text: string, msg: string) =>
  text.split('\n').filter((line) => line.includes(`"msg":"${msg}"`))

/** Every role in one node, on the test Redis, the one-door site. */
async function startNode({ prefix, url, sitePath }: { prefix: string; url: string; sitePath: string }) {
  const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()]
  const service = spawnService({
    args: ['--import', 'tsx', 'service/main.ts', 'start'],
    env: {
      VIGIE_CONFIG: sitePath,
      REDIS_URL: url,
      REDIS_PREFIX: prefix,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      BIND_HOST: '127.0.0.1',
      VIGIE_ADMIN_KEY: adminKey,
      VIGIE_WORKERS_PROCESS: 'yes',
      LOG_LEVEL: 'info',
    },
  })
  return { service, httpPort, mqttPort }
}

describe('a node is ready only when every role it runs works (issue 17)', () => {
  it('answers 503 naming workers until its rule workers process works, then 200; a door forced at once gets its ticket', async () => {
    const { url, prefix, redis } = await openTestRedis()
    const { service, httpPort, mqttPort } = await startNode({
      prefix,
      url,
      sitePath: writeTempFile('site.yaml', oneDoorSite),
    })
    try {
      const spawned = await service.waitForLine(/"msg":"rule workers started in a child process"/, 60_000)
      const childPid = Number(JSON.parse(spawned).pid)
      // Held before it can be ready (it has to load the whole service first): the parent must not say ready.
      process.kill(childPid, 'SIGSTOP')
      const waiting = await waitFor(
        async () => {
          const answer = await readyz(httpPort)
          return answer.status === 503 ? answer : undefined
        },
        { what: '/readyz answering 503', timeoutMs: 60_000 },
      )
      expect(waiting.body).toEqual({
        error: { code: 'NOT_READY', message: 'Not ready: workers down' },
        checks: { redis: 'up', workers: 'down', broker: 'up', notifier: 'up', api: 'up' },
      })

      process.kill(childPid, 'SIGCONT')
      const ready = await waitFor(
        async () => {
          const answer = await readyz(httpPort)
          return answer.status === 200 ? answer : undefined
        },
        { what: '/readyz answering 200', timeoutMs: 60_000 },
      )
      expect(ready.body).toEqual({
        status: 'ready',
        checks: { redis: 'up', workers: 'up', broker: 'up', notifier: 'up', api: 'up' },
      })

      const door = await mqtt.connectAsync({
        host: '127.0.0.1',
        port: mqttPort,
        clientId: 'door-1',
        username: 'door-1',
        password: 'secret-door-1',
        reconnectPeriod: 0,
      })
      await door.publishAsync('devices/door-1/telemetry', JSON.stringify({ type: 'door', open: true }), {
        qos: 1,
      })
      await door.endAsync()
      // Ready means evaluating: the reading is not left for the workers to come to minutes later.
      const tickets = await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${httpPort}/api/tickets?device=door-1`, {
            headers: { authorization: `Bearer ${adminKey}` },
          })
          const { items } = (await res.json()) as { items: { rule: string }[] }
          return items.length > 0 ? items : undefined
        },
        { what: 'the forced door ticket', timeoutMs: 15_000 },
      )
      expect(tickets.map((t) => t.rule)).toEqual(['door-forced'])
      expect(await service.stop('SIGTERM')).toBe(0)
    } finally {
      // The group's SIGKILL ends a held child as well.
      await service.stop('SIGKILL', { group: true })
      await redis.quit()
    }
  })

  // Two starts of a node with its workers process: 120 s on a busy machine.
  it('provisions the site file devices once: its workers process and a second start find them there', {
    timeout: 120_000,
  }, async () => {
    const { url, prefix, redis } = await openTestRedis()
    const sitePath = writeTempFile('site.yaml', oneDoorSite)
    const first = await startNode({ prefix, url, sitePath })
    try {
      await waitFor(async () => (await readyz(first.httpPort)).status === 200, {
        what: 'the first start ready',
        timeoutMs: 60_000,
      })
      // One of the two processes seeds (both start at once on a REDIS_URL); the other finds the devices there.
      const found = (text: string) =>
        lines(text, 'devices from the site file already provisioned').length +
        lines(text, 'devices from the site file provisioned by another process').length
      expect(lines(first.service.output(), 'devices from the site file provisioned')).toHaveLength(1)
      expect(found(first.service.output())).toBe(1)
      expect(await first.service.stop('SIGTERM')).toBe(0)

      const second = await startNode({ prefix, url, sitePath })
      try {
        await waitFor(async () => (await readyz(second.httpPort)).status === 200, {
          what: 'the second start ready',
          timeoutMs: 60_000,
        })
        expect(lines(second.service.output(), 'devices from the site file provisioned')).toEqual([])
        expect(found(second.service.output())).toBe(2)
        expect(await second.service.stop('SIGTERM')).toBe(0)
      } finally {
        await second.service.stop('SIGKILL', { group: true })
      }
    } finally {
      await first.service.stop('SIGKILL', { group: true })
      await redis.quit()
    }
  })
})
