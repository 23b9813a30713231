import { createHash } from 'node:crypto'
import { Agent } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { oneDoorSite } from '../support/one-door-site.ts'
import { httpFrom, rawSocket, recordUntilClosed } from '../support/raw-http.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

// Issue 15, "Hostile input and overload", HTTP: rate limits, timeouts, a connection cap, answer headers.

const viewerKey = 'viewer-key-hostile-http-0123456'
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
const site = `${oneDoorSite}apiKeys: [{ name: wall, keyHash: "${sha256(viewerKey)}", role: viewer }]
`
const attacker = '127.0.0.2'
const bystander = '127.0.0.1'
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

/** Runs `count` calls, at most `width` at a time, and returns their results in order. */
async function inParallel<T>(count: number, width: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count)
  let next = 0
  const lane = async () => {
    while (next < count) {
      const i = next++
      results[i] = await call(i)
    }
  }
  await Promise.all(Array.from({ length: width }, lane))
  return results
}

const tally = (statuses: number[]) =>
  statuses.reduce<Record<number, number>>((acc, s) => {
    acc[s] = (acc[s] ?? 0) + 1
    return acc
  }, {})

describe('rate limits', () => {
  let world: TestService
  const metricsToken = 'metrics-token-hostile-0123456789'

  beforeAll(async () => {
    world = await startTestService({ site, env: { RATE_LIMIT_HEAVY: '5', METRICS_TOKEN: metricsToken } })
  })
  afterAll(() => world.close())

  it('answers 429 to an address past 30 wrong keys a minute, its good key included, and not to others', async ({
    annotate,
  }) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 25 })
    const started = Date.now()
    const statuses = await inParallel(2500, 25, async (i) => {
      const answer = await httpFrom(`${world.publicUrl}/api/tickets`, {
        from: attacker,
        headers: bearer(`wrong-key-${i}`),
        agent,
      })
      return answer.status
    })
    agent.destroy()
    const seconds = (Date.now() - started) / 1000
    const counts = tally(statuses)
    const figures = `2,500 wrong keys in ${seconds.toFixed(1)} s: ${JSON.stringify(counts)}`
    await annotate(figures)
    // The read and the count of a failure are two steps: at most one request per lane slips past the limit.
    expect(counts[401] ?? 0, figures).toBeGreaterThanOrEqual(30)
    expect(counts[401] ?? 0, figures).toBeLessThanOrEqual(30 + 25)
    expect((counts[401] ?? 0) + (counts[429] ?? 0), figures).toBe(2500)

    const blocked = await httpFrom(`${world.publicUrl}/api/tickets`, {
      from: attacker,
      headers: bearer(viewerKey),
    })
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0)
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60)
    expect(JSON.parse(blocked.body)).toMatchObject({ error: { code: 'RATE_LIMITED' } })
    // Without HTTP_TRUST_PROXY, a forged X-Forwarded-For changes nothing.
    const forged = await httpFrom(`${world.publicUrl}/api/tickets`, {
      from: attacker,
      headers: { ...bearer(viewerKey), 'x-forwarded-for': '10.9.8.7' },
    })
    expect(forged.status).toBe(429)
    const upgrade = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${world.publicUrl.replace(/^http/, 'ws')}/ws`, {
        headers: bearer(viewerKey),
        localAddress: attacker,
      })
      socket.once('open', () => {
        socket.terminate()
        resolve(101)
      })
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
    })
    expect(upgrade).toBe(429)

    const other = await httpFrom(`${world.publicUrl}/api/tickets`, {
      from: bystander,
      headers: bearer(viewerKey),
    })
    expect(other.status).toBe(200)
  })

  it('answers 429 to a key past its share of an expensive route, and not to another key', async () => {
    const kpis = (key: string) =>
      httpFrom(`${world.publicUrl}/api/kpis`, { from: bystander, headers: bearer(key) })
    const statuses = []
    for (let i = 0; i < 8; i++) statuses.push((await kpis(viewerKey)).status)
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
    expect((await kpis('test-service-admin-key-0123456')).status).toBe(200)
  })

  it('puts nosniff and no-store on every /api answer, refusals included', async () => {
    const answers = [
      await httpFrom(`${world.publicUrl}/api/sites`, { from: bystander, headers: bearer(viewerKey) }),
      await httpFrom(`${world.publicUrl}/api/sites`, { from: bystander }),
      await httpFrom(`${world.publicUrl}/api/nothing-here`, { from: bystander, headers: bearer(viewerKey) }),
      await httpFrom(`${world.publicUrl}/api/tickets`, { from: attacker, headers: bearer(viewerKey) }),
    ]
    for (const answer of answers) {
      expect(answer.headers['x-content-type-options']).toBe('nosniff')
      expect(answer.headers['cache-control']).toBe('no-store')
    }
    expect(answers.map((a) => a.status)).toEqual([200, 401, 404, 429])
    // The console's files keep their own caching.
    const page = await httpFrom(`${world.publicUrl}/`, { from: bystander })
    expect(page.headers['cache-control']).toBe('no-cache')
  })

  it('asks for METRICS_TOKEN on /metrics when it is set', async () => {
    const metrics = (headers: Record<string, string>) =>
      httpFrom(`${world.publicUrl}/metrics`, { from: bystander, headers })
    expect((await metrics({})).status).toBe(401)
    expect((await metrics(bearer('metrics-token-hostile-0123456780'))).status).toBe(401)
    expect((await metrics(bearer(viewerKey))).status).toBe(401)
    const granted = await metrics(bearer(metricsToken))
    expect(granted.status).toBe(200)
    expect(granted.body).toMatch(/^vigie_readings_stored_total 0$/m)
  })
})

describe('rate limits across two processes sharing Redis', () => {
  let first: TestService
  let second: TestService

  beforeAll(async () => {
    // Both behind a proxy at 127.0.0.1 that names its clients in X-Forwarded-For.
    const env = { RATE_LIMIT_HEAVY: '4', HTTP_TRUST_PROXY: '127.0.0.1' }
    first = await startTestService({ site, env })
    second = await startTestService({ site, env: { ...env, REDIS_PREFIX: first.prefix } })
  })
  afterAll(async () => {
    await second.close()
    await first.close()
  })

  it('counts wrong keys sent to either toward one limit', async () => {
    const wrong = (world: TestService, i: number) =>
      httpFrom(`${world.publicUrl}/api/incidents`, { from: attacker, headers: bearer(`wrong-${i}`) })
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) statuses.push((await wrong(i % 2 === 0 ? first : second, i)).status)
    expect(statuses.every((s) => s === 401)).toBe(true)
    expect((await wrong(first, 30)).status).toBe(429)
    expect((await wrong(second, 31)).status).toBe(429)
    const good = await httpFrom(`${second.publicUrl}/api/incidents`, {
      from: attacker,
      headers: bearer(viewerKey),
    })
    expect(good.status).toBe(429)
  })

  it('tells the clients of a trusted proxy apart by X-Forwarded-For', async () => {
    const via = (client: string, key: string) =>
      httpFrom(`${first.publicUrl}/api/incidents`, {
        from: bystander,
        headers: { ...bearer(key), 'x-forwarded-for': client },
      })
    for (let i = 0; i < 30; i++) expect((await via('192.0.2.7', `wrong-${i}`)).status).toBe(401)
    expect((await via('192.0.2.7', viewerKey)).status).toBe(429)
    expect((await via('192.0.2.8', viewerKey)).status).toBe(200)
  })

  it("counts a key's calls to an expensive route on either toward one limit", async () => {
    const kpis = (world: TestService) =>
      httpFrom(`${world.publicUrl}/api/kpis`, { from: bystander, headers: bearer(viewerKey) })
    const statuses = []
    for (const world of [first, second, first, second, first, second])
      statuses.push((await kpis(world)).status)
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429])
  })
})

describe('timeouts and the connection cap', () => {
  let world: TestService

  beforeAll(async () => {
    world = await startTestService({
      site,
      env: { HTTP_REQUEST_TIMEOUT: '1500ms', HTTP_HEADERS_TIMEOUT: '1s', HTTP_MAX_CONNECTIONS: '20' },
    })
  })
  afterAll(() => world.close())

  /** Writes one byte of `text` every 100 ms until the socket closes or the deadline passes. */
  async function trickle(head: string, text: string, { deadlineMs }: { deadlineMs: number }) {
    const socket = await rawSocket(world.publicUrl)
    const record = recordUntilClosed(socket)
    const started = Date.now()
    socket.write(head)
    let sent = 0
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(text[sent++ % text.length] ?? ' ')
    }, 100)
    const closedAt = await Promise.race([
      record.closed,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), deadlineMs)),
    ])
    clearInterval(timer)
    socket.destroy()
    return { ms: closedAt === null ? null : closedAt - started, sent, answer: record.received() }
  }

  it('cuts off a body trickled a byte at a time once the request timeout passes', async ({ annotate }) => {
    const head = [
      'POST /api/rules/dry-run HTTP/1.1',
      'Host: vigie',
      'Authorization: Bearer test-service-admin-key-0123456',
      'Content-Type: application/json',
      'Content-Length: 100000',
      '',
      '',
    ].join('\r\n')
    const result = await trickle(head, ' ', { deadlineMs: 5000 })
    const figures = `trickled body: ${result.sent} bytes in, ${result.ms === null ? 'still open after 5 s' : `closed after ${result.ms} ms`}`
    await annotate(figures)
    expect(result.ms, figures).not.toBeNull()
    expect(result.ms ?? 0, figures).toBeGreaterThanOrEqual(1400)
    expect(result.ms ?? Infinity, figures).toBeLessThan(3500)
    expect(result.answer).toMatch(/^HTTP\/1\.1 408/)
  })

  it('cuts off headers trickled a byte at a time once the headers timeout passes', async ({ annotate }) => {
    const result = await trickle('GET /healthz HTTP/1.1\r\nHost: vigie\r\n', 'X-Slow: a\r\n', {
      deadlineMs: 5000,
    })
    const figures = `trickled headers: ${result.sent} bytes in, ${result.ms === null ? 'still open after 5 s' : `closed after ${result.ms} ms`}`
    await annotate(figures)
    expect(result.ms, figures).not.toBeNull()
    expect(result.ms ?? Infinity, figures).toBeLessThan(3000)
    expect(result.answer).toMatch(/^HTTP\/1\.1 408/)
  })

  it('closes a connection that sends nothing once the headers timeout passes', async () => {
    const socket = await rawSocket(world.publicUrl)
    const record = recordUntilClosed(socket)
    const started = Date.now()
    const closedAt = await Promise.race([
      record.closed,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000)),
    ])
    socket.destroy()
    expect(closedAt === null ? null : closedAt - started).toBeLessThan(3000)
  })

  it('refuses connections past HTTP_MAX_CONNECTIONS and takes them again once some close', async ({
    annotate,
  }) => {
    const open = []
    let refusedAt: number | null = null
    for (let i = 0; i < 60 && refusedAt === null; i++) {
      const socket = await rawSocket(world.publicUrl)
      const record = recordUntilClosed(socket)
      socket.write('GET /healthz HTTP/1.1\r\nHost: vigie\r\n\r\n')
      // Answered (kept alive), or closed unanswered.
      const answered = await Promise.race([
        waitFor(() => record.received().includes('\r\n\r\n'), { timeoutMs: 5000, what: 'an answer' }),
        record.closed.then(() => false),
      ])
      if (answered) open.push(socket)
      else refusedAt = i
    }
    await annotate(`${open.length} kept-alive connections accepted, refused at #${refusedAt}`)
    expect(refusedAt).toBe(20)
    expect(open).toHaveLength(20)
    for (const socket of open.splice(0, 5)) socket.destroy()
    await waitFor(
      async () =>
        (await fetch(`${world.publicUrl}/healthz`, { headers: { connection: 'close' } })).status === 200,
      { what: 'a connection taken again' },
    )
    for (const socket of open) socket.destroy()
  })
})
