import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeCursor } from '../../api/pagination.ts'
import { openClient } from '../../service/index.ts'
import { createFailedWorkLog, streamKeys } from '../../streams/index.ts'
import { oneDoorSite } from '../support/one-door-site.ts'
import { testRedisUrl } from '../support/redis.ts'
import { startTestService, type TestService } from '../support/test-service.ts'

// Issue 16's new surfaces, fed what a careless or hostile client sends: the failed-work log, the dry run
// (its body parsed in a worker thread) and customer paging. A refusal is a 4xx that says why, never a 500.
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
const adminKey = 'admin-key-issue16-surfaces-0123'
const viewerKey = 'viewer-key-issue16-surfaces-012'
const dispatcherKey = 'dispatcher-key-issue16-surface'
const customerIds = Array.from({ length: 23 }, (_, i) =>
  // Ids that sort differently by bytes and by locale: capitals, dots, dashes, underscores.
  ['cust', 'Cust', 'c.', 'c-', 'c_'][i % 5]?.concat(String(i).padStart(2, '0')),
)
const site = `${oneDoorSite}customers:
${customerIds.map((id) => `  - { id: "${id}", name: "${id}", contacts: [{ email: "${id}@example.com" }], subscribes: { sites: [s1] } }`).join('\n')}
apiKeys:
  - { name: wall, keyHash: "${sha256(viewerKey)}", role: viewer }
  - { name: console, keyHash: "${sha256(dispatcherKey)}", role: dispatcher }
`

type Answer = {
  status: number
  json: { error?: { code: string; message: string } } & Record<string, unknown>
}

let world: TestService
let redis: Redis

beforeAll(async () => {
  world = await startTestService({ site, adminKey })
  redis = await openClient(testRedisUrl(), 5000)
})
afterAll(async () => {
  await world?.close()
  await redis?.quit()
})

async function call(
  path: string,
  { key, method = 'GET', body, type }: { key?: string; method?: string; body?: string; type?: string } = {},
): Promise<Answer> {
  const res = await fetch(`${world.publicUrl}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': type ?? 'application/json' } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  })
  const text = await res.text()
  return { status: res.status, json: text ? JSON.parse(text) : {} }
}

/** Each of these queries is refused with a 400 that names the parameter at fault. */
async function refusedAll(path: string, queries: string[], key = adminKey) {
  const answers = await Promise.all(queries.map((q) => call(`${path}?${q}`, { key })))
  const shown = queries.map(
    (q, i) => `${q.slice(0, 60)} → ${answers[i]?.status} ${answers[i]?.json.error?.message}`,
  )
  expect(
    answers.map((a) => a.status),
    shown.join('\n'),
  ).toEqual(queries.map(() => 400))
  for (const answer of answers) {
    expect(answer.json.error?.code).toMatch(/^(VALIDATION_FAILED|BAD_REQUEST)$/)
    expect(answer.json.error?.message).toBeTruthy()
  }
}

/** The service still answers its health check and a plain dry run after what a test threw at it. */
async function stillServing() {
  expect((await call('/healthz')).status).toBe(200)
  const plain = await call('/api/rules/dry-run', {
    key: adminKey,
    method: 'POST',
    body: JSON.stringify({ readings: [{ device: 'door-1', type: 'door', open: true, ts: Date.now() }] }),
  })
  expect(plain.status).toBe(200)
  expect(plain.json.incidents).toEqual([expect.objectContaining({ rule: 'door-forced' })])
}

const hugeNumber = '99999999999999999999'

describe('GET /api/failed-work', () => {
  it('answers 401 without a key and 403 to a viewer or a dispatcher', async () => {
    expect((await call('/api/failed-work')).status).toBe(401)
    const viewer = await call('/api/failed-work', { key: viewerKey })
    const dispatcher = await call('/api/failed-work', { key: dispatcherKey })
    expect([viewer.status, dispatcher.status]).toEqual([403, 403])
    expect(viewer.json.error?.code).toBe('AUTH_FORBIDDEN')
    // What is refused says nothing of what the log holds.
    expect(JSON.stringify(viewer.json)).not.toContain('items')
  })

  it('refuses bad limits and cursors with 400, a cursor past the largest stream id included', async () => {
    await refusedAll('/api/failed-work', [
      'limit=-1',
      'limit=0',
      'limit=1e9',
      'limit=1.5',
      'limit=abc',
      'limit=',
      'limit=1&limit=2',
      'cursor=garbage!',
      `cursor=${'A'.repeat(5000)}`,
      `cursor=${encodeCursor('not-an-id')}`,
      `cursor=${encodeCursor(['1-0'])}`,
      // Shaped like a stream id, but past 2^64 - 1 or before the first id: Redis refuses both ranges.
      `cursor=${encodeCursor(`${hugeNumber}-0`)}`,
      `cursor=${encodeCursor(`1-${hugeNumber}`)}`,
      `cursor=${encodeCursor('0-0')}`,
    ])
  })

  it('refuses the same out-of-range cursors on the other stream lists', async () => {
    const cursors = [`${hugeNumber}-0`, '0-0'].map((id) => `cursor=${encodeCursor(id)}`)
    await refusedAll('/api/dead-letters', cursors)
    await refusedAll('/api/devices/door-1/readings', cursors)
  })

  it('pages what was given up, each record once, with the cursors it gives', async () => {
    const log = createFailedWorkLog({ redis, keys: streamKeys(world.prefix) })
    const multi = redis.multi()
    for (let i = 0; i < 5; i++)
      log.recordInto(multi, {
        source: 'notifier',
        stream: `${world.prefix}events`,
        entry: `${i + 1}-0`,
        fields: { e: String(i) },
        reason: 'boom',
        attempts: 5,
        at: Date.now(),
      })
    await multi.exec()
    const entries: string[] = []
    let cursor: string | null = null
    do {
      const page: Answer = await call(`/api/failed-work?limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
        key: adminKey,
      })
      expect(page.status).toBe(200)
      entries.push(...(page.json.items as { entry: string }[]).map((w) => w.entry))
      cursor = page.json.next as string | null
    } while (cursor !== null && entries.length < 10)
    expect(entries).toEqual(['5-0', '4-0', '3-0', '2-0', '1-0'])
    // The largest id there is still pages: nothing lies after it.
    const last = await call(
      `/api/failed-work?cursor=${encodeCursor('18446744073709551615-18446744073709551615')}`,
      {
        key: adminKey,
      },
    )
    expect(last.status).toBe(200)
    expect((last.json.items as unknown[]).length).toBe(5)
  })
})

