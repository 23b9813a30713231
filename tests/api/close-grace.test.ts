import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createLiveEvents, createReadiness, type LiveEvents } from '../../api/index.ts'
import { loadConfig } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createLogger, openClient } from '../../service/index.ts'
import { rawSocket, recordUntilClosed } from '../support/raw-http.ts'
import { openTestRedis, testRedisUrl } from '../support/redis.ts'

const adminKey = 'close-grace-admin-key-0123456'
const graceMs = 300
let app: FastifyInstance
let live: LiveEvents
let redis: Redis
let url = ''

beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  const log = createLogger({ level: 'silent' })
  live = createLiveEvents({
    redis: await openClient(testRedisUrl(), 5000),
    eventsKey: `${opened.prefix}events`,
    log,
  })
  live.start()
  app = await buildApi({
    clock: systemClock,
    log,
    apiKeys: [],
    adminKey,
    readiness: createReadiness(),
    world: loadConfig({ env: {} }).site,
    live,
    closeGraceMs: graceMs,
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await live.close()
  await redis.quit()
})

describe('a stop of the HTTP server', () => {
  it('cuts a WebSocket peer that never answers the close and a body still coming, once its grace is over', async () => {
    // A dashboard on a laptop gone to sleep: upgraded, then silent, close frame included (ws waits 30 s for it).
    const peer = await rawSocket(url)
    const peerRecord = recordUntilClosed(peer)
    peer.write(
      [
        'GET /ws HTTP/1.1',
        'Host: vigie',
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        `Authorization: Bearer ${adminKey}`,
        '',
        '',
      ].join('\r\n'),
    )
    await once(peer, 'data')
    expect(peerRecord.received()).toMatch(/^HTTP\/1\.1 101/)
    // A request whose body has barely begun, within its 30 s request timeout.
    const slow = await rawSocket(url)
    const slowRecord = recordUntilClosed(slow)
    slow.write(
      [
        'POST /api/rules/dry-run HTTP/1.1',
        'Host: vigie',
        `Authorization: Bearer ${adminKey}`,
        'Content-Type: application/json',
        'Content-Length: 100000',
        '',
        '{"rea',
      ].join('\r\n'),
    )

    const started = Date.now()
    const closed = await Promise.race([
      app.close().then(() => Date.now() - started),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000)),
    ])
    expect(closed, 'app.close() still waiting after 10 s').not.toBeNull()
    expect(closed).toBeGreaterThanOrEqual(graceMs - 5)
    expect(closed).toBeLessThan(graceMs + 2000)
    await Promise.all([peerRecord.closed, slowRecord.closed])
    expect(peer.destroyed && slow.destroyed).toBe(true)
  })
})
