import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openClient } from '../../service/index.ts'
import { createManualClock } from '../support/manual-clock.ts'
import { oneDoorSite } from '../support/one-door-site.ts'
import { testRedisUrl } from '../support/redis.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

// Issue 18: /api/webhooks (admins), the attempts of each, a redelivery, and a receiver paused after a day
// of failures then resumed; fed what a careless or hostile client sends too.
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
const adminKey = 'admin-key-webhooks-api-0123456'
const viewerKey = 'viewer-key-webhooks-api-012345'
const dispatcherKey = 'dispatcher-key-webhooks-api-01'
const secret = 'whsec-api-test-0123456789'
const day = 86_400_000

type Got = { path: string; headers: IncomingHttpHeaders; body: string; status: number }
type Answer = {
  status: number
  json: Record<string, unknown> & { error?: { code: string; message: string } }
}
type Attempt = {
  id: string
  delivery: string
  type: string
  attempt: number
  status: number | null
  outcome: string
  latencyMs: number
}

const got: Got[] = []
let failing = true
const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    const status = req.url === '/down' && failing ? 500 : 200
    got.push({
      path: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      status,
    })
    res.writeHead(status).end()
  })
})
let url: string
let world: TestService
let redis: Redis
const clock = createManualClock()
const on = (path: string) => got.filter((g) => g.path === path)

// A supervisor, told when a webhook is paused.
const site = `${oneDoorSite.replace('supervisors: []', 'supervisors: [{ id: sup-1, name: Sam, email: sam@example.com }]')}
apiKeys:
  - { name: wall, keyHash: "${sha256(viewerKey)}", role: viewer }
  - { name: console, keyHash: "${sha256(dispatcherKey)}", role: dispatcher }
webhooks:
  - { id: from-file, url: "http://127.0.0.1:9/never", secret: "${secret}", events: [incident.cleared] }
`

beforeAll(async () => {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  world = await startTestService({
    site,
    adminKey,
    clock,
    env: { WEBHOOK_RETRY_DELAY: '50ms', WEBHOOK_ATTEMPTS: '50' },
  })
  redis = await openClient(testRedisUrl(), 5000)
})
afterAll(async () => {
  await world?.close()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await redis?.quit()
})

