import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createReadiness } from '../../api/index.ts'
import { loadConfig } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import {
  createLinkSigner,
  createNotificationStore,
  type LinkSigner,
  notificationKeys,
} from '../../notifier/index.ts'
import {
  createDispatcher,
  createIncidentStore,
  createTechnicianRoster,
  createTicketStore,
  type Dispatcher,
  type IncidentStore,
  ruleKeys,
  type TechnicianRoster,
  type Ticket,
  type TicketStore,
} from '../../rules/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'

const { site } = loadConfig({ env: {} })
let app: FastifyInstance
let redis: Redis
let links: LinkSigner
let incidents: IncidentStore
let tickets: TicketStore
let roster: TechnicianRoster
let dispatcher: Dispatcher

beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  const keys = ruleKeys(opened.prefix)
  roster = createTechnicianRoster({ redis, keys, technicians: site.technicians })
  await roster.seed()
  incidents = createIncidentStore({ redis, keys })
  tickets = createTicketStore({ redis, keys, sla: site.sla })
  dispatcher = createDispatcher({
    redis,
    keys,
    tickets,
    roster,
    world: site,
    placeOf: async () => ({ lat: 49.0031, lon: 2.5696 }),
  })
  links = await createLinkSigner({ redis, key: `${opened.prefix}link-secret` })
  app = await buildApi({
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    apiKeys: [],
    readiness: createReadiness(),
    world: site,
    tickets,
    dispatcher,
    roster,
    engage: {
      notifications: createNotificationStore({ redis, keys: notificationKeys(opened.prefix) }),
      links,
    },
  })
  await app.ready()
})
afterAll(async () => {
  await app.close()
  await redis.quit()
})

let n = 0
/** A forced door at gate 1, offered to the nearest security technician on shift now. */
async function offeredTicket(): Promise<{ ticket: Ticket; technician: string; other: string }> {
  const rule = site.rules.find((r) => r.id === 'door-forced')
  if (!rule) throw new Error('the demo has door-forced')
  n++
  const place = {
    rule,
    correlationKey: `door-forced:page-${n}`,
    site: 'cdg-t2',
    zone: 't2-gates',
    device: 'door-gate-1',
  }
  const { ticket } = await tickets.openFor(await incidents.raise(place, Date.now(), true), Date.now())
  const offered = await dispatcher.dispatch(ticket.id, Date.now())
  const technician = offered?.offer?.technician
  if (!offered || !technician) throw new Error('nobody was offered the ticket')
  const other = site.technicians.find((t) => t.id !== technician)?.id ?? ''
  return { ticket: offered, technician, other }
}

const tokenFor = (ticket: string, technician: string, exp = Date.now() + 600_000) =>
  links.sign({ ticket, technician, exp })
