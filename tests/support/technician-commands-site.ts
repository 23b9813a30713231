import mqtt, { type MqttClient } from 'mqtt'
import { createLinkSigner, notificationKeys } from '../../notifier/index.ts'
import { openTestRedis } from './redis.ts'
import type { TestService } from './test-service.ts'
import { waitFor } from './wait-for.ts'

/** Doors whose kind takes commands (issue 19), a forced-door rule, and two security technicians, tech-1 nearest. */
export const technicianCommandsSite = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
  - { id: door-1, kind: door, site: s1, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }
  - { id: door-2, kind: door, site: s1, secret: "secret-door-2", location: { lat: 49.0, lon: 2.57 } }
  - { id: door-3, kind: door, site: s1, secret: "secret-door-3", location: { lat: 49.0, lon: 2.57 } }
rules: [{ id: door-forced, name: Door forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }]
technicians:
  - { id: tech-1, name: One, phone: "+33600000001", skills: [security], location: { lat: 49.001, lon: 2.57 } }
  - { id: tech-2, name: Two, phone: "+33600000002", skills: [security], location: { lat: 49.05, lon: 2.57 } }
commands:
  door:
    lock: { args: { seconds: { type: integer, min: 1, max: 3600 } } }
    buzzer: {}
    mode: { args: { to: { type: enum, values: [day, night] }, note: { type: string, maxLength: 20, optional: true } } }
`

/** The device, connected over MQTT, answering every command it receives `done` with `detail`. */
export async function answeringDevice(
  vigie: TestService,
  device: string,
  detail: string,
): Promise<MqttClient> {
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port: vigie.mqttPort,
    clientId: device,
    username: device,
    password: `secret-${device}`,
    reconnectPeriod: 0,
  })
  client.on('message', (_topic, payload) => {
    const { id } = JSON.parse(payload.toString()) as { id: string }
    void client.publishAsync(
      `devices/${device}/status`,
      JSON.stringify({ command: id, result: 'done', detail }),
      { qos: 1 },
    )
  })
  await client.subscribeAsync(`devices/${device}/commands/#`, { qos: 1 })
  return client
}

/** A forced door on `device`; resolves with the ticket once it is offered to `technician`. */
export async function forcedDoorOffered(vigie: TestService, device: string, technician: string) {
  await vigie.publish(device, { type: 'door', open: true })
  return waitFor(
    async () => {
      const list = await vigie.api<{ items: { id: string; offer: { technician: string } | null }[] }>(
        `/api/tickets?device=${device}`,
      )
      return list.items.find((t) => t.offer?.technician === technician)
    },
    { what: `the ticket of ${device} offered to ${technician}` },
  )
}

/** Signs technician links with the service's own key, as the notifier does for its SMS. */
export async function technicianLinks(vigie: TestService) {
  const { redis } = await openTestRedis()
  const links = await createLinkSigner({ redis, key: notificationKeys(vigie.prefix).linkSecret })
  await redis.quit()
  return (ticket: string, technician: string, exp = Date.now() + 600_000) =>
    links.sign({ ticket, technician, exp })
}
