import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { systemClock } from '../../domain/index.ts'
import { createIngest } from '../../ingest/index.ts'
import { createLogger, findFreePort } from '../../service/index.ts'
import { type Haproxy, startHaproxy } from '../support/haproxy.ts'
import { openTestRedis } from '../support/redis.ts'
import { type ServiceProcess, spawnService } from '../support/service-process.ts'
import { startSteadyDevices } from '../support/steady-devices.ts'
import { writeTempFile } from '../support/temp-files.ts'
import { engageEnv } from '../support/test-service.ts'
import { startTwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

const temperatures = ['temp-1', 'temp-2', 'temp-3']
const siteFile = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
${[...temperatures, 'temp-hot']
  .map(
    (id) =>
      `  - { id: ${id}, kind: temperature, site: s1, secret: "secret-${id}", location: { lat: 49.0, lon: 2.57 } }`,
  )
  .join('\n')}
  - { id: door-1, kind: door, site: s1, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }
  - { id: door-2, kind: door, site: s1, secret: "secret-door-2", location: { lat: 49.0, lon: 2.57 } }
technicians:
  - { id: tech-1, name: One, phone: "+33600000001", skills: [security, hvac], location: { lat: 49.001, lon: 2.57 } }
rules:
  - { id: door-forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }
  - { id: too-hot, match: { kind: temperature }, condition: { field: celsius, above: 30 }, for: 10s, severity: major, skill: hvac }
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`
const adminKey = 'node-loss-admin-key-0123456'
const authToken = 'twilio-test-auth-token-0123456789'
const silent = createLogger({ level: 'silent' })

type TicketView = { id: string; rule: string; device: string }

describe('a vigie node lost (issue 17)', () => {
  it('has the other node take its devices, its rule shards and a pending for: timer, and double nothing', async () => {
    const { url, prefix, redis } = await openTestRedis()
    const twilio = await startTwilioServer()
    const ports = { a: await free(), b: await free() }
    const site = writeTempFile('site.yaml', siteFile)
    const start = (node: { http: number; mqtt: number }) =>
      spawnService({
        args: ['--import', 'tsx', 'service/main.ts', 'start'],
        env: {
          VIGIE_CONFIG: site,
          REDIS_URL: url,
          REDIS_PREFIX: prefix,
          HTTP_PORT: String(node.http),
          MQTT_PORT: String(node.mqtt),
          BIND_HOST: '127.0.0.1',
          VIGIE_ADMIN_KEY: adminKey,
          VIGIE_LOG_SHARDS: '4',
          VIGIE_RULES_LEASE: '3s',
          // Each node's rule workers die with it, as a machine lost would take them.
          VIGIE_WORKERS_PROCESS: 'no',
          DEVICE_READINGS_RETENTION: '100000',
          // Devices come through HAProxy only, which says who they are.
          MQTT_PROXY_PROTOCOL: 'on',
          MQTT_CLUSTER: 'on',
          ...engageEnv({ twilioUrl: twilio.url, smtpUrl: 'smtp://127.0.0.1:9', authToken }),
        },
      })
    const api = async <T>(port: number, path: string): Promise<T> => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        headers: { authorization: `Bearer ${adminKey}` },
      })
      // A refusal (a 429 from polling too fast, say) says so instead of reading as an empty answer.
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`)
      return (await res.json()) as T
    }
    const tickets = async (port: number) =>
      (await api<{ items: TicketView[] }>(port, '/api/tickets?limit=100')).items
    const publishOnce = async (port: number, id: string, reading: Record<string, unknown>) => {
      const client = await mqtt.connectAsync({
        host: '127.0.0.1',
        port,
        clientId: id,
        username: id,
        password: `secret-${id}`,
        reconnectPeriod: 0,
      })
      await client.publishAsync(`devices/${id}/telemetry`, JSON.stringify(reading), { qos: 1 })
      await client.endAsync()
    }
    const smsCount = () =>
      twilio.accepted().filter((request) => request.path.endsWith('/Messages.json')).length
    const a = start(ports.a)
    let b: ServiceProcess | undefined
    let proxy: Haproxy | undefined
    const clientsOn = async (port: number) => {
      const text = await (
        await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } })
      ).text()
      return Number(/^vigie_mqtt_clients (\d+)/m.exec(text)?.[1] ?? Number.NaN)
    }
    try {
      // Node A holds every shard before node B starts: the timer and the tickets are A's until it dies.
      await waitFor(() => (a.output().match(/"msg":"shard taken"/g)?.length ?? 0) === 4, {
        timeoutMs: 60_000,
        what: 'node A holding the 4 shards',
      })
      b = start(ports.b)
      await b.waitForLine(/"msg":"vigie started"/, 60_000)
      proxy = await startHaproxy({
        backends: [
          { name: 'a', mqttPort: ports.a.mqtt, httpPort: ports.a.http },
          { name: 'b', mqttPort: ports.b.mqtt, httpPort: ports.b.http },
        ],
      })
      await proxy.waitForState('a', 'UP', 30_000)
      await proxy.waitForState('b', 'UP', 30_000)
      const front = proxy.port

      const fleet = await startSteadyDevices({
        ports: [front],
        devices: temperatures.map((id) => ({ id, secret: `secret-${id}` })),
        perSecond: 20,
      })
      await publishOnce(front, 'door-1', { type: 'door', open: true })
      await waitFor(async () => (await tickets(ports.a.http)).some((t) => t.device === 'door-1'), {
        timeoutMs: 30_000,
        intervalMs: 250,
        what: "door-1's ticket, made on node A",
      })
      await waitFor(() => smsCount() === 1, {
        timeoutMs: 30_000,
        what: "the offer of door-1's ticket, sent by A",
      })
      // A reading that arms a for: timer on A; A dies before it falls due.
      await publishOnce(front, 'temp-hot', { type: 'temperature', celsius: 35 })
      await waitFor(async () => (await redis.keys(`${prefix}rule-timers:*`)).length > 0, {
        timeoutMs: 30_000,
        what: 'the for: timer armed on A',
      })
      await waitFor(() => fleet.ackedCount() >= 100, { timeoutMs: 30_000, what: '100 readings acknowledged' })

      const onA = await clientsOn(ports.a.http)
      expect(onA).toBeGreaterThan(0)
      // Not due yet, or this test would not show B taking the timer over.
      expect((await tickets(ports.a.http)).filter((t) => t.device === 'temp-hot')).toEqual([])
      const killedAt = Date.now()
      a.child.kill('SIGKILL')
      expect(await a.exited).toBe('SIGKILL')
      await waitFor(() => fleet.ackedSince(killedAt) >= 100, {
        timeoutMs: 30_000,
        what: 'the devices back on node B, 100 readings acknowledged there',
      })
      const devicesBackMs = Date.now() - killedAt
      await proxy.waitForState('a', 'DOWN', 30_000)
      expect(await clientsOn(ports.b.http)).toBe(temperatures.length)
      const hot = await waitFor(
        async () =>
          (await tickets(ports.b.http)).find((t) => t.device === 'temp-hot' && t.rule === 'too-hot'),
        { timeoutMs: 30_000, intervalMs: 250, what: 'the for: timer fired on node B' },
      )
      const timerMs = Date.now() - killedAt
      await publishOnce(front, 'door-2', { type: 'door', open: true })
      await waitFor(async () => (await tickets(ports.b.http)).some((t) => t.device === 'door-2'), {
        timeoutMs: 30_000,
        intervalMs: 250,
        what: "door-2's ticket, made on node B",
      })
      await waitFor(() => smsCount() === 3, {
        timeoutMs: 30_000,
        what: 'the offers of the hot and door-2 tickets',
      })
      await fleet.stop()

      const ingest = createIngest({
        clock: systemClock,
        redis,
        settings: {
          redisPrefix: prefix,
          logShards: 4,
          readingsRetention: 1_000_000,
          deviceReadingsRetention: 100_000,
          deadLetterRetention: 10,
        },
        log: silent,
      })
      let missing = 0
      for (const [id, readings] of fleet.acked) {
        const stored = new Set((await ingest.readings.recent(id, 100_000)).map((r) => r.seq))
        missing += readings.filter(({ seq }) => !stored.has(seq)).length
      }
      const all = await tickets(ports.b.http)
      const offers = twilio.accepted().filter((request) => request.path.endsWith('/Messages.json'))
      const bodies = offers.map((request) => `${request.form.To}|${request.form.Body}`)
      console.log(
        `node loss: A killed with ${onA} of ${temperatures.length} devices on it; devices acknowledged on B through HAProxy after ${devicesBackMs} ms; the for: timer fired on B after ` +
          `${timerMs} ms (ticket ${hot.id}); ${fleet.ackedCount()} readings acknowledged, ${missing} missing; ` +
          `${all.length} tickets, ${offers.length} SMS sent`,
      )
      expect(missing).toBe(0)
      expect(all.map((t) => t.device).sort()).toEqual(['door-1', 'door-2', 'temp-hot'])
      expect(new Set(bodies).size).toBe(bodies.length)
      expect(offers).toHaveLength(3)
    } finally {
      a.child.kill('SIGKILL')
      await b?.stop('SIGKILL')
      await proxy?.stop()
      await twilio.close()
      await redis.quit()
    }
  }, 180_000)
})

async function free() {
  return { http: await findFreePort(), mqtt: await findFreePort() }
}