describe('POST /api/rules/dry-run, fed hostile bodies', () => {
  const dryRun = (body: string, type?: string) =>
    call('/api/rules/dry-run', { key: adminKey, method: 'POST', body, ...(type ? { type } : {}) })

  it('answers 413 to a body over 1 MiB, then serves on', async () => {
    const reading = JSON.stringify({ device: 'door-1', type: 'door', open: true, ts: 1 })
    const big = `{"readings":[${Array.from({ length: 25_000 }, () => reading).join(',')}]}`
    expect(big.length).toBeGreaterThan(1_048_576)
    const answer = await dryRun(big)
    expect(answer.status).toBe(413)
    expect(answer.json.error?.code).toBe('PAYLOAD_TOO_LARGE')
    await stillServing()
  })

  it('answers 400 naming the fault to malformed JSON, and 415 to YAML, then serves on', async () => {
    for (const body of ['{"readings": [', '{readings: []}', 'null', '"text"', '[1,2]', '{"readings": 1}']) {
      const answer = await dryRun(body)
      expect([answer.status, body]).toEqual([400, body])
      expect(answer.json.error?.message).toMatch(/not JSON|Invalid body/)
    }
    const yaml = await dryRun('readings:\n  - { device: door-1, ts: 1 }\n', 'application/yaml')
    expect(yaml.status).toBe(415)
    expect(yaml.json.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE')
    await stillServing()
  })

  it('refuses a billion-laughs alias bomb and a deeply nested document within seconds, then serves on', async () => {
    const laughs = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      ...Array.from({ length: 9 }, (_, i) => {
        const prev = String.fromCharCode(97 + i)
        const next = String.fromCharCode(98 + i)
        return `${next}: &${next} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`
      }),
      'readings: *j',
    ].join('\n')
    const depth = 400_000
    const nestedArrays = `{"readings":[${'['.repeat(depth)}${']'.repeat(depth)}]}`
    const nestedObjects = `{"readings":[{"device":"door-1","type":"door","open":true,"ts":1,"x":${'{"a":'.repeat(depth / 4)}1${'}'.repeat(depth / 4)}}]}`
    // JSON only: YAML is refused before it is parsed, so no alias is ever expanded; JSON has no aliases.
    const cases = [
      ['an alias bomb sent as YAML', laughs, 'application/yaml', 415, { code: 'UNSUPPORTED_MEDIA_TYPE' }],
      ['an alias bomb sent as JSON', laughs, 'application/json', 400, { code: 'VALIDATION_FAILED' }],
      // Parsed in the thread without recursion; the reading is refused by its index, the run bounded.
      ['arrays nested 400,000 deep', nestedArrays, 'application/json', 200, [0, 'expected a JSON object']],
      ['objects nested 100,000 deep', nestedObjects, 'application/json', 200, [0, 'x: unknown key']],
    ] as const
    for (const [what, body, type, status, expected] of cases) {
      const started = Date.now()
      const answer = await dryRun(body, type)
      const ms = Date.now() - started
      const shown = `${what}: ${answer.status} ${JSON.stringify(answer.json).slice(0, 200)} in ${ms} ms`
      expect(answer.status, shown).toBe(status)
      if (Array.isArray(expected)) {
        const [index, reason] = expected
        expect(answer.json, shown).toEqual({ incidents: [], rejected: [{ index, reason }] })
      } else {
        expect(answer.json.error, shown).toMatchObject(expected)
        expect(answer.json.error?.message, shown).toBeTruthy()
      }
      expect(ms, shown).toBeLessThan(5000)
      await stillServing()
    }
  })
})

