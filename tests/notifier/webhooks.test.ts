import { createHmac, timingSafeEqual } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openClient } from '../../service/index.ts'
import { oneDoorSite } from '../support/one-door-site.ts'
import { testRedisUrl } from '../support/redis.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

// Issue 18, webhooks out, against a real HTTP receiver: what matches arrives once and signed, in order per
// ticket through failures, retried with the same delivery id; what does not match never arrives.
const secret = 'whsec-test-0123456789abcdef'

type Received = {
  path: string
  headers: IncomingHttpHeaders
  body: string
  status: number
  at: number
}

/** A receiver that keeps what it gets; `answer` picks each request's status (and headers). */
async function startReceiver(
  answer: (path: string, seen: Received[]) => { status: number; headers?: Record<string, string> },
) {
  const got: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const path = req.url ?? ''
      const { status, headers = {} } = answer(
        path,
        got.filter((r) => r.path === path),
      )
      got.push({
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status,
        at: Date.now(),
      })
      res.writeHead(status, headers).end(status < 300 ? 'ok' : 'no')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    got,
    on: (path: string) => got.filter((r) => r.path === path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** What a receiver does with X-Vigie-Signature (README § Webhooks out). */
function signatureValid(headers: IncomingHttpHeaders, body: string, key = secret): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers['x-vigie-signature']))
  if (!match) return false
  const [, t = '', v1 = ''] = match
  const expected = createHmac('sha256', key).update(`${t}.${body}`).digest()
  return Math.abs(Date.now() / 1000 - Number(t)) < 300 && timingSafeEqual(expected, Buffer.from(v1, 'hex'))
}

let receiver: Awaited<ReturnType<typeof startReceiver>>
let world: TestService
let redis: Redis
/** The events stream as it was once every delivery was in: [entry id, type, ticket or incident id, JSON]. */
let stream: { id: string; type: string; order: string; text: string }[]

const hook = (id: string, path: string, events: string[], sites?: string[]) =>
  `  - { id: ${id}, url: "URL${path}", secret: "${secret}", events: [${events.join(', ')}]${sites ? `, sites: [${sites.join(', ')}]` : ''} }`

const site = `${oneDoorSite.replace(
  'sites: [',
  'sites: [{ id: s2, name: Other, timezone: Europe/Paris, location: { lat: 48.0, lon: 2.0 } }, ',
)}
webhooks:
${hook('tickets', '/tickets', ['"ticket.*"'])}
${hook('resolved-only', '/resolved', ['ticket.resolved'])}
${hook('incidents-s1', '/incidents', ['incident.opened'], ['s1'])}
${hook('elsewhere', '/elsewhere', ['"ticket.*"', '"incident.*"'], ['s2'])}
${hook('flaky', '/flaky', ['"ticket.*"'])}
${hook('slow-down', '/slow-down', ['ticket.created'])}
${hook('broken', '/broken', ['ticket.created', 'ticket.offered'])}
`
const ticketTypes = (path: string) => receiver.on(path).map((r) => JSON.parse(r.body).type as string)

beforeAll(async () => {
  receiver = await startReceiver((path, seen) => {
    // flaky fails its first three requests; slow-down asks once for a second's wait; broken always fails.
    if (path === '/flaky' && seen.length < 3) return { status: 500 }
    if (path === '/slow-down' && seen.length === 0) return { status: 503, headers: { 'Retry-After': '1' } }
    if (path === '/broken') return { status: 500 }
    return { status: 200 }
  })
  world = await startTestService({
    site: site.replaceAll('URL', receiver.url),
    env: { WEBHOOK_RETRY_DELAY: '50ms', WEBHOOK_ATTEMPTS: '6' },
  })
  redis = await openClient(testRedisUrl(), 5000)
  await world.publish('door-1', { type: 'door', open: true })
  const ticket = await waitFor(
    async () =>
      (await world.api<{ items: { id: string; offer: unknown }[] }>('/api/tickets')).items.find(
        (t) => t.offer,
      ),
    { what: 'the ticket offered' },
  )
  for (const action of ['ack', 'en-route', 'on-site', 'resolve'])
    await world.api(`/api/tickets/${ticket.id}/${action}`, { method: 'POST' })
  // Every ticket event of the stream has reached the well-behaved receiver: the run is over.
  stream = await waitFor(
    async () => {
      const entries = await redis.xrange(`${world.prefix}events`, '-', '+')
      const events = entries.map(([id, fields]) => {
        const text = fields[1] ?? ''
        const event = JSON.parse(text) as { type: string; id: string }
        return { id, type: event.type, order: event.id, text, resolved: event.type === 'ticket.resolved' }
      })
      const ticketEvents = events.filter((e) => e.type.startsWith('ticket.'))
      return events.some((e) => e.resolved) &&
        receiver.on('/tickets').length === ticketEvents.length &&
        receiver.on('/flaky').filter((r) => r.status === 200).length === ticketEvents.length
        ? events
        : undefined
    },
    { what: 'every ticket event at the receiver', timeoutMs: 20_000 },
  )
}, 60_000)

