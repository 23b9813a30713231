// Issue 18, the customer's history: one timeline of what they received, answered and reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashApiKey } from '../../api/index.ts'
import { startSmtpServer } from '../support/smtp-server.ts'
import { engageEnv, startTestService, type TestService, testTwilioAccount } from '../support/test-service.ts'
import { twilioPhone } from '../support/twilio-phone.ts'
import { startTwilioServer, type TwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

const keys = { dispatcher: 'dispatcher-key-history-012345', viewer: 'viewer-key-history-0123456789' }
const siteFile = `
sites:
  - { id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: lounges, name: Salons }, { id: gates, name: Gates }] }
devices:
  - { id: temp-1, kind: temperature, site: s1, zone: lounges, secret: "secret-temp-1", location: { lat: 49.0, lon: 2.57 } }
technicians:
  - { id: tech-1, name: One, phone: "+33600000001", language: en, skills: [hvac], location: { lat: 49.001, lon: 2.57 } }
customers:
  - { id: salon, name: Salon, language: en, contacts: [{ sms: "+33600000101" }], subscribes: { zones: [lounges] } }
  - { id: gate-shop, name: Gate shop, language: en, contacts: [{ sms: "+33600000102" }], subscribes: { zones: [gates] } }
rules:
  - { id: lounge-hot, name: Lounge too hot, match: { kind: temperature }, condition: { field: celsius, above: 30, clearBelow: 28 }, severity: major, skill: hvac, notifyCustomers: true }
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
apiKeys:
  - { name: desk, keyHash: "${hashApiKey(keys.dispatcher)}", role: dispatcher }
  - { name: wall, keyHash: "${hashApiKey(keys.viewer)}", role: viewer }
`
const authToken = 'twilio-test-auth-token-0123456789'
let world: TestService
let twilioServer: TwilioServer
let smtp: Awaited<ReturnType<typeof startSmtpServer>>

type Entry = {
  kind: 'ticket' | 'message' | 'answer' | 'customer-contact'
  at: string
  reported?: boolean
  ticket: string | { id: string; externalRef?: { source: string; id: string } } | null
  template?: string
  channel?: string
  to?: string
  status?: string
  value?: string
  via?: string
}
type History = { items: Entry[]; next: string | null }

beforeAll(async () => {
  twilioServer = await startTwilioServer()
  smtp = await startSmtpServer()
  world = await startTestService({
    site: siteFile,
    env: engageEnv({ twilioUrl: twilioServer.url, smtpUrl: smtp.url, authToken }),
  })
})
afterAll(async () => {
  await world?.close()
  await twilioServer?.close()
  await smtp?.close()
})

const smsTo = (phone: string) => twilioServer.accepted().filter((r) => r.form.To === phone)
const get = async (path: string, key: string) => {
  const res = await fetch(`${world.publicUrl}${path}`, { headers: { authorization: `Bearer ${key}` } })
  return { status: res.status, body: (await res.json()) as History & { error?: { code: string } } }
}
const ticketIdOf = (entry: Entry) => (typeof entry.ticket === 'string' ? entry.ticket : entry.ticket?.id)

describe('GET /api/customers/:id/history', () => {
  it('lists what a customer received, answered and reported, newest first, paged, and nothing of another', async () => {
    const phone = twilioPhone({ publicUrl: world.publicUrl, authToken, ...testTwilioAccount })
    await world.publish('temp-1', { type: 'temperature', celsius: 35 })
    await waitFor(() => smsTo('+33600000101').length === 1, { what: 'the notice', timeoutMs: 15_000 })
    const [device] = (await world.api<{ items: { id: string }[] }>('/api/tickets?device=temp-1')).items
    const deviceTicket = device?.id ?? ''
    // The notice is delivered: the history shows the outcome the receipt gave.
    const notice = smsTo('+33600000101')[0]
    await phone.post(
      '/webhooks/twilio/status',
      phone.smsStatus({ sid: notice?.sid ?? '', to: '+33600000101', status: 'delivered' }),
    )
    for (const action of ['ack', 'resolve'])
      await world.api(`/api/tickets/${deviceTicket}/${action}`, { method: 'POST' })
    await waitFor(() => smsTo('+33600000101').length === 3, {
      what: 'all-clear and survey',
      timeoutMs: 15_000,
    })
    // The survey waits for its answer once sent: the notifier notes it on the ticket just after, not before.
    await waitFor(
      async () =>
        (
          await world.api<{ timeline: { type: string; detail: string | null }[] }>(
            `/api/tickets/${deviceTicket}`,
          )
        ).timeline.some((e) => e.type === 'ticket.notified' && e.detail?.includes('(survey)')),
      { what: 'the survey noted as sent' },
    )
    const answered = await phone.post('/webhooks/twilio/sms', phone.sms({ from: '+33600000101', body: '4' }))
    expect(answered.status).toBe(200)
    // A reply is taken in at once and handled by the workers: the answer is on the ticket a moment later.
    await waitFor(
      async () =>
        (await world.api<{ timeline: { type: string }[] }>(`/api/tickets/${deviceTicket}`)).timeline.some(
          (e) => e.type === 'ticket.survey_answered',
        ),
      { what: 'the survey answer on the ticket' },
    )

    // The salon calls about something else: reported through the CRM, then logged by the desk.
    const reported = await world.api<{ id: string }>('/api/tickets', {
      method: 'POST',
      body: {
        site: 's1',
        zone: 'lounges',
        title: 'Water on the lounge floor',
        severity: 'minor',
        reporter: { name: 'Salon manager', customer: 'salon' },
        externalRef: { source: 'crm', id: 'CASE-77' },
      },
    })
    await world.api(`/api/tickets/${reported.id}/customer-contact`, {
      method: 'POST',
      body: { text: 'called again', customer: 'salon' },
    })
    // The gate shop reported one of its own.
    const theirs = await world.api<{ id: string }>('/api/tickets', {
      method: 'POST',
      body: {
        site: 's1',
        zone: 'gates',
        title: 'Door stuck',
        severity: 'minor',
        reporter: { name: 'Shop', customer: 'gate-shop' },
        externalRef: { source: 'crm', id: 'CASE-78' },
      },
    })

    const whole = await world.api<History>('/api/customers/salon/history')
    expect(whole.next).toBeNull()
    const times = whole.items.map((e) => Date.parse(e.at))
    expect(times).toEqual([...times].sort((a, b) => b - a))
    const shape = (e: Entry) =>
      e.kind === 'message'
        ? `message ${e.template} ${e.channel} ${e.status}`
        : e.kind === 'answer'
          ? `answer ${e.value}`
          : e.kind === 'customer-contact'
            ? `contact ${e.via}`
            : `ticket ${e.reported ? 'reported' : 'notified'}`
    expect(whole.items.map(shape).sort()).toEqual(
      [
        'contact support',
        'contact reported',
        'ticket reported',
        'answer csat:4',
        'message survey sms sent',
        'message all-clear sms sent',
        'message notice sms delivered',
        'ticket notified',
      ].sort(),
    )
    // Newest first: the desk's note, then the report, then the answer; the device ticket first of all.
    expect(shape(whole.items[0] as Entry)).toBe('contact support')
    // The device ticket entered the history with its first message (same time, so in either order).
    expect(whole.items.slice(-2).map(shape).sort()).toEqual([
      'message notice sms delivered',
      'ticket notified',
    ])
    expect(whole.items.find((e) => e.kind === 'answer')).toMatchObject({
      ticket: deviceTicket,
      value: 'csat:4',
    })
    expect(whole.items.find((e) => e.kind === 'ticket' && e.reported)?.ticket).toMatchObject({
      id: reported.id,
      externalRef: { source: 'crm', id: 'CASE-77' },
    })
    expect(whole.items.filter((e) => e.kind === 'message').map((e) => e.to)).toEqual([
      '+33600000101',
      '+33600000101',
      '+33600000101',
    ])
    expect(whole.items.every((e) => ticketIdOf(e) === deviceTicket || ticketIdOf(e) === reported.id)).toBe(
      true,
    )

    // Paged three at a time, the pages make the same timeline.
    const paged: Entry[] = []
    let cursor: string | null = null
    do {
      const page: History = await world.api<History>(
        `/api/customers/salon/history?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      )
      expect(page.items.length).toBeLessThanOrEqual(3)
      paged.push(...page.items)
      cursor = page.next
    } while (cursor)
    expect(paged).toEqual(whole.items)

    // The other customer's history holds their own ticket only.
    const other = await world.api<History>('/api/customers/gate-shop/history')
    expect(other.items.map(shape)).toEqual(['contact reported', 'ticket reported'].sort().reverse())
    expect(other.items.every((e) => ticketIdOf(e) === theirs.id)).toBe(true)

    // A dispatcher sees addresses masked; a viewer may not read it; an unknown customer is a 404.
    const masked = await get('/api/customers/salon/history?limit=100', keys.dispatcher)
    expect(masked.status).toBe(200)
    expect(masked.body.items.filter((e) => e.kind === 'message').map((e) => e.to)).toEqual([
      '+33•••••••01',
      '+33•••••••01',
      '+33•••••••01',
    ])
    expect((await get('/api/customers/salon/history', keys.viewer)).status).toBe(403)
    const unknown = await get('/api/customers/nobody/history', keys.dispatcher)
    expect(unknown.status).toBe(404)
    expect(unknown.body.error?.code).toBe('NOT_FOUND')
    expect((await get('/api/customers/salon/history?cursor=bogus', keys.dispatcher)).status).toBe(400)
    expect((await get('/api/customers/salon/history?after=1', keys.dispatcher)).status).toBe(400)

    // Both routes are published with their schemas.
    const docs = (await (await fetch(`${world.publicUrl}/docs/json`)).json()) as {
      paths: Record<string, Record<string, unknown>>
    }
    expect(Object.keys(docs.paths['/api/customers/{id}/history'] ?? {})).toEqual(['get'])
    expect(Object.keys(docs.paths['/api/tickets'] ?? {}).sort()).toEqual(['get', 'post'])
  })
})
