import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { findFreePort } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { spawnService } from '../support/service-process.ts'
import { writeTempFile } from '../support/temp-files.ts'
import { startTestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

// Issue 17: an mqttAccounts persistent session and its queued QoS 1 messages outlive the node it was on.
const site = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices: [{ id: door-1, kind: door, site: s1, secret: "secret-door-1" }]
rules: []
mqttAccounts:
  - { username: watcher, password: "watcher-password", subscribe: ["devices/+/telemetry"] }
`

describe('a broker node lost with SIGKILL', () => {
  it('keeps a persistent session and the QoS 1 messages published for it meanwhile on the other node', async () => {
    const { url, prefix, redis } = await openTestRedis()
    const env = { VIGIE_ROLES: 'broker', MQTT_CLUSTER: 'on' }
    const nodeB = await startTestService({ site, env, prefix })
    const mqttPortA = await findFreePort()
    const nodeA = spawnService({
      args: ['--import', 'tsx', 'service/main.ts', 'start'],
      env: {
        ...env,
        VIGIE_CONFIG: writeTempFile('site.yaml', site),
        REDIS_URL: url,
        REDIS_PREFIX: prefix,
        HTTP_PORT: String(await findFreePort()),
        MQTT_PORT: String(mqttPortA),
        BIND_HOST: '127.0.0.1',
      },
    })
    const session = { clientId: 'watcher-1', username: 'watcher', password: 'watcher-password', clean: false }
    const base = { host: '127.0.0.1', reconnectPeriod: 0, connectTimeout: 5000 }
    try {
      await nodeA.waitForLine(/"msg":"vigie started"/, 60_000)
      const onA = await mqtt.connectAsync({ ...base, port: mqttPortA, ...session })
      onA.on('error', () => {}) // the kill resets the connection: expected
      await onA.subscribeAsync('devices/+/telemetry', { qos: 1 })
      const before = new Promise<string>((resolve) => onA.once('message', (_t, p) => resolve(p.toString())))
      await nodeB.publish('door-1', { type: 'door', open: false, seq: 0 })
      // Node B knows the subscription: what it publishes reaches the session on node A.
      expect(JSON.parse(await before)).toMatchObject({ seq: 0 })
      // Acknowledged on node A: nothing left in the session's queue in Redis (aedes-persistence-redis' list).
      await waitFor(async () => (await redis.llen(`${prefix}mqtt:outgoing:watcher-1`)) === 0, {
        what: 'the PUBACK taken by node A',
      })

      expect(await nodeA.stop('SIGKILL')).toBe('SIGKILL')
      const published = Array.from({ length: 50 }, (_, i) => ({
        type: 'door',
        open: i % 2 === 0,
        seq: i + 1,
      }))
      await nodeB.publish('door-1', ...published)

      const received: number[] = []
      const onB = mqtt.connect({ ...base, port: nodeB.mqttPort, ...session })
      onB.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()).seq))
      const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
        onB.once('connect', resolve)
        onB.once('error', reject)
      })
      try {
        expect(connack.sessionPresent).toBe(true)
        await waitFor(() => received.length >= published.length, { what: 'the queued messages' })
        console.log(
          `queued while node A was dead: ${published.length}; received on node B: ${received.length}`,
        )
        expect(received).toEqual(published.map((reading) => reading.seq))
      } finally {
        await onB.endAsync(true)
      }
    } finally {
      await nodeA.stop('SIGKILL')
      await nodeB.close()
      await redis.quit()
    }
    // Two nodes start, one of them a process of its own: twice the time of one on a busy machine.
  }, 120_000)
})
