import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createManualClock } from '../support/manual-clock.ts'
import { startSmtpServer } from '../support/smtp-server.ts'
import { engageEnv, startTestService, type TestService, testTwilioAccount } from '../support/test-service.ts'
import { type TwilioPhone, twilioPhone } from '../support/twilio-phone.ts'
import { startTwilioServer, type TwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

// Terminal 1 asks NPS, Terminal 2 CES; two customers by email and one by SMS on the first, one by SMS on the second.
const siteFile = `
sites:
  - { id: s1, name: Terminal 1, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, survey: nps }
  - { id: s2, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, survey: ces }
devices:
  - { id: temp-1, kind: temperature, site: s1, secret: "secret-temp-1", location: { lat: 49.0, lon: 2.57 } }
  - { id: temp-2, kind: temperature, site: s2, secret: "secret-temp-2", location: { lat: 49.0, lon: 2.57 } }
technicians:
  - { id: tech-1, name: One, phone: "+33600000001", language: en, skills: [hvac], location: { lat: 49.001, lon: 2.57 } }
customers:
  - { id: mail-en, name: Airline, language: en, contacts: [{ email: desk@airline.example }], subscribes: { sites: [s1] } }
  - { id: mail-fr, name: Boutique, language: fr, contacts: [{ email: boutique@shop.example }], subscribes: { sites: [s1] } }
  - { id: sms-nps, name: Salon, language: fr, contacts: [{ sms: "+33600000101" }], subscribes: { sites: [s1] } }
  - { id: sms-ces, name: Lounge, language: en, contacts: [{ sms: "+33600000102" }], subscribes: { sites: [s2] } }
rules:
  - { id: hot, name: Too hot, match: { kind: temperature }, condition: { field: celsius, above: 30, clearBelow: 28 }, severity: major, skill: hvac, notifyCustomers: true }
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`
const authToken = 'twilio-test-auth-token-0123456789'
const day = 86_400_000
const clock = createManualClock()
let world: TestService
let twilioServer: TwilioServer
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let phone: TwilioPhone

beforeAll(async () => {
  twilioServer = await startTwilioServer()
  smtp = await startSmtpServer()
  world = await startTestService({
    site: siteFile,
    clock,
    env: engageEnv({ twilioUrl: twilioServer.url, smtpUrl: smtp.url, authToken }),
  })
  phone = twilioPhone({ publicUrl: world.publicUrl, authToken, ...testTwilioAccount })
})
afterAll(async () => {
  await world?.close()
  await twilioServer?.close()
  await smtp?.close()
})

type Entry = { type: string; by: string; detail: string | null }
const answersOn = async (id: string) =>
  (await world.api<{ timeline: Entry[] }>(`/api/tickets/${id}`)).timeline.filter(
    (e) => e.type === 'ticket.survey_answered',
  )
const smsTo = (to: string) =>
  twilioServer
    .accepted()
    .filter((r) => r.form.To === to)
    .map((r) => r.form.Body ?? '')

/** Opens a ticket on the device and resolves it: the survey follows the all-clear. */
async function resolvedTicket(device: string): Promise<string> {
  await world.publish(device, { type: 'temperature', celsius: 35 })
  const ticket = await waitFor(
    async () => (await world.api<{ items: { id: string }[] }>(`/api/tickets?device=${device}`)).items[0],
    { what: `the ${device} ticket` },
  )
  await world.api(`/api/tickets/${ticket.id}/ack`, { method: 'POST' })
  await world.api(`/api/tickets/${ticket.id}/resolve`, { method: 'POST' })
  return ticket.id
}

/** The survey mail's links by score, read off its plain-text part ("9: <url>"), quoted-printable undone. */
async function surveyLinks(address: string): Promise<Map<number, string>> {
  const mail = await waitFor(() => smtp.mails.find((m) => m.to.includes(address) && m.raw.includes('/s/')), {
    what: `the survey mail to ${address}`,
    timeoutMs: 15_000,
  })
  const text = mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=')
  const links = new Map<number, string>()
  for (const [, score, url] of text.matchAll(/^(\d+): (http:\/\/\S+\/s\/[A-Za-z0-9_.-]+)\r?$/gm))
    links.set(Number(score), new URL(url ?? '').pathname)
  return links
}

const page = async (path: string, method: 'GET' | 'POST' = 'GET') => {
  const res = await fetch(`${world.publicUrl}${path}`, {
    method,
    // What a browser's form posts: an empty url-encoded body.
    ...(method === 'POST'
      ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' }
      : {}),
  })
  return { status: res.status, html: await res.text(), headers: res.headers }
}

// The first ticket's survey links, shared with the expiry test at the end.
let ticket = ''
let en = new Map<number, string>()
let fr = new Map<number, string>()

describe('survey answers by email, one click each', () => {
  beforeAll(async () => {
    ticket = await resolvedTicket('temp-1')
    en = await surveyLinks('desk@airline.example')
    fr = await surveyLinks('boutique@shop.example')
  })

  it('sends one link per score of the NPS scale, 0 to 10', () => {
    expect([...en.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(new Set(en.values()).size).toBe(11)
  })

  it('opens a page that asks for one press and records nothing (mail scanners open links)', async () => {
    const opened = await page(en.get(9) ?? '')
    expect(opened.status).toBe(200)
    expect(opened.html).toContain('Would you recommend us to a friend or colleague?')
    expect(opened.html).toContain('You chose 9.')
    expect(opened.html).toContain(`<form method="post" action="${en.get(9)}">`)
    expect(opened.headers.get('cache-control')).toBe('no-store')
    expect(opened.headers.get('referrer-policy')).toBe('no-referrer')
    // Opened twice, as a scanner and then the customer would: still nothing on the ticket.
    await page(en.get(9) ?? '')
    expect(await answersOn(ticket)).toEqual([])
  })

  it('records the answer with the press, and thanks the customer in their language', async () => {
    const pressed = await page(en.get(9) ?? '', 'POST')
    expect(pressed.status).toBe(200)
    expect(pressed.html).toContain('Thank you! Your answer (9) is recorded.')
    expect(await answersOn(ticket)).toEqual([expect.objectContaining({ by: 'customer', detail: 'nps:9' })])
  })

  it('changes nothing on a second press, nor on another score, and says it was already recorded', async () => {
    const again = await page(en.get(9) ?? '', 'POST')
    expect(again.status).toBe(409)
    expect(again.html).toContain('Your answer (9) was already recorded')
    const other = await page(en.get(2) ?? '', 'POST')
    expect(other.status).toBe(409)
    expect(other.html).toContain('Your answer (9) was already recorded')
    const opened = await page(en.get(2) ?? '')
    expect(opened.html).toContain('Your answer (9) was already recorded')
    expect(opened.html).not.toContain('<form')
    expect((await answersOn(ticket)).map((e) => e.detail)).toEqual(['nps:9'])
  })

  it('refuses a tampered link: a changed signature, or another score under the same signature', async () => {
    const link = fr.get(3) ?? ''
    const [body = '', signature = ''] = link.slice('/s/'.length).split('.')
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`
    expect((await page(`/s/${body}.${flipped}`, 'POST')).status).toBe(403)
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
    const forged = Buffer.from(JSON.stringify({ ...payload, s: 10 })).toString('base64url')
    const refused = await page(`/s/${forged}.${signature}`, 'POST')
    expect(refused.status).toBe(403)
    expect(refused.html).toContain('This link is not valid or has expired; nothing was recorded.')
    expect((await answersOn(ticket)).map((e) => e.detail)).toEqual(['nps:9'])
  })

  it('answers SMS in the NPS range: 11 is refused with the scale, 0 is recorded, a later text is not an answer', async () => {
    await waitFor(() => smsTo('+33600000101').some((b) => b.includes('Recommanderiez-vous')), {
      what: 'the NPS survey by SMS',
      timeoutMs: 15_000,
    })
    const off = await phone.post('/webhooks/twilio/sms', phone.sms({ from: '+33600000101', body: '11' }))
    expect(off.text).toContain('Répondez de 0 à 10. Reply 0 to 10.')
    expect((await answersOn(ticket)).map((e) => e.detail)).toEqual(['nps:9'])
    const zero = await phone.post('/webhooks/twilio/sms', phone.sms({ from: '+33600000101', body: '0' }))
    expect(zero.text).toContain('Merci')
    const late = await phone.post('/webhooks/twilio/sms', phone.sms({ from: '+33600000101', body: '10' }))
    expect(late.text).not.toContain('Merci')
    expect((await answersOn(ticket)).map((e) => e.detail)).toEqual(['nps:9', 'nps:0'])
  })
})

describe('survey answers by SMS on a CES site', () => {
  it('refuses 0 and 8 with the 1–7 scale, records 7, and /api/kpis counts NPS and CES', async () => {
    const ticket = await resolvedTicket('temp-2')
    await waitFor(() => smsTo('+33600000102').some((b) => b.includes('How easy was it')), {
      what: 'the CES survey by SMS',
      timeoutMs: 15_000,
    })
    for (const body of ['0', '8']) {
      const refused = await phone.post('/webhooks/twilio/sms', phone.sms({ from: '+33600000102', body }))
      expect(refused.text).toContain('Reply 1 to 7.')
    }
    expect(await answersOn(ticket)).toEqual([])
    const seven = await phone.post('/webhooks/twilio/sms', phone.sms({ from: '+33600000102', body: '7' }))
    expect(seven.text).toContain('Thank you!')
    expect((await answersOn(ticket)).map((e) => e.detail)).toEqual(['ces:7'])

    // NPS: 9 (promoter) and 0 (detractor) of two; CES: one answer of 7.
    expect(await world.api('/api/kpis')).toMatchObject({
      npsScore: 0,
      npsAnswers: 2,
      cesMean: 7,
      cesAnswers: 1,
      csatAnswers: 0,
    })
  })
})

// Last: the service's event consumer reads event times off Redis stream ids, so after this jump of the
// injected clock it would take new events for stale ones.
describe('survey links expire', () => {
  it('keeps a link good until its lifetime (14 days by default) has passed, and refuses it after', async () => {
    clock.advance(14 * day - 1)
    const lastMoment = await page(fr.get(0) ?? '')
    expect(lastMoment.status).toBe(200)
    expect(lastMoment.html).toContain('Vous avez choisi 0.')
    expect(lastMoment.html).toContain('Recommanderiez-vous notre service')
    clock.advance(1)
    expect((await page(fr.get(0) ?? '')).status).toBe(403)
    expect((await page(fr.get(0) ?? '', 'POST')).status).toBe(403)
    expect((await answersOn(ticket)).map((e) => e.detail)).toEqual(['nps:9', 'nps:0'])
  })
})
