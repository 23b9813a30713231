import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { findFreePort } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { type ServiceProcess, spawnService } from '../support/service-process.ts'
import { waitFor } from '../support/wait-for.ts'

type IncidentView = { correlationKey: string; count: number }
type TicketView = { id: string; timeline: { type: string; detail: string | null }[] }

const adminKey = 'worker-race-admin-key-012345'
const doors = ['door-gate-1', 'door-gate-2', 'door-gate-3', 'door-lounge-1', 'door-lounge-2']

describe('two rule worker processes racing on one incident', () => {
  it('make one incident, one ticket and one offer when a paused worker wakes after another took its shard over', async () => {
    const { url, prefix, redis } = await openTestRedis()
    const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()]
    const common = {
      REDIS_URL: url,
      REDIS_PREFIX: prefix,
      BIND_HOST: '127.0.0.1',
      VIGIE_ADMIN_KEY: adminKey,
      // One shard, leased for a second: the takeover comes quickly and concerns every device.
      VIGIE_LOG_SHARDS: '1',
      VIGIE_RULES_LEASE: '1s',
    }
    const start = (roles: string, extra: Record<string, string> = {}) =>
      spawnService({
        args: ['--import', 'tsx', 'service/main.ts', 'start'],
        env: { ...common, VIGIE_ROLES: roles, ...extra },
      })
    const front = start('broker,api', { HTTP_PORT: String(httpPort), MQTT_PORT: String(mqttPort) })
    const first = start('workers')
    let second: ServiceProcess | undefined
    const api = async <T>(path: string): Promise<T> => {
      const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
        headers: { authorization: `Bearer ${adminKey}` },
      })
      return (await res.json()) as T
    }
    try {
      await front.waitForLine(/"msg":"vigie started"/)
      await first.waitForLine(/"msg":"shard taken"/)
      const pid = first.child.pid ?? 0

      // Pause the first worker while its XREADGROUP waits (it blocks 250 ms at a time), so the forced door
      // is delivered to it but not evaluated. If its wait had just ended, nothing was delivered: resume it,
      // let it evaluate that door, and try the next one.
      const clients = await Promise.all(
        doors.map((id) =>
          mqtt.connectAsync({
            host: '127.0.0.1',
            port: mqttPort,
            clientId: id,
            username: id,
            password: `demo-secret-${id}`,
            reconnectPeriod: 0,
          }),
        ),
      )
      // The first worker's rule reader, by the name vigie gives its connections (prefix and roles).
      const readerBlocked = async () => {
        const readers = String(await redis.client('LIST'))
          .split('\n')
          .filter(
            (line) => line.includes(`name=vigie:${prefix}workers `) && line.includes(' cmd=xreadgroup '),
          )
        return readers.length > 0 && readers.every((line) => /flags=\S*b/.test(line))
      }
      let door = ''
      for (const [i, candidate] of doors.entries()) {
        // Stopped inside its blocking read, not between two: no door is spent on a worker that could not get it.
        await waitFor(
          async () => {
            process.kill(pid, 'SIGSTOP')
            if (await readerBlocked()) return true
            process.kill(pid, 'SIGCONT')
            return false
          },
          { what: 'the first worker stopped inside its read' },
        )
        await clients[i]?.publishAsync(
          `devices/${candidate}/telemetry`,
          JSON.stringify({ type: 'door', open: true }),
          { qos: 1 },
        )
        const [[id] = []] = await redis.xrevrange(`${prefix}log:0`, '+', '-', 'COUNT', 1)
        const delivered = await redis.xpending(`${prefix}log:0`, 'rules', id ?? '0', id ?? '0', 1)
        if (delivered.length === 1) {
          door = candidate
          break
        }
        process.kill(pid, 'SIGCONT')
        await waitFor(
          async () => {
            const { items } = await api<{ items: IncidentView[] }>('/api/incidents')
            return items.some((i) => i.correlationKey === `door-forced:${candidate}`)
          },
          { what: `the first worker evaluating ${candidate}` },
        )
      }
      await Promise.all(clients.map((client) => client.endAsync()))
      expect(door).not.toBe('')

      // The second worker takes the shard once the lease lapses and replays what the first had read; the
      // first wakes the moment that happens, with the same entry in hand.
      const worker = start('workers')
      second = worker
      worker.child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('"msg":"shard taken"')) process.kill(pid, 'SIGCONT')
      })
      await first.waitForLine(/"msg":"shard lease lost"/)

      const key = `door-forced:${door}`
      // Both evaluated the reading: the second opened the incident, the other found it active and updated it.
      const incidents = await waitFor(
        async () => {
          const { items } = await api<{ items: IncidentView[] }>('/api/incidents')
          const mine = items.filter((i) => i.correlationKey === key)
          return mine.some((i) => i.count === 2) ? mine : undefined
        },
        { what: 'the incident updated by both workers', timeoutMs: 20_000 },
      )
      expect(incidents).toHaveLength(1)
      const { items } = await api<{ items: { id: string }[] }>(`/api/tickets?device=${door}&rule=door-forced`)
      expect(items).toHaveLength(1)
      const ticket = await api<TicketView>(`/api/tickets/${items[0]?.id}`)
      expect(ticket.timeline.map((e) => e.type)).toEqual(['ticket.created', 'ticket.offered'])
    } finally {
      if (first.child.pid) process.kill(first.child.pid, 'SIGCONT')
      await Promise.all([front, first, second].map((p) => p?.stop('SIGKILL')))
      await redis.quit()
    }
  })
})
