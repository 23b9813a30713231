import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { systemClock } from '../../domain/index.ts'
import { createIngest } from '../../ingest/index.ts'
import { createLogger, findFreePort, openClient, startRedisSentinelSet } from '../../service/index.ts'
import { spawnService } from '../support/service-process.ts'
import { startSteadyDevices } from '../support/steady-devices.ts'
import { waitFor } from '../support/wait-for.ts'

const adminKey = 'redis-failover-admin-key-0123'
const temperatures = ['temp-lounge-1', 'temp-lounge-2', 'temp-gate-1']
const silent = createLogger({ level: 'silent' })

describe('the Redis master lost (issue 17)', () => {
  it('has Sentinel promote a replica, both nodes serve again within 30 s, and every acknowledged reading kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigie-ha-'))
    const set = await startRedisSentinelSet({ dir, log: silent, appendOnly: false })
    const prefix = `ha:${randomUUID()}:`
    const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()]
    const [otherHttpPort, otherMqttPort] = [await findFreePort(), await findFreePort()]
    const start = (http: number, mqttAt: number, workersProcess: string) =>
      spawnService({
        args: ['--import', 'tsx', 'service/main.ts', 'start'],
        env: {
          REDIS_SENTINELS: set.sentinels,
          REDIS_SENTINEL_NAME: set.name,
          REDIS_PREFIX: prefix,
          HTTP_PORT: String(http),
          MQTT_PORT: String(mqttAt),
          BIND_HOST: '127.0.0.1',
          VIGIE_ADMIN_KEY: adminKey,
          VIGIE_REDIS_REPLICAS_ACK: '1',
          VIGIE_WORKERS_PROCESS: workersProcess,
          DEVICE_READINGS_RETENTION: '100000',
          MQTT_CLUSTER: 'on',
        },
      })
    // The first node's rule workers in a process of their own, which must follow the failover too.
    const node = start(httpPort, mqttPort, 'yes')
    const other = start(otherHttpPort, otherMqttPort, 'no')
    // The last answer of each node, shown should the wait time out.
    const lastReadyz = new Map<number, string>()
    const readyzAt = async (port: number) => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null)
      lastReadyz.set(port, res ? `${res.status} ${await res.text()}` : 'no answer')
      return res?.status
    }
    const bothReady = async () =>
      (await readyzAt(httpPort)) === 200 && (await readyzAt(otherHttpPort)) === 200
    const readyzSeen = () => [...lastReadyz].map(([port, text]) => `${port}: ${text}`).join('; ')
    const api = async <T>(path: string): Promise<T> => {
      const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
        headers: { authorization: `Bearer ${adminKey}` },
      })
      // A refusal (a 429 from polling too fast, say) says so instead of reading as an empty answer.
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`)
      return (await res.json()) as T
    }
    const forcedTickets = async (door: string) =>
      (await api<{ items: unknown[] }>(`/api/tickets?device=${door}&rule=door-forced`)).items.length
    const openDoor = async (door: string) => {
      const client = await mqtt.connectAsync({
        host: '127.0.0.1',
        port: mqttPort,
        clientId: door,
        username: door,
        password: `demo-secret-${door}`,
        reconnectPeriod: 0,
      })
      await client.publishAsync(`devices/${door}/telemetry`, JSON.stringify({ type: 'door', open: true }), {
        qos: 1,
      })
      await client.endAsync()
    }
    try {
      await waitFor(bothReady, { timeoutMs: 90_000, what: 'both nodes /readyz 200' })
      await openDoor('door-gate-1')
      await waitFor(async () => (await forcedTickets('door-gate-1')) === 1, {
        timeoutMs: 30_000,
        intervalMs: 250,
        what: 'the door forced before the failover, ticketed',
      })

      const fleet = await startSteadyDevices({
        ports: [mqttPort, otherMqttPort],
        devices: temperatures.map((id) => ({ id, secret: `demo-secret-${id}` })),
      })
      await waitFor(() => fleet.ackedCount() >= 200, { timeoutMs: 30_000, what: '200 readings acknowledged' })

      const oldMaster = await set.masterPort()
      const master = set.servers.find((server) => server.port === oldMaster)
      const killedAt = Date.now()
      await master?.kill()
      const newMaster = await set.waitForNewMaster(oldMaster, 30_000)
      const promotedMs = Date.now() - killedAt
      // Following: every device, on either node, has readings acknowledged again within 30 s.
      await waitFor(() => temperatures.every((id) => fleet.ackedSince(killedAt, id) >= 1), {
        timeoutMs: 30_000,
        what: 'an ack after the kill on each device',
      })
      const ingestBackMs = Date.now() - killedAt
      // The rule workers' process followed too: a door forced now gets its ticket.
      await openDoor('door-gate-2')
      await waitFor(async () => (await forcedTickets('door-gate-2')) === 1, {
        timeoutMs: 30_000,
        intervalMs: 250,
        what: 'the door forced after the failover, ticketed',
      })
      const workersMs = Date.now() - killedAt
      // Both nodes say so: every role's connection followed (the node with in-process workers once kept a
      // connection ended by ioredis' failover detector; tests/ha/sentinel-reconnect holds that fix).
      await waitFor(bothReady, { timeoutMs: 30_000, what: "both nodes' /readyz 200 again" }).catch(
        (error: Error) => {
          throw new Error(`${error.message}; last answers: ${readyzSeen()}`)
        },
      )
      const readyMs = Date.now() - killedAt
      const recoveredAt = Date.now()
      await waitFor(() => fleet.ackedSince(recoveredAt) >= 200, {
        timeoutMs: 30_000,
        what: '200 readings acknowledged after the failover',
      })
      await fleet.stop()

      const reader = await openClient({ sentinels: sentinelsOf(set.sentinels), name: set.name }, 5000)
      const ingest = createIngest({
        clock: systemClock,
        redis: reader,
        settings: {
          redisPrefix: prefix,
          logShards: 16,
          readingsRetention: 1_000_000,
          deviceReadingsRetention: 100_000,
          deadLetterRetention: 10,
        },
        log: silent,
      })
      let missing = 0
      const phases = { before: 0, during: 0, after: 0 }
      for (const [id, readings] of fleet.acked) {
        const stored = new Set((await ingest.readings.recent(id, 100_000)).map((r) => r.seq))
        for (const { seq, publishedAt } of readings) {
          if (!stored.has(seq)) missing++
          phases[publishedAt < killedAt ? 'before' : publishedAt < recoveredAt ? 'during' : 'after']++
        }
      }
      await reader.quit()
      console.log(
        `redis failover, two nodes: master ${oldMaster} killed, ${newMaster} promoted after ${promotedMs} ms; ` +
          `readings of every device acknowledged again after ${ingestBackMs} ms, both nodes' /readyz 200 after ${readyMs} ms, ` +
          `a forced door ticketed after ${workersMs} ms; acknowledged readings ${phases.before} before, ` +
          `${phases.during} during, ${phases.after} after the failover, ${missing} missing from the log`,
      )
      expect(missing).toBe(0)
      expect(phases.before).toBeGreaterThanOrEqual(200)
      expect(phases.after).toBeGreaterThanOrEqual(200)
      expect(Math.max(ingestBackMs, workersMs)).toBeLessThan(30_000)
      expect(readyMs).toBeLessThan(30_000)
      expect(await forcedTickets('door-gate-1')).toBe(1)
      expect(await node.stop('SIGTERM')).toBe(0)
      expect(await other.stop('SIGTERM')).toBe(0)
    } finally {
      await node.stop('SIGKILL')
      await other.stop('SIGKILL')
      await set.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)
})

function sentinelsOf(list: string): { host: string; port: number }[] {
  return list.split(',').map((part) => {
    const [host = '', port = ''] = part.split(':')
    return { host, port: Number(port) }
  })
}
