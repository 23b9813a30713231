import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { findFreePort } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { spawnService } from '../support/service-process.ts'
import { waitFor } from '../support/wait-for.ts'

type IncidentView = { rule: string; device: string | null; status: string; count: number; severity: string }

describe('readings in over MQTT, incidents out through the API', () => {
  it('opens door-forced and aed-removed incidents and their tickets, one each however often the device repeats itself', async () => {
    const { url, prefix, redis } = await openTestRedis()
    await redis.quit()
    const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()]
    const adminKey = 'rules-e2e-admin-key-0123456'
    const service = spawnService({
      args: ['--import', 'tsx', 'service/main.ts', 'start'],
      env: {
        REDIS_URL: url,
        REDIS_PREFIX: prefix,
        HTTP_PORT: String(httpPort),
        MQTT_PORT: String(mqttPort),
        BIND_HOST: '127.0.0.1',
        VIGIE_ADMIN_KEY: adminKey,
      },
    })
    try {
      // Its rule workers process says "vigie started" too: the node's line names its API.
      await service.waitForLine(/"httpUrl":.*"msg":"vigie started"/)
      const connect = (id: string) =>
        mqtt.connectAsync({
          host: '127.0.0.1',
          port: mqttPort,
          clientId: id,
          username: id,
          password: `demo-secret-${id}`,
          reconnectPeriod: 0,
        })
      const door = await connect('door-gate-1')
      for (let i = 0; i < 50; i++)
        await door.publishAsync(
          'devices/door-gate-1/telemetry',
          JSON.stringify({ type: 'door', open: true }),
          { qos: 1 },
        )
      // Flapping: forced open, closed, forced open again, 50 readings in all.
      const flapping = await connect('door-gate-2')
      for (let i = 0; i < 50; i++)
        await flapping.publishAsync(
          'devices/door-gate-2/telemetry',
          JSON.stringify({ type: 'door', open: i % 2 === 0 }),
          { qos: 1 },
        )
      const aed = await connect('aed-security-1')
      await aed.publishAsync(
        'devices/aed-security-1/telemetry',
        JSON.stringify({ type: 'aed', present: false, cabinetOpen: true }),
        { qos: 1 },
      )

      const incidents = await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${httpPort}/api/incidents`, {
            headers: { authorization: `Bearer ${adminKey}` },
          })
          const { items } = (await res.json()) as { items: IncidentView[] }
          const forced = items.find((i) => i.rule === 'door-forced' && i.device === 'door-gate-1')
          return forced?.count === 50 && items.some((i) => i.rule === 'aed-removed') ? items : undefined
        },
        // The rule workers start in a child process of their own after "vigie started": slow on a busy machine.
        { what: 'both incidents through the API', timeoutMs: 30_000 },
      )
      expect(incidents.filter((i) => i.rule === 'door-forced' && i.device === 'door-gate-1')).toEqual([
        expect.objectContaining({ device: 'door-gate-1', status: 'active', severity: 'critical', count: 50 }),
      ])
      expect(incidents.filter((i) => i.rule === 'aed-removed')).toEqual([
        expect.objectContaining({ device: 'aed-security-1', status: 'active', severity: 'critical' }),
      ])
      const tickets = await fetch(
        `http://127.0.0.1:${httpPort}/api/tickets?rule=door-forced&device=door-gate-1`,
        {
          headers: { authorization: `Bearer ${adminKey}` },
        },
      )
      type TicketView = { id: string; device: string; status: string; offer: { technician: string } | null }
      const { items } = (await tickets.json()) as { items: TicketView[] }
      expect(items).toEqual([
        // Offered at once to the nearest security technician on shift.
        expect.objectContaining({
          device: 'door-gate-1',
          status: 'assigned',
          offer: expect.objectContaining({ technician: expect.any(String) }),
        }),
      ])
      // A decline through the API moves the offer to the next technician.
      const first = items[0]?.offer?.technician
      const declined = await fetch(`http://127.0.0.1:${httpPort}/api/tickets/${items[0]?.id}/decline`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: '{}',
      })
      const after = (await declined.json()) as TicketView
      expect(declined.status).toBe(200)
      expect(after.status).toBe('assigned')
      expect(after.offer?.technician).not.toBe(first)
      // Each forced opening of the flapping door is an incident of its own, but all join one ticket.
      const flapped = await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${httpPort}/api/tickets?device=door-gate-2`, {
            headers: { authorization: `Bearer ${adminKey}` },
          })
          const list = ((await res.json()) as { items: { id: string }[] }).items
          if (list.length !== 1) return list.length > 1 ? list : undefined
          const one = await fetch(`http://127.0.0.1:${httpPort}/api/tickets/${list[0]?.id}`, {
            headers: { authorization: `Bearer ${adminKey}` },
          })
          const ticket = (await one.json()) as { timeline: { type: string }[] }
          const joined = ticket.timeline.filter((e) => e.type === 'ticket.incident_joined').length
          return joined === 24 ? list : undefined
        },
        { what: 'the flapping door ticket with 24 incidents joined', timeoutMs: 30_000 },
      )
      expect(flapped).toHaveLength(1)
      await flapping.endAsync()
      await door.endAsync()
      await aed.endAsync()
      expect(await service.stop('SIGTERM')).toBe(0)
    } finally {
      await service.stop('SIGKILL')
    }
  })
})
