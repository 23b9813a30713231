import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeCursor } from '../../api/pagination.ts'
import type { Notification } from '../../notifier/index.ts'
import type { Ticket } from '../../rules/index.ts'
import { as, buildWholeApi, type WholeApi } from './whole-api.ts'

let api: WholeApi
beforeAll(async () => {
  api = await buildWholeApi()
})
afterAll(async () => {
  await api.close()
})

type Listed<Item = { id: string }> = { items: Item[]; next: string | null }

async function get<Item = { id: string }>(url: string): Promise<Listed<Item>> {
  const res = await api.app.inject({ method: 'GET', url, headers: as('viewer') })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

/** Follows next to the end; the page sizes and every id, in order. */
async function pages(url: string, limit: number): Promise<{ sizes: number[]; ids: string[] }> {
  const join = url.includes('?') ? '&' : '?'
  const sizes: number[] = []
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const page: Listed = await get(`${url}${join}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
    sizes.push(page.items.length)
    ids.push(...page.items.map((item) => item.id))
    cursor = page.next
  } while (cursor !== null && sizes.length < 100)
  return { sizes, ids }
}

/** Newest first, as the sorted set orders them: by time, then id, both descending. */
const newestFirst = (a: Ticket, b: Ticket) =>
  Date.parse(b.createdAt) - Date.parse(a.createdAt) || Buffer.compare(Buffer.from(b.id), Buffer.from(a.id))

async function refused(url: string): Promise<void> {
  const res = await api.app.inject({ method: 'GET', url, headers: as('viewer') })
  expect([res.statusCode, res.json().error.code], url).toEqual([400, 'VALIDATION_FAILED'])
}

describe('GET /api/tickets pages', () => {
  const t0 = Date.parse('2031-03-01T08:00:00Z')
  const made: Ticket[] = []

  beforeAll(async () => {
    // Three tickets to a millisecond: the cursor must also order by id within one time.
    for (let i = 0; i < 25; i++)
      made.push(await api.ticket({}, t0 + Math.floor(i / 3) * 1000, i % 2 ? 'door-odd' : 'door-even'))
  })

  it('pages 25 tickets by 10: 10, 10, 5, newest first, each once, next null at the end', async () => {
    const { sizes, ids } = await pages('/api/tickets', 10)
    expect(sizes).toEqual([10, 10, 5])
    expect(ids).toEqual(made.toSorted(newestFirst).map((t) => t.id))
  })

  it('keeps page 2 where it was when a ticket is created after page 1 is read', async () => {
    const first = await get('/api/tickets?limit=10')
    await api.ticket({}, t0 + 60_000)
    const second = await get(`/api/tickets?limit=10&cursor=${first.next}`)
    expect(second.items.map((t) => t.id)).toEqual(
      made
        .toSorted(newestFirst)
        .slice(10, 20)
        .map((t) => t.id),
    )
    expect((await get('/api/tickets?limit=1')).items[0]?.id).not.toBe(first.items[0]?.id)
  })

  it('applies the filters on every page', async () => {
    const odd = made.filter((t) => t.device === 'door-odd').toSorted(newestFirst)
    const { sizes, ids } = await pages('/api/tickets?device=door-odd&status=open', 5)
    expect(sizes).toEqual([5, 5, 2])
    expect(ids).toEqual(odd.map((t) => t.id))
    expect((await pages('/api/tickets?device=door-odd&status=resolved', 5)).sizes).toEqual([0])
  })

  it('refuses a cursor it did not give, malformed or tampered, with 400', async () => {
    const { next } = await get('/api/tickets?limit=3')
    expect(next).toEqual(expect.any(String))
    for (const cursor of [
      'not a cursor!',
      'bm90IGpzb24',
      encodeCursor({ score: 1, id: 'x' }),
      encodeCursor(['door-1']),
      `${next}A`,
      `${next?.slice(0, -2)}`,
    ])
      await refused(`/api/tickets?cursor=${encodeURIComponent(cursor)}`)
  })
})

describe('GET /api/devices pages', () => {
  it('pages devices by id, and one added before the cursor shifts nothing', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `pager-${String(i).padStart(2, '0')}`)
    for (const id of ids.toReversed()) await api.ingest.registry.add({ id, kind: 'door', site: 'cdg-t2' })
    const first = await get('/api/devices?limit=10')
    expect(first.items.map((d) => d.id)).toEqual(ids.slice(0, 10))
    await api.ingest.registry.add({ id: 'pager-00a', kind: 'door', site: 'cdg-t2' })
    const second = await get(`/api/devices?limit=10&cursor=${first.next}`)
    expect(second.items.map((d) => d.id)).toEqual(ids.slice(10, 20))
    const third = await get(`/api/devices?limit=10&cursor=${second.next}`)
    expect([third.items.map((d) => d.id), third.next]).toEqual([ids.slice(20), null])
    await refused('/api/devices?cursor=%2F%2F')
    await refused(`/api/devices?cursor=${encodeCursor([1, 'pager-01'])}`)
  })
})

describe('GET /api/notifications pages', () => {
  const notification = (id: string, ticket: string | null): Notification => ({
    id,
    ticket,
    event: 'ticket.offered',
    audience: 'staff',
    recipient: 'tech-amina',
    channel: 'sms',
    to: '+33600000001',
    template: 'offer',
    status: 'queued',
    attempts: 0,
    sentAt: null,
    sendStartedAt: null,
    providerId: null,
    error: null,
  })

  it('lists every ticket’s notifications newest first, by pages, and one ticket’s oldest first', async () => {
    const opened: string[] = []
    for (let i = 0; i < 25; i++) {
      const id = `page-note-${String(i).padStart(2, '0')}`
      await api.notifications.open(notification(id, i % 5 === 0 ? 'ticket-five' : `ticket-${i}`), Date.now())
      opened.push(id)
    }
    const { sizes, ids } = await pages('/api/notifications', 10)
    expect(sizes).toEqual([10, 10, 5])
    // Opened in order, each at a time no earlier than the one before: newest first is the reverse.
    expect(ids).toEqual(opened.toReversed())

    const first = await get('/api/notifications?limit=10')
    await api.notifications.open(notification('page-note-late', 'ticket-late'), Date.now())
    const second = await get(`/api/notifications?limit=10&cursor=${first.next}`)
    expect(second.items.map((n) => n.id)).toEqual(opened.toReversed().slice(10, 20))
    expect((await get('/api/notifications?limit=1')).items[0]?.id).toBe('page-note-late')

    const ofTicket = await pages('/api/notifications?ticket=ticket-five', 2)
    expect(ofTicket).toEqual({ sizes: [2, 2, 1], ids: opened.filter((_, i) => i % 5 === 0) })
    await refused('/api/notifications?cursor=e30')
  })

  it('masks the recipient on the all-tickets list too', async () => {
    await api.notifications.open(notification('page-note-masked', 'ticket-masked'), Date.now())
    const [latest] = (await get<Notification>('/api/notifications?limit=1')).items
    expect(latest).toMatchObject({ id: 'page-note-masked', to: '+33•••••••01' })
  })
})

describe('the other lists page too', () => {
  it('pages incidents, readings, dead letters, technicians and maintenance windows to the end', async () => {
    const incidents = await pages('/api/incidents', 7)
    expect(new Set(incidents.ids).size).toBe(incidents.ids.length)
    expect(incidents.ids).toEqual((await api.incidents.list(1000)).map((i) => i.id))

    await api.ingest.registry.add({ id: 'temp-pager', kind: 'temperature', site: 'cdg-t2' })
    const t0 = Date.parse('2031-03-01T08:00:00Z')
    for (let seq = 1; seq <= 7; seq++)
      await api.ingest.accept({
        topic: 'devices/temp-pager/telemetry',
        payload: Buffer.from(JSON.stringify({ type: 'temperature', celsius: 20 + seq, seq })),
        receivedAt: t0 + seq,
        kind: 'temperature',
      })
    const readings: number[] = []
    let cursor: string | null = ''
    while (cursor !== null) {
      const page: Listed<{ seq: number }> = await get(
        `/api/devices/temp-pager/readings?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      )
      readings.push(...page.items.map((r) => r.seq))
      cursor = page.next
    }
    expect(readings).toEqual([7, 6, 5, 4, 3, 2, 1])
    await refused('/api/devices/temp-pager/readings?cursor=MTIz')
    await refused(`/api/dead-letters?cursor=${encodeCursor('12-x')}`)

    const technicians = await pages('/api/technicians', 4)
    expect(technicians.ids).toEqual((await api.roster.list()).map((t) => t.id).sort())
    expect(technicians.sizes.slice(0, -1).every((size) => size === 4)).toBe(true)

    const startsAt = Date.now()
    for (let i = 0; i < 5; i++)
      await api.maintenance.create({
        scope: { site: 'cdg-t2' },
        startsAt,
        endsAt: Date.now() + 3_600_000,
        reason: `page ${i}`,
        createdBy: 'test',
      })
    const windows = await pages('/api/maintenance-windows', 2)
    expect(windows.sizes).toEqual([2, 2, 1])
    expect(windows.ids).toEqual((await api.maintenance.list()).map((w) => w.id).sort())
  })
})