const press = (token: string, action: string, form = '') =>
  app.inject({
    method: 'POST',
    url: `/t/${token}/${action}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form,
  })

describe('the technician page behind /t/<token>', () => {
  it('shows what, where, the camera link and Accept/Decline to the technician offered it, behind a strict policy', async () => {
    const { ticket, technician } = await offeredTicket()
    const page = await app.inject({ url: `/t/${tokenFor(ticket.id, technician)}` })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-security-policy']).toContain("default-src 'none'")
    expect(page.headers['referrer-policy']).toBe('no-referrer')
    expect(page.body).toContain('<h1>Door forced or opened out of hours</h1>')
    expect(page.body).toContain('<dt>Zone</dt><dd>Gates</dd>')
    expect(page.body).toContain('href="rtsp://cam-3.cdg-t2.example/stream"')
    expect(page.body).toContain('class="action action-ack"')
    expect(page.body).toContain('class="action action-decline"')
    expect(page.body).not.toContain('action-resolve')
  })

  it('refuses a forged, altered or expired link', async () => {
    const { ticket, technician } = await offeredTicket()
    const token = tokenFor(ticket.id, technician)
    const altered = `${token.slice(0, -2)}${token.endsWith('A') ? 'BB' : 'AA'}`
    for (const bad of ['not-a-token-at-all', altered, tokenFor(ticket.id, technician, Date.now() - 1)]) {
      const page = await app.inject({ url: `/t/${bad}` })
      expect(page.statusCode).toBe(403)
      expect((await press(bad, 'ack')).statusCode).toBe(403)
    }
  })

  it('walks accept, en route, on site and resolved with a note, each press redirecting back to the page', async () => {
    const { ticket, technician } = await offeredTicket()
    const token = tokenFor(ticket.id, technician)
    const accepted = await press(token, 'ack')
    expect(accepted.statusCode).toBe(303)
    expect(accepted.headers.location).toBe(`/t/${token}?done=ack`)
    const page = await app.inject({ url: accepted.headers.location ?? '' })
    expect(page.body).toContain('Accepted: the ticket is yours.')
    expect(page.body).toContain('data-status="acknowledged"')
    expect(page.body).toContain('action-en-route')

    expect((await press(token, 'en-route')).statusCode).toBe(303)
    expect((await press(token, 'on-site')).statusCode).toBe(303)
    const note = 'Strike plate <replaced> & door re-armed'
    expect((await press(token, 'resolve', new URLSearchParams({ note }).toString())).statusCode).toBe(303)
    const done = await tickets.get(ticket.id)
    expect(done?.status).toBe('resolved')
    expect(done?.timeline.map((e) => e.type)).toEqual(
      expect.arrayContaining(['ticket.acknowledged', 'ticket.en_route', 'ticket.on_site', 'ticket.resolved']),
    )
    expect(done?.timeline.at(-1)).toMatchObject({ type: 'ticket.resolved', by: technician, detail: note })
    const after = await app.inject({ url: `/t/${token}` })
    expect(after.body).toContain('Strike plate &lt;replaced&gt; &amp; door re-armed')
    expect(after.body).not.toContain('<replaced>')
    expect(after.body).not.toContain('class="action')
  })

  it('refuses a note over 2,000 characters on the page, pressing nothing and keeping the ticket as it was', async () => {
    const { ticket, technician } = await offeredTicket()
    const token = tokenFor(ticket.id, technician)
    expect((await press(token, 'ack')).statusCode).toBe(303)
    const long = await press(token, 'resolve', new URLSearchParams({ note: 'x'.repeat(2001) }).toString())
    expect(long.statusCode).toBe(422)
    expect(long.headers['content-type']).toContain('text/html')
    expect(long.body).toContain('Not saved: the note is over 2,000 characters.')
    expect((await tickets.get(ticket.id))?.status).toBe('acknowledged')
    const fits = await press(token, 'resolve', new URLSearchParams({ note: 'y'.repeat(2000) }).toString())
    expect(fits.statusCode).toBe(303)
    expect((await tickets.get(ticket.id))?.timeline.at(-1)).toMatchObject({ detail: 'y'.repeat(2000) })
  })

  it('lets nobody act on a ticket that is not theirs, and says why on the page', async () => {
    const { ticket, technician, other } = await offeredTicket()
    const theirs = tokenFor(ticket.id, other)
    const view = await app.inject({ url: `/t/${theirs}` })
    expect(view.body).not.toContain('class="action')
    expect(view.body).not.toContain('share-position')
    const refused = await press(theirs, 'ack')
    expect(refused.statusCode).toBe(409)
    expect(refused.headers['content-type']).toContain('text/html')
    expect(refused.body).toContain('nothing to ack now')
    expect((await tickets.get(ticket.id))?.offer?.technician).toBe(technician)
    const moved = await app.inject({
      method: 'POST',
      url: `/t/${theirs}/position`,
      payload: { lat: 49.0, lon: 2.57 },
    })
    expect(moved.statusCode).toBe(403)
  })

  it("shares the technician's position from the page, and refuses a position that is not one", async () => {
    const { ticket, technician } = await offeredTicket()
    const token = tokenFor(ticket.id, technician)
    const shared = await app.inject({
      method: 'POST',
      url: `/t/${token}/position`,
      payload: { lat: 49.00312, lon: 2.56955, accuracy: 8 },
    })
    expect(shared.statusCode).toBe(200)
    const listed = (await roster.list()).find((t) => t.id === technician)
    expect(listed?.position?.lat).toBeCloseTo(49.00312, 4)
    expect(listed?.position?.lon).toBeCloseTo(2.56955, 4)
    for (const payload of [{ lat: 91, lon: 2 }, { lat: '49', lon: 2 }, { lat: 49 }]) {
      const bad = await app.inject({ method: 'POST', url: `/t/${token}/position`, payload })
      expect(bad.statusCode).toBe(400)
      expect(bad.json().error.code).toBe('VALIDATION_FAILED')
    }
  })
})