describe('GET /api/customers paging', () => {
  it('refuses a bad limit or cursor with 400', async () => {
    await refusedAll(
      '/api/customers',
      [
        'limit=0',
        'limit=-5',
        'limit=1e9',
        'limit=99999999999999999999999',
        'limit=NaN',
        'cursor=%00%01',
        'cursor=..%2F..%2F',
        `cursor=${'x'.repeat(10_000)}`,
        `cursor=${encodeCursor(['x'.repeat(300)])}`,
        `cursor=${encodeCursor([''])}`,
        `cursor=${encodeCursor('cust00')}`,
      ],
      viewerKey,
    )
  })

  it('answers an "after" it does not know with 400 rather than the first page again', async () => {
    // A client paging with after= would otherwise get page one forever.
    for (const after of ['cust05', '%E2%80%AE%F0%9F%92%A3', '(', '+', `${'z'.repeat(5000)}`]) {
      const answer = await call(`/api/customers?limit=5&after=${after}`, { key: viewerKey })
      expect([after.slice(0, 20), answer.status]).toEqual([after.slice(0, 20), 400])
      expect(answer.json.error?.message).toBeTruthy()
    }
  })

  it('answers an empty page after a cursor past every id, whatever its characters', async () => {
    for (const last of ['\u{10FFFF}', '~~~', 'ÿ', '(', '[', '+', '-', '\\']) {
      const answer = await call(`/api/customers?cursor=${encodeCursor([last])}`, { key: viewerKey })
      expect([last, answer.status]).toEqual([last, 200])
      expect(answer.json.items, last).toBeInstanceOf(Array)
    }
    const past = await call(`/api/customers?cursor=${encodeCursor(['\u{10FFFF}'])}`, { key: viewerKey })
    expect(past.json).toEqual({ items: [], next: null })
  })

  it('pages through every customer exactly once, at every page size', async () => {
    for (const limit of [1, 4, 7, 23, 1000]) {
      const ids: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const page: Answer = await call(`/api/customers?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, {
          key: viewerKey,
        })
        expect(page.status).toBe(200)
        ids.push(...(page.json.items as { id: string }[]).map((c) => c.id))
        cursor = page.json.next as string | null
        pages++
      } while (cursor !== null && pages < 50)
      expect(ids.length, `limit ${limit}`).toBe(customerIds.length)
      expect(new Set(ids), `limit ${limit}`).toEqual(new Set(customerIds))
      expect(pages, `limit ${limit}`).toBe(Math.max(1, Math.ceil(customerIds.length / limit)))
    }
  })
})