async function call(
  path: string,
  { key = adminKey, method = 'GET', body }: { key?: string; method?: string; body?: string | object } = {},
): Promise<Answer> {
  const res = await fetch(`${world.publicUrl}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  return { status: res.status, json: text ? JSON.parse(text) : {} }
}

const webhook = (id: string, path: string, events: string[] = ['ticket.*']) => ({
  id,
  url: `${url}${path}`,
  secret,
  events,
})

describe('/api/webhooks', () => {
  it('keeps webhooks made here beside the site file’s, never showing a secret, the file’s read-only', async () => {
    expect(
      (await call('/api/webhooks', { method: 'POST', body: webhook('ok', '/ok', ['ticket.created']) }))
        .status,
    ).toBe(201)
    expect((await call('/api/webhooks', { method: 'POST', body: webhook('ok', '/ok') })).status).toBe(409)
    expect((await call('/api/webhooks', { method: 'POST', body: webhook('from-file', '/x') })).status).toBe(
      409,
    )
    const list = await call('/api/webhooks')
    expect(list.status).toBe(200)
    expect((list.json.items as { id: string; origin: string }[]).map((w) => [w.id, w.origin])).toEqual([
      ['from-file', 'site'],
      ['ok', 'api'],
    ])
    expect(JSON.stringify(list.json)).not.toContain(secret)
    expect(JSON.stringify((await call('/api/webhooks/ok')).json)).not.toContain(secret)
    const changed = await call('/api/webhooks/ok', {
      method: 'PUT',
      body: { ...webhook('ok', '/ok', ['ticket.created']), sites: ['s1'] },
    })
    expect([changed.status, changed.json.sites]).toEqual([200, ['s1']])
    expect(
      (await call('/api/webhooks/from-file', { method: 'PUT', body: webhook('from-file', '/x') })).status,
    ).toBe(409)
    expect((await call('/api/webhooks/from-file', { method: 'DELETE' })).status).toBe(409)
    expect((await call('/api/webhooks/nope', { method: 'DELETE' })).status).toBe(404)
    expect((await call('/api/webhooks', { method: 'POST', body: webhook('gone', '/gone') })).status).toBe(201)
    expect((await call('/api/webhooks/gone', { method: 'DELETE' })).status).toBe(204)
    expect((await call('/api/webhooks/gone')).status).toBe(404)
  })

  it('refuses what a stranger, a buggy client or a curious technician sends', async () => {
    for (const key of [viewerKey, dispatcherKey]) {
      for (const [method, path] of [
        ['GET', '/api/webhooks'],
        ['POST', '/api/webhooks'],
        ['GET', '/api/webhooks/from-file/deliveries'],
        ['POST', '/api/webhooks/from-file/resume'],
      ] as const) {
        const answer = await call(path, {
          key,
          method,
          ...(method === 'POST' ? { body: webhook('x', '/x') } : {}),
        })
        expect(answer.status, `${method} ${path}`).toBe(403)
      }
    }
    expect((await call('/api/webhooks', { key: '' })).status).toBe(401)
    const bad = [
      { ...webhook('b1', '/x'), url: 'javascript:alert(1)' },
      { ...webhook('b2', '/x'), url: 'ftp://127.0.0.1/x' },
      { ...webhook('b3', '/x'), url: 'not a url' },
      { ...webhook('b4', '/x'), url: `http://user:pass@127.0.0.1/x` },
      { ...webhook('b5', '/x'), url: `http://127.0.0.1/${'a'.repeat(5000)}` },
      { ...webhook('b6', '/x'), secret: 'short' },
      { ...webhook('b7', '/x'), events: [] },
      { ...webhook('b8', '/x'), events: ['ticket.exploded'] },
      { ...webhook('b9', '/x'), events: ['*'] },
      { ...webhook('b10', '/x'), sites: ['nowhere'] },
      { ...webhook('b11', '/x'), extra: true },
      { ...webhook('b12', '/x'), id: '../etc' },
      { ...webhook('b13', '/x'), events: Array(51).fill('ticket.created') },
    ]
    for (const body of bad) {
      const answer = await call('/api/webhooks', { method: 'POST', body })
      expect(answer.status, JSON.stringify(body).slice(0, 120)).toBe(400)
      expect(answer.json.error?.message).toBeTruthy()
    }
    expect((await call('/api/webhooks', { method: 'POST', body: '{"id":' })).status).toBe(400)
    const huge = await call('/api/webhooks', {
      method: 'POST',
      body: { ...webhook('big', '/x'), secret: 's'.repeat(2_000_000) },
    })
    expect(huge.status).toBe(413)
    expect((await call('/api/webhooks/from-file/deliveries?limit=0')).status).toBe(400)
    expect((await call('/api/webhooks/from-file/deliveries?cursor=garbage!')).status).toBe(400)
    expect((await call('/api/webhooks/from-file/deliveries/xyz/redeliver', { method: 'POST' })).status).toBe(
      400,
    )
    expect(
      (await call(`/api/webhooks/from-file/deliveries/${'0'.repeat(32)}/redeliver`, { method: 'POST' }))
        .status,
    ).toBe(404)
    // None of it was kept.
    expect(((await call('/api/webhooks')).json.items as unknown[]).length).toBe(2)
  })

  it('lists each attempt, pages them, and sends a delivery again with the same delivery id', async () => {
    await world.publish('door-1', { type: 'door', open: true })
    const [first] = await waitFor(() => (on('/ok').length === 1 ? on('/ok') : undefined), {
      what: 'ticket.created at /ok',
    })
    const delivery = String(first?.headers['x-vigie-delivery'])
    const page = await call('/api/webhooks/ok/deliveries')
    expect(page.json.items).toEqual([
      expect.objectContaining({
        delivery,
        type: 'ticket.created',
        attempt: 1,
        status: 200,
        outcome: 'delivered',
        error: null,
      }),
    ])
    expect(((page.json.items as Attempt[])[0]?.latencyMs ?? -1) >= 0).toBe(true)
    expect((await call(`/api/webhooks/ok/deliveries/${delivery}/redeliver`, { method: 'POST' })).status).toBe(
      202,
    )
    const again = await waitFor(() => (on('/ok').length === 2 ? on('/ok')[1] : undefined), {
      what: 'the redelivery',
    })
    expect([again.headers['x-vigie-delivery'], again.body]).toEqual([delivery, first?.body])
    const one = await call('/api/webhooks/ok/deliveries?limit=1')
    const two = await call(`/api/webhooks/ok/deliveries?limit=1&cursor=${one.json.next}`)
    expect(
      [...(one.json.items as Attempt[]), ...(two.json.items as Attempt[])].map((a) => [a.delivery, a.status]),
    ).toEqual([
      [delivery, 200],
      [delivery, 200],
    ])
    expect(two.json.next).toBeNull()
  })

  it('pauses a receiver failing for a day, tells the events stream, holds its deliveries, and sends them in order on resume', async () => {
    expect((await call('/api/webhooks', { method: 'POST', body: webhook('down', '/down') })).status).toBe(201)
    const [ticket] = (await world.api<{ items: { id: string }[] }>('/api/tickets')).items
    await world.api(`/api/tickets/${ticket?.id}/comment`, { method: 'POST', body: { text: 'first' } })
    await waitFor(() => on('/down').length >= 1, { what: 'a first failure' })
    clock.advance(day)
    const paused = await waitFor(
      async () => {
        const view = await call('/api/webhooks/down')
        return view.json.paused === true ? view : undefined
      },
      { what: 'the webhook paused' },
    )
    expect(paused.json.failingSince).toBeTruthy()
    const announced = await waitFor(async () => {
      const entries = await redis.xrange(`${world.prefix}events`, '-', '+')
      return entries.map(([, f]) => JSON.parse(f[1] ?? '{}')).find((e) => e.type === 'webhook.paused')
    })
    expect(announced).toMatchObject({ id: 'down', webhook: { id: 'down' }, reason: 'HTTP 500' })
    // The supervisor is told, once, by the notifier's delivery queue (the email's outcome is the SMTP's).
    const told = await waitFor(async () => {
      const page = await world.api<{ items: { template: string; recipient: string; ticket: null }[] }>(
        '/api/notifications',
      )
      const found = page.items.filter((n) => n.template === 'webhook-paused')
      return found.length > 0 ? found : undefined
    })
    expect(told).toMatchObject([{ recipient: 'sup-1', ticket: null }])
    await world.api(`/api/tickets/${ticket?.id}/comment`, { method: 'POST', body: { text: 'second' } })
    const attempts = (await call('/api/webhooks/down/deliveries')).json.items as Attempt[]
    expect(attempts[0]?.outcome).toBe('held')
    const before = on('/down').length
    failing = false
    expect((await call('/api/webhooks/down/resume', { method: 'POST' })).json).toEqual({ resumed: true })
    const delivered = await waitFor(
      () => {
        const ok = on('/down').filter((g) => g.status === 200)
        return ok.some((g) => g.body.includes('"second"')) ? ok : undefined
      },
      { what: 'the held deliveries after the resume' },
    )
    expect(on('/down').length).toBeGreaterThan(before)
    const comments = delivered
      .map((g) => JSON.parse(g.body))
      .filter((e) => e.type === 'ticket.commented')
      .map((e) => e.detail)
    expect(comments).toEqual(['first', 'second'])
    expect(new Set(delivered.map((g) => g.headers['x-vigie-delivery'])).size).toBe(delivered.length)
    expect((await call('/api/webhooks/down')).json.paused).toBe(false)
    expect((await call('/api/webhooks/down/resume', { method: 'POST' })).json).toEqual({ resumed: false })
  })
})
