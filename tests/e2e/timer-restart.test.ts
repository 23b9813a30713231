import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { findFreePort } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { spawnService } from '../support/service-process.ts'
import { writeTempFile } from '../support/temp-files.ts'
import { waitFor } from '../support/wait-for.ts'

const siteFile = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices: [{ id: door-1, kind: door, site: s1, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }]
technicians: [{ id: tech-1, name: One, phone: "+33600000001", skills: [security], location: { lat: 49.001, lon: 2.57 } }]
rules: [{ id: door-held, match: { kind: door }, condition: { field: open, equals: true }, for: 12s, severity: major, skill: security }]
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`
const adminKey = 'timer-restart-admin-key-0123'

describe('a for: timer across a killed and restarted service', () => {
  it('fires on time after the process that saw the reading was killed', async () => {
    const { url, prefix, redis } = await openTestRedis()
    const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()]
    const start = () =>
      spawnService({
        args: ['--import', 'tsx', 'service/main.ts', 'start'],
        env: {
          VIGIE_CONFIG: writeTempFile('site.yaml', siteFile),
          REDIS_URL: url,
          REDIS_PREFIX: prefix,
          HTTP_PORT: String(httpPort),
          MQTT_PORT: String(mqttPort),
          BIND_HOST: '127.0.0.1',
          VIGIE_ADMIN_KEY: adminKey,
          // The restarted workers take the dead one's shards without waiting out its lease.
          VIGIE_RULES_LEASE: '1s',
          // The workers in the process that says "vigie started" and gets the SIGKILL: a child of its own
          // would still be starting when the timer falls due on a busy machine, and would stop gracefully.
          VIGIE_WORKERS_PROCESS: 'no',
        },
      })
    const first = start()
    let second: ReturnType<typeof start> | undefined
    try {
      await first.waitForLine(/"msg":"vigie started"/)
      const client = await mqtt.connectAsync({
        host: '127.0.0.1',
        port: mqttPort,
        clientId: 'door-1',
        username: 'door-1',
        password: 'secret-door-1',
        reconnectPeriod: 0,
      })
      const openedAt = Date.now()
      await client.publishAsync(
        'devices/door-1/telemetry',
        JSON.stringify({ type: 'door', open: true, ts: openedAt }),
        { qos: 1 },
      )
      client.end(true)
      // The timer is armed once the worker evaluated the reading; then the process dies without warning.
      await waitFor(async () => (await redis.keys(`${prefix}rule-timers:*`)).length > 0, {
        what: 'the armed timer',
      })
      await first.stop('SIGKILL')
      second = start()
      await second.waitForLine(/"msg":"vigie started"/)
      // On a busy machine the restart may take longer than the period: then the timer is due at once.
      const secondStarted = Date.now()
      const due = openedAt + 12_000

      const opened = await waitFor(
        async () => {
          const events = await redis.xrange(`${prefix}events`, '-', '+')
          return events.find(([, fields]) => JSON.parse(fields[1] ?? '{}').type === 'incident.opened')
        },
        { what: 'the held-open incident', timeoutMs: 20_000 },
      )
      const [id, fields] = opened
      const incident = JSON.parse(fields[1] ?? '{}').incident as { openedAt: string; device: string }
      // Due 12 s after the reading, not 12 s after the restart: the timer armed before the kill is the one
      // that fires, as soon as the restarted process can (its due time, or its start if that came later).
      expect(incident).toMatchObject({ device: 'door-1', openedAt: new Date(due).toISOString() })
      const writtenAt = Number(id.split('-')[0])
      expect(writtenAt).toBeGreaterThanOrEqual(due)
      expect(writtenAt).toBeLessThan(Math.max(due, secondStarted) + 6_000)
    } finally {
      await Promise.all([first.stop('SIGKILL'), second?.stop('SIGKILL')])
      await redis.quit()
    }
  })
})
