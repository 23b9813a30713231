import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { systemClock } from '../../domain/index.ts'
import { createIngest } from '../../ingest/index.ts'
import { createLogger, findFreePort } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { spawnService } from '../support/service-process.ts'
import { waitFor } from '../support/wait-for.ts'

describe('QoS 1 means durable', () => {
  it('keeps every reading the device saw acknowledged when the service is killed with SIGKILL', async () => {
    const { url, prefix, redis } = await openTestRedis()
    const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()]
    const env = {
      REDIS_URL: url,
      REDIS_PREFIX: prefix,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      BIND_HOST: '127.0.0.1',
      VIGIE_ROLES: 'broker',
    }
    const args = ['--import', 'tsx', 'service/main.ts', 'start']
    const first = spawnService({ args, env })
    await first.waitForLine(/"msg":"vigie started"/)

    const device = await mqtt.connectAsync({
      host: '127.0.0.1',
      port: mqttPort,
      clientId: 'temp-lounge-1',
      username: 'temp-lounge-1',
      password: 'demo-secret-temp-lounge-1',
      reconnectPeriod: 0,
    })
    device.on('error', () => {}) // the kill resets the connection: expected
    const acked: number[] = []
    let seq = 0
    // Ten in flight at a time, like a device streaming readings.
    const publishNext = (): void => {
      if (!device.connected) return
      const mine = ++seq
      const reading = JSON.stringify({ type: 'temperature', celsius: 20 + (mine % 10) / 10, seq: mine })
      device.publish('devices/temp-lounge-1/telemetry', reading, { qos: 1 }, (error) => {
        if (!error) acked.push(mine)
        publishNext()
      })
    }
    for (let i = 0; i < 10; i++) publishNext()
    await waitFor(() => acked.length >= 300, { what: '300 acknowledged readings' })
    first.child.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    const ackedAtKill = [...acked]
    await device.endAsync(true)

    const second = spawnService({ args, env })
    await second.waitForLine(/"msg":"vigie started"/)
    const ingest = createIngest({
      clock: systemClock,
      redis,
      settings: {
        redisPrefix: prefix,
        logShards: 16,
        readingsRetention: 1_000_000,
        deviceReadingsRetention: 1000,
        deadLetterRetention: 10,
      },
      log: createLogger({ level: 'silent' }),
    })
    const stored = new Set((await ingest.readings.recent('temp-lounge-1', 1000)).map((r) => r.seq))
    expect(ackedAtKill.filter((s) => !stored.has(s))).toEqual([])
    expect(ackedAtKill.length).toBeGreaterThanOrEqual(300)
    expect(await second.stop('SIGTERM')).toBe(0)
    await redis.quit()
  })
})
