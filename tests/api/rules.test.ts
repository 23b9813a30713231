import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createReadiness, hashApiKey } from '../../api/index.ts'
import { loadConfig } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createLogger } from '../../service/index.ts'

const viewerKey = 'viewer-key-for-rules-0123'
const headers = { authorization: `Bearer ${viewerKey}` }
let app: FastifyInstance

beforeAll(async () => {
  const { site } = loadConfig({ env: {} })
  app = await buildApi({
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    apiKeys: [{ name: 'wall', keyHash: hashApiKey(viewerKey), role: 'viewer' }],
    readiness: createReadiness(),
    world: site,
  })
  await app.ready()
})
afterAll(() => app.close())

describe('GET /api/rules', () => {
  it('lists the rules in force, normalised', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/rules', headers })
    expect(res.statusCode).toBe(200)
    const { items, next } = res.json()
    expect(next).toBeNull()
    expect(items.find((rule: { id: string }) => rule.id === 'lounge-too-hot')).toMatchObject({
      for: 60_000,
      condition: { kind: 'above', field: 'celsius', above: 26, clearBelow: 25.5 },
    })
  })
})

describe('POST /api/rules/dry-run', () => {
  it('lists the incidents that would open and refuses bad readings by index', async () => {
    const readings = [
      { device: 'door-gate-1', type: 'door', open: true, ts: '2026-11-23T09:00:00Z' },
      { device: 'temp-lounge-1', type: 'temperature', celsius: 900, ts: '2026-11-23T09:00:01Z' },
      { device: 'nobody', type: 'heartbeat', ts: '2026-11-23T09:00:02Z' },
      { device: 'door-gate-1', type: 'door', open: true },
    ]
    const res = await app.inject({
      method: 'POST',
      url: '/api/rules/dry-run',
      headers,
      payload: { readings },
    })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      incidents: [
        {
          rule: 'door-forced',
          correlationKey: 'door-forced:door-gate-1',
          site: 'cdg-t2',
          zone: 't2-gates',
          device: 'door-gate-1',
          severity: 'critical',
          openedAt: '2026-11-23T09:00:00.000Z',
          updates: 0,
          clearedAt: null,
        },
      ],
      rejected: [
        { index: 1, reason: 'celsius: Too big: expected number to be <=150; got 900' },
        { index: 2, reason: 'device: no device "nobody" in the site file' },
        { index: 3, reason: 'ts: required to replay a reading' },
      ],
    })
  })

  it('fires pending timers up to until', async () => {
    const readings = [
      { device: 'door-gate-1', type: 'door', open: true, badge: 'b-1', ts: '2026-11-23T09:00:00Z' },
    ]
    const short = await app.inject({
      method: 'POST',
      url: '/api/rules/dry-run',
      headers,
      payload: { readings },
    })
    expect(short.json().incidents).toEqual([])
    const long = await app.inject({
      method: 'POST',
      url: '/api/rules/dry-run',
      headers,
      payload: { readings, until: '2026-11-23T09:02:00Z' },
    })
    expect(long.json().incidents.map((i: { rule: string }) => i.rule)).toEqual(['door-held-open'])
  })

  it('refuses an empty list with 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/rules/dry-run',
      headers,
      payload: { readings: [] },
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('VALIDATION_FAILED')
  })
})
