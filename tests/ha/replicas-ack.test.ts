import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createLogger,
  type RedisSentinelSet,
  type RedisServer,
  startRedisSentinelSet,
} from '../../service/index.ts'
import { oneDoorSite } from '../support/one-door-site.ts'
import { startTestService, type TestService } from '../support/test-service.ts'

const ackEnv = { VIGIE_REDIS_REPLICAS_ACK: '1', VIGIE_REDIS_REPLICAS_ACK_TIMEOUT: '200ms' }
const silent = createLogger({ level: 'silent' })

/** One QoS 1 reading from door-1: resolves with whether its PUBACK came. */
async function publishDoor(world: TestService): Promise<'acknowledged' | 'refused'> {
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port: world.mqttPort,
    clientId: 'door-1',
    username: 'door-1',
    password: 'secret-door-1',
    reconnectPeriod: 0,
  })
  client.on('error', () => {})
  const outcome = await new Promise<'acknowledged' | 'refused'>((resolve) => {
    // The broker closes a connection whose reading it could not keep as asked: the PUBACK never comes.
    client.once('close', () => resolve('refused'))
    client.publish(
      'devices/door-1/telemetry',
      JSON.stringify({ type: 'door', open: false }),
      { qos: 1 },
      (error) => resolve(error ? 'refused' : 'acknowledged'),
    )
  })
  await client.endAsync(true)
  return outcome
}

async function openWindow(world: TestService): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${world.publicUrl}/api/maintenance-windows`, {
    method: 'POST',
    headers: { authorization: 'Bearer test-service-admin-key-0123456', 'content-type': 'application/json' },
    body: JSON.stringify({ scope: { site: 's1' }, minutes: 30, reason: 'replicas test' }),
  })
  const body = (await res.json()) as { error?: { code: string } }
  return { status: res.status, ...(body.error ? { code: body.error.code } : {}) }
}

describe('VIGIE_REDIS_REPLICAS_ACK=1 (issue 17)', () => {
  describe('on a Redis without replicas', () => {
    let world: TestService
    beforeAll(async () => {
      world = await startTestService({ site: oneDoorSite, env: ackEnv })
    })
    afterAll(async () => {
      await world?.close()
    })

    it('acknowledges no reading, since no replica holds it', async () => {
      expect(await publishDoor(world)).toBe('refused')
    })

    it('answers a write 503 REDIS_NOT_REPLICATED, and a read as usual', async () => {
      expect(await openWindow(world)).toEqual({ status: 503, code: 'REDIS_NOT_REPLICATED' })
      const res = await fetch(`${world.publicUrl}/api/maintenance-windows`, {
        headers: { authorization: 'Bearer test-service-admin-key-0123456' },
      })
      expect(res.status).toBe(200)
    })
  })

  describe('on a Redis with one replica', () => {
    let world: TestService
    let dir: string
    let set: RedisSentinelSet | undefined
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vigie-replica-'))
      // Started once the replica is in sync: no Sentinel, just replication.
      set = await startRedisSentinelSet({ dir, log: silent, replicas: 1, sentinels: 0, appendOnly: false })
      const master = set.servers[0] as RedisServer
      // A replica's answer to WAIT may take longer than 200 ms on a busy machine: what is tested is that it comes.
      world = await startTestService({
        site: oneDoorSite,
        env: { ...ackEnv, VIGIE_REDIS_REPLICAS_ACK_TIMEOUT: '10s', REDIS_URL: master.url },
      })
    })
    afterAll(async () => {
      await world?.close()
      await set?.stop()
      rmSync(dir, { recursive: true, force: true })
    })

    it('acknowledges a reading and answers a write once the replica holds them', async () => {
      expect(await publishDoor(world)).toBe('acknowledged')
      expect(await openWindow(world)).toEqual({ status: 201 })
    })
  })
})
