import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../config/index.ts'
import { createLogger, findFreePort, type RunningService, startService } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { writeTempFile } from '../support/temp-files.ts'
import { waitFor } from '../support/wait-for.ts'

// 0.001° of latitude is about 111 m: A is nearest but lacks the skill, then B, then C.
const siteFile = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices: [{ id: door-1, kind: door, site: s1, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }]
technicians:
  - { id: tech-a, name: A, phone: "+33600000001", skills: [hvac], location: { lat: 49.001, lon: 2.57 } }
  - { id: tech-b, name: B, phone: "+33600000002", skills: [security], location: { lat: 49.003, lon: 2.57 } }
  - { id: tech-c, name: C, phone: "+33600000003", skills: [security, hvac], location: { lat: 49.006, lon: 2.57 } }
rules: [{ id: door-forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }]
dispatch:
  offerTimeout: 1s
  maxOffers: 3
  travelSpeedKmh: 5
  supervisors: [{ id: duty, name: Duty manager, phone: "+33600000999" }]
`
const adminKey = 'dispatch-e2e-admin-key-012345'
type TicketView = {
  id: string
  status: string
  offer: { technician: string; etaMinutes: number } | null
  timeline: { type: string; detail: string | null }[]
}

let service: RunningService
let mqttPort = 0

beforeAll(async () => {
  const { url, prefix, redis } = await openTestRedis()
  await redis.quit()
  const [httpPort, port] = [await findFreePort(), await findFreePort()]
  mqttPort = port
  const config = loadConfig({
    env: {
      VIGIE_CONFIG: writeTempFile('site.yaml', siteFile),
      REDIS_URL: url,
      REDIS_PREFIX: prefix,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(port),
      BIND_HOST: '127.0.0.1',
      VIGIE_ADMIN_KEY: adminKey,
    },
  })
  service = await startService({ config, log: createLogger({ level: 'silent' }) })
})
afterAll(async () => {
  await service?.close('test over')
})

async function api<T>(path: string, method = 'GET'): Promise<T> {
  const res = await fetch(`${service.httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminKey}`,
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
    },
    ...(method === 'POST' ? { body: '{}' } : {}),
  })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

describe('dispatch, readings in over MQTT and offers out through the API', () => {
  it('skips the nearest technician without the skill, offers the nearest qualified, moves on after a decline and after silence, then escalates', async () => {
    const door = await mqtt.connectAsync({
      host: '127.0.0.1',
      port: mqttPort,
      username: 'door-1',
      password: 'secret-door-1',
      reconnectPeriod: 0,
    })
    await door.publishAsync('devices/door-1/telemetry', JSON.stringify({ type: 'door', open: true }), {
      qos: 1,
    })
    await door.endAsync()
    const first = await waitFor(
      async () => {
        const { items } = await api<{ items: TicketView[] }>('/api/tickets?device=door-1')
        return items[0]?.offer ? items[0] : undefined
      },
      { what: 'the first offer' },
    )
    // 333 m at 5 km/h is 4 minutes.
    expect(first.offer).toMatchObject({ technician: 'tech-b', etaMinutes: 4 })

    const declined = await api<TicketView>(`/api/tickets/${first.id}/decline`, 'POST')
    expect(declined).toMatchObject({ status: 'assigned', offer: { technician: 'tech-c' } })

    // Nobody answers tech-c's offer within the 1 s timeout; tech-a lacks the skill: the supervisors.
    const escalated = await waitFor(
      async () => {
        const ticket = await api<TicketView>(`/api/tickets/${first.id}`)
        return ticket.timeline.some((e) => e.type === 'ticket.escalated') ? ticket : undefined
      },
      { what: 'the escalation' },
    )
    // No SMS provider is set up here: the notifier's failures are on the timeline too, left out of this check.
    const dispatchSteps = escalated.timeline.filter((e) => !e.type.startsWith('ticket.notif'))
    expect(dispatchSteps.map((e) => [e.type, e.detail?.split(' ')[0]])).toEqual([
      ['ticket.created', 'door-forced'],
      ['ticket.offered', 'tech-b'],
      ['ticket.declined', 'tech-b'],
      ['ticket.offered', 'tech-c'],
      ['ticket.offer_expired', 'tech-c'],
      ['ticket.escalated', 'no'],
    ])
    expect(dispatchSteps.at(-1)?.detail).toBe('no technician on shift with skill security; to Duty manager')
    expect(escalated).toMatchObject({ status: 'open', offer: null })
  })
})
