import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { findFreePort } from '../../service/index.ts'
import { startMosquitto } from '../support/mosquitto.ts'
import { openTestRedis } from '../support/redis.ts'
import { spawnService } from '../support/service-process.ts'
import { waitFor } from '../support/wait-for.ts'

describe('npm start with MQTT_EXTERNAL_URL', () => {
  it('takes readings from an existing Mosquitto and serves them through the API, running no broker of its own', async () => {
    const mosquitto = await startMosquitto()
    const { url, prefix, redis } = await openTestRedis()
    const httpPort = await findFreePort()
    const adminKey = 'external-mode-admin-key-0123'
    const service = spawnService({
      args: ['--import', 'tsx', 'service/main.ts', 'start'],
      env: {
        REDIS_URL: url,
        REDIS_PREFIX: prefix,
        HTTP_PORT: String(httpPort),
        BIND_HOST: '127.0.0.1',
        MQTT_EXTERNAL_URL: mosquitto.url,
        VIGIE_ADMIN_KEY: adminKey,
      },
    })
    try {
      await service.waitForLine(/"msg":"vigie started"/)
      expect(service.output()).not.toContain('mqtt broker listening')
      // Ready once every role works, the rule workers (in a process of their own on two cores) too.
      const ready = await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`)
          return res.status === 200 ? res.json() : undefined
        },
        { what: '/readyz answering 200', timeoutMs: 30_000 },
      )
      expect(ready).toEqual({
        status: 'ready',
        checks: { redis: 'up', broker: 'up', workers: 'up', notifier: 'up', api: 'up' },
      })

      // The device talks to Mosquitto, not to vigie.
      const device = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0 })
      await device.publishAsync(
        'devices/temp-lounge-2/telemetry',
        JSON.stringify({ type: 'temperature', celsius: 27.5 }),
        { qos: 1 },
      )
      await device.endAsync()
      const readings = await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${httpPort}/api/devices/temp-lounge-2/readings`, {
            headers: { authorization: `Bearer ${adminKey}` },
          })
          const { items } = (await res.json()) as { items: { celsius?: number }[] }
          return items.length > 0 ? items : undefined
        },
        { what: 'the reading through the API' },
      )
      expect(readings[0]).toMatchObject({ device: 'temp-lounge-2', type: 'temperature', celsius: 27.5 })
      expect(await service.stop('SIGTERM')).toBe(0)
    } finally {
      await service.stop('SIGKILL')
      await mosquitto.stop()
      await redis.quit()
    }
  })
})