afterAll(async () => {
  await world?.close()
  await receiver?.close()
  await redis?.quit()
})

describe('webhooks out', () => {
  it('POSTs every matching event once, as the events stream holds it, signed, with its type and delivery id', () => {
    const ticketEvents = stream.filter((e) => e.type.startsWith('ticket.'))
    expect(ticketEvents.map((e) => e.type)).toEqual(
      expect.arrayContaining(['ticket.created', 'ticket.offered', 'ticket.acknowledged', 'ticket.resolved']),
    )
    const got = receiver.on('/tickets')
    expect(got.map((r) => r.body)).toEqual(ticketEvents.map((e) => e.text))
    expect(new Set(got.map((r) => r.headers['x-vigie-delivery'])).size).toBe(got.length)
    for (const r of got) {
      expect(r.headers['content-type']).toBe('application/json')
      expect(r.headers['x-vigie-event']).toBe(JSON.parse(r.body).type)
      expect(r.headers['x-vigie-delivery']).toMatch(/^[0-9a-f]{32}$/)
      expect(signatureValid(r.headers, r.body), r.body).toBe(true)
      // The same body under another key, or another body under this signature, does not verify.
      expect(signatureValid(r.headers, r.body, `${secret}x`)).toBe(false)
      expect(signatureValid(r.headers, `${r.body} `)).toBe(false)
    }
  })

  it('sends only what a webhook asks for: exact types, prefixes and sites', () => {
    expect(ticketTypes('/resolved')).toEqual(['ticket.resolved'])
    expect(ticketTypes('/incidents')).toEqual(['incident.opened'])
    expect(receiver.on('/incidents')[0]?.body).toBe(stream.find((e) => e.type === 'incident.opened')?.text)
    expect(receiver.on('/elsewhere')).toEqual([])
  })

  it('retries after a 500 with the same delivery id, and keeps the order of a ticket while the receiver fails then recovers', () => {
    const got = receiver.on('/flaky')
    expect(got.slice(0, 3).map((r) => r.status)).toEqual([500, 500, 500])
    // The three failures were one delivery, the ticket's first event, sent again until it was taken.
    const first = got[0]?.headers['x-vigie-delivery']
    expect(got.slice(0, 4).map((r) => r.headers['x-vigie-delivery'])).toEqual([first, first, first, first])
    const delivered = got.filter((r) => r.status === 200)
    expect(delivered.map((r) => r.body)).toEqual(
      stream.filter((e) => e.type.startsWith('ticket.')).map((e) => e.text),
    )
    expect(new Set(delivered.map((r) => r.headers['x-vigie-delivery'])).size).toBe(delivered.length)
  })

  it("waits as long as a receiver's Retry-After asks", async () => {
    const [refused, retried] = await waitFor(
      () => (receiver.on('/slow-down').length === 2 ? receiver.on('/slow-down') : undefined),
      { what: 'the retry a second later' },
    )
    expect([refused?.status, retried?.status]).toEqual([503, 200])
    expect(retried?.headers['x-vigie-delivery']).toBe(refused?.headers['x-vigie-delivery'])
    // Backoff alone would have come back within 50 ms.
    expect((retried?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(900)
  })

  it('keeps a delivery that failed every attempt in failed work, then sends the next of its ticket', async () => {
    const got = await waitFor(
      () => (receiver.on('/broken').length === 12 ? receiver.on('/broken') : undefined),
      {
        what: 'six attempts of each of two events',
      },
    )
    expect(got.map((r) => JSON.parse(r.body).type)).toEqual([
      ...Array(6).fill('ticket.created'),
      ...Array(6).fill('ticket.offered'),
    ])
    // The last attempt's answer reaches the receiver before the worker files its failure: wait for both.
    const broken = await waitFor(
      async () => {
        const { items } = await world.api<{
          items: { source: string; reason: string; attempts: number; fields: Record<string, string> }[]
        }>('/api/failed-work')
        const found = items.filter((w) => w.fields.webhook === 'broken')
        return found.length >= 2 ? found : undefined
      },
      { what: 'both failures in failed work' },
    )
    expect(broken.map((w) => [w.source, w.reason, w.attempts, JSON.parse(w.fields.e ?? '{}').type])).toEqual([
      ['notifier', 'webhook broken: HTTP 500', 6, 'ticket.offered'],
      ['notifier', 'webhook broken: HTTP 500', 6, 'ticket.created'],
    ])
  })
})
