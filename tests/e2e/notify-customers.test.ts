import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localTime } from '../../rules/index.ts'
import { startSmtpServer } from '../support/smtp-server.ts'
import { engageEnv, startTestService, type TestService, testTwilioAccount } from '../support/test-service.ts'
import { twilioPhone } from '../support/twilio-phone.ts'
import { startTwilioServer, type TwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

// Quiet hours around now, in the site's zone: that customer's notices wait.
const hhmm = (minute: number) =>
  `${String(Math.floor(((minute + 1440) % 1440) / 60)).padStart(2, '0')}:${String((minute + 1440) % 60).padStart(2, '0')}`
const nowMinute = localTime(Date.now(), 'Europe/Paris').minute
const quietHours = `${hhmm(nowMinute - 60)}-${hhmm(nowMinute + 120)}`

const siteFile = `
sites:
  - { id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: lounges, name: Salons }, { id: gates, name: Gates }] }
devices:
  - { id: temp-1, kind: temperature, site: s1, zone: lounges, secret: "secret-temp-1", location: { lat: 49.0, lon: 2.57 } }
  - { id: temp-2, kind: temperature, site: s1, zone: lounges, secret: "secret-temp-2", location: { lat: 49.0, lon: 2.57 } }
  - { id: temp-3, kind: temperature, site: s1, zone: lounges, secret: "secret-temp-3", location: { lat: 49.0, lon: 2.57 } }
technicians:
  - { id: tech-1, name: One, phone: "+33600000001", language: en, skills: [hvac], location: { lat: 49.001, lon: 2.57 } }
customers:
  - { id: salon-fr, name: Salon, language: fr, contacts: [{ sms: "+33600000101" }], subscribes: { zones: [lounges] } }
  - { id: airline-en, name: Airline, language: en, contacts: [{ email: desk@airline.example }], subscribes: { devices: [temp-1] } }
  - { id: elsewhere, name: Elsewhere, language: en, contacts: [{ sms: "+33600000103" }], subscribes: { zones: [gates] } }
  - { id: sleepy, name: Sleepy, language: en, contacts: [{ sms: "+33600000104" }], subscribes: { sites: [s1] }, quietHours: "${quietHours}" }
rules:
  - { id: lounge-hot, name: Salon trop chaud, match: { kind: temperature }, condition: { field: celsius, above: 30, clearBelow: 28 }, severity: major, skill: hvac, notifyCustomers: true }
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`
const authToken = 'twilio-test-auth-token-0123456789'
let world: TestService
let twilioServer: TwilioServer
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let publicUrl = ''

beforeAll(async () => {
  twilioServer = await startTwilioServer()
  smtp = await startSmtpServer()
  world = await startTestService({
    site: siteFile,
    env: engageEnv({ twilioUrl: twilioServer.url, smtpUrl: smtp.url, authToken }),
  })
  publicUrl = world.publicUrl
})
afterAll(async () => {
  await world?.close()
  await twilioServer?.close()
  await smtp?.close()
})

const request = <T>(path: string, method = 'GET') => world.api<T>(path, { method })
const smsBodies = (phone: string) =>
  twilioServer
    .accepted()
    .filter((r) => r.form.To === phone)
    .map((r) => r.form.Body ?? '')
const mailsTo = (address: string) => smtp.mails.filter((m) => m.to.includes(address))
const until = <T>(what: string, check: () => T | undefined | false) =>
  waitFor(check, { what, timeoutMs: 15_000 })

describe('customers hear before they ask', () => {
  it('tells the subscribed customers, and only them, in their language: notice, ETA, all-clear and survey', async () => {
    await world.publish('temp-1', { type: 'temperature', celsius: 35 })

    await until('the notice to the salon', () => smsBodies('+33600000101').length === 1)
    expect(smsBodies('+33600000101')[0]).toMatch(
      /^\[vigie\] Salon trop chaud — Terminal 2 \/ Salons\. Nous l’avons détecté et un technicien est en route \(arrivée dans \d+ min environ\)\.$/,
    )
    await until('the notice to the airline', () => mailsTo('desk@airline.example').length === 1)
    expect(mailsTo('desk@airline.example')[0]?.raw).toContain('a technician is on the way')

    const [ticket] = (await request<{ items: { id: string }[] }>('/api/tickets?device=temp-1')).items
    const id = ticket?.id ?? ''
    await request(`/api/tickets/${id}/ack`, 'POST')
    await request(`/api/tickets/${id}/en-route`, 'POST')
    await until('the ETA update', () => smsBodies('+33600000101').length === 2)
    expect(smsBodies('+33600000101')[1]).toContain('le technicien est en route')

    await request(`/api/tickets/${id}/resolve`, 'POST')
    await until('the all-clear and the survey', () => smsBodies('+33600000101').length === 4)
    expect(smsBodies('+33600000101').slice(2)).toEqual([
      '[vigie] Salon trop chaud — Terminal 2 / Salons : c’est réglé. Merci de votre patience.',
      '[vigie] Êtes-vous satisfait de notre intervention ? Répondez de 1 (pas du tout) à 5 (très).',
    ])
    await until('four mails to the airline', () => mailsTo('desk@airline.example').length === 4)
    expect(mailsTo('desk@airline.example')[3]?.raw).toContain('Subject: How satisfied are you')

    // The survey's answer lands on the ticket.
    const phone = twilioPhone({ publicUrl, authToken, ...testTwilioAccount })
    const answer = await phone.post('/webhooks/twilio/sms', phone.sms({ from: '+33600000101', body: '5' }))
    expect(answer.status).toBe(200)
    const withTimeline = await request<{ timeline: { type: string; detail: string | null }[] }>(
      `/api/tickets/${id}`,
    )
    expect(withTimeline.timeline.filter((e) => e.type === 'ticket.survey_answered')).toEqual([
      expect.objectContaining({ by: 'customer', detail: 'csat:5' }),
    ])

    // Not subscribed: nothing. In quiet hours: held, not sent.
    expect(smsBodies('+33600000103')).toEqual([])
    expect(smsBodies('+33600000104')).toEqual([])
    const { items } = await request<{ items: { recipient: string; status: string; template: string }[] }>(
      `/api/notifications?ticket=${id}`,
    )
    expect(items.filter((n) => n.recipient === 'sleepy')).toEqual([
      expect.objectContaining({ template: 'notice', status: 'queued' }),
      expect.objectContaining({ template: 'eta', status: 'queued' }),
      expect.objectContaining({ template: 'all-clear', status: 'queued' }),
      expect.objectContaining({ template: 'survey', status: 'queued' }),
    ])

    // STOP opts the salon's number out: the next incident's notice to it is suppressed, not sent.
    await phone.post('/webhooks/twilio/sms', phone.sms({ from: '+33600000101', body: 'STOP' }))
    await world.publish('temp-2', { type: 'temperature', celsius: 36 })
    const salon = await waitFor(
      async () => {
        const [next] = (await request<{ items: { id: string }[] }>('/api/tickets?device=temp-2')).items
        if (!next) return undefined
        const list = (
          await request<{ items: { recipient: string; status: string; error: string | null }[] }>(
            `/api/notifications?ticket=${next.id}`,
          )
        ).items
        return list.find((n) => n.recipient === 'salon-fr' && n.status === 'suppressed')
      },
      { what: 'the salon notice suppressed' },
    )
    expect(salon.error).toBe('opted out (STOP)')
    expect(smsBodies('+33600000101')).toHaveLength(4)
  })

  it('tells a customer added through the API, and no longer one removed through it', async () => {
    await world.api('/api/customers', {
      method: 'POST',
      body: {
        id: 'newcomer',
        name: 'Newcomer',
        contacts: [{ sms: '+33600000107' }],
        subscribes: { devices: ['temp-3'] },
      },
    })
    await world.api('/api/customers/sleepy', { method: 'DELETE' })
    await world.publish('temp-3', { type: 'temperature', celsius: 35 })
    await until('the notice to the newcomer', () => smsBodies('+33600000107').length === 1)
    expect(smsBodies('+33600000107')[0]).toMatch(/^\[vigie\] Salon trop chaud — Terminal 2 \/ Salons\./)
    const [ticket] = (await request<{ items: { id: string }[] }>('/api/tickets?device=temp-3')).items
    const { items } = await request<{ items: { recipient: string }[] }>(
      `/api/notifications?ticket=${ticket?.id}`,
    )
    const told = new Set(items.map((n) => n.recipient))
    expect(told.has('newcomer')).toBe(true)
    expect(told.has('salon-fr')).toBe(true)
    expect(told.has('sleepy')).toBe(false)
  })
})
