import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { buildApi, createLiveEvents, createReadiness, hashApiKey, type LiveEvents } from '../../api/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createLogger, openClient } from '../../service/index.ts'
import { openTestRedis, testRedisUrl } from '../support/redis.ts'

const viewer = 'viewer-key-live-0123456789'
let app: FastifyInstance
let redis: Redis
let live: LiveEvents
let url = ''
let eventsKey = ''

beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  eventsKey = `${opened.prefix}events`
  const log = createLogger({ level: 'silent' })
  live = createLiveEvents({ redis: await openClient(testRedisUrl(), 5000), eventsKey, log })
  live.start()
  app = await buildApi({
    clock: systemClock,
    log,
    apiKeys: [{ name: 'wall', keyHash: hashApiKey(viewer), role: 'viewer' }],
    readiness: createReadiness(),
    live,
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/ws`
})
afterAll(async () => {
  await live.close()
  await app.close()
  await redis.quit()
})

/** Resolves with the first message, once the socket is open and the event written. */
async function firstMessage(socket: WebSocket): Promise<unknown> {
  await once(socket, 'open')
  const message = once(socket, 'message')
  // The reader only passes on what comes after it started reading: write until the client hears it.
  const writer = setInterval(() => {
    void redis.xadd(eventsKey, '*', 'e', JSON.stringify({ type: 'incident.opened', id: 'i-1' }))
  }, 100)
  try {
    const [data] = await message
    return JSON.parse(String(data))
  } finally {
    clearInterval(writer)
  }
}

describe('GET /ws', () => {
  it('streams the events to a client with a key in the header', async () => {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${viewer}` } })
    expect(await firstMessage(socket)).toEqual({ type: 'incident.opened', id: 'i-1' })
    socket.close()
  })

  it("takes a browser's key as the subprotocols ['vigie', key]", async () => {
    const socket = new WebSocket(url, ['vigie', viewer])
    expect(await firstMessage(socket)).toMatchObject({ type: 'incident.opened' })
    expect(socket.protocol).toBe('vigie')
    socket.close()
  })

  it('refuses a client without a valid key', async () => {
    const socket = new WebSocket(url, ['vigie', 'not-a-key-at-all-0000'])
    const [code] = (await once(socket, 'close')) as [number]
    expect(code).toBe(1008)
  })
})
