import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSmtpServer } from '../support/smtp-server.ts'
import { engageEnv, startTestService, type TestService, testTwilioAccount } from '../support/test-service.ts'
import { type TwilioPhone, twilioPhone } from '../support/twilio-phone.ts'
import { startTwilioServer, type TwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

// Issue 18: a customer on WhatsApp hears of a forced door through Twilio's Messages API with whatsapp:
// addresses, answers the survey and opts out from WhatsApp; SMS to the same number is another address.
const whatsappFrom = '+33100000099'
const ana = '+33600000201'
const siteFile = `
sites: [{ id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: gates, name: Gates }] }]
devices:
  - { id: door-1, kind: door, site: s1, zone: gates, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }
  - { id: door-2, kind: door, site: s1, zone: gates, secret: "secret-door-2", location: { lat: 49.0, lon: 2.57 } }
technicians: [{ id: tech-1, name: One, phone: "+33600000001", skills: [security], location: { lat: 49.001, lon: 2.57 } }]
customers:
  - { id: ana-wa, name: Ana, language: en, contacts: [{ whatsapp: "${ana}" }], subscribes: { zones: [gates] } }
  - { id: ana-sms, name: Ana by SMS, language: en, contacts: [{ sms: "${ana}" }], subscribes: { devices: [door-2] } }
rules: [{ id: door-forced, name: Door forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security, notifyCustomers: true }]
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`
const authToken = 'twilio-test-auth-token-0123456789'
let world: TestService
let twilioServer: TwilioServer
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let phone: TwilioPhone

beforeAll(async () => {
  twilioServer = await startTwilioServer()
  smtp = await startSmtpServer()
  world = await startTestService({
    site: siteFile,
    env: {
      ...engageEnv({ twilioUrl: twilioServer.url, smtpUrl: smtp.url, authToken }),
      TWILIO_WHATSAPP_FROM: whatsappFrom,
    },
  })
  phone = twilioPhone({ publicUrl: world.publicUrl, authToken, ...testTwilioAccount })
})
afterAll(async () => {
  await world?.close()
  await twilioServer?.close()
  await smtp?.close()
})

/** What Twilio posts for a WhatsApp message to the vigie sender: the SMS fields, whatsapp: ends, and its own. */
const fromWhatsapp = (from: string, body: string) => ({
  ...phone.sms({ from, body }),
  To: `whatsapp:${whatsappFrom}`,
  ProfileName: 'Ana',
  WaId: from.replace(/^whatsapp:\+/, ''),
  MessageType: 'text',
})
const messagesTo = (to: string) => twilioServer.accepted().filter((r) => r.form.To === to)
const bodiesTo = (to: string) => messagesTo(to).map((r) => r.form.Body ?? '')
const until = <T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>) =>
  waitFor(check, { what, timeoutMs: 15_000 })

type NotificationView = {
  id: string
  recipient: string
  channel: string
  to: string
  template: string
  status: string
  providerId: string | null
  error: string | null
}
const notificationsOf = async (ticket: string) =>
  (await world.api<{ items: NotificationView[] }>(`/api/notifications?ticket=${ticket}`)).items
const ticketOf = (device: string) =>
  until(`the ${device} ticket`, async () => {
    const [ticket] = (await world.api<{ items: { id: string }[] }>(`/api/tickets?device=${device}`)).items
    return ticket?.id
  })

describe('a customer on WhatsApp', () => {
  it('gets the notice, ETA, all-clear and survey from the WhatsApp sender, and the answer 5 lands on the ticket', async () => {
    await world.publish('door-1', { type: 'door', open: true })

    await until('the notice on WhatsApp', () => messagesTo(`whatsapp:${ana}`).length === 1)
    const [notice] = messagesTo(`whatsapp:${ana}`)
    expect(notice?.path).toBe(`/2010-04-01/Accounts/${testTwilioAccount.accountSid}/Messages.json`)
    expect(notice?.form).toMatchObject({ To: `whatsapp:${ana}`, From: `whatsapp:${whatsappFrom}` })
    expect(notice?.form.Body).toMatch(/^\[vigie\] Door forced — Terminal 2 \/ Gates\. We have detected it/)
    // Delivery receipts come back to the same status webhook as SMS.
    expect(notice?.form.StatusCallback).toBe(`${world.publicUrl}/webhooks/twilio/status`)
    // Nothing went to the bare number: that customer is not subscribed to door-1.
    expect(messagesTo(ana)).toEqual([])

    const id = await ticketOf('door-1')
    await world.api(`/api/tickets/${id}/ack`, { method: 'POST' })
    await world.api(`/api/tickets/${id}/en-route`, { method: 'POST' })
    await until('the ETA', () => messagesTo(`whatsapp:${ana}`).length === 2)
    expect(bodiesTo(`whatsapp:${ana}`)[1]).toContain('the technician is on the way')
    await world.api(`/api/tickets/${id}/resolve`, { method: 'POST' })
    await until('the all-clear and the survey', () => messagesTo(`whatsapp:${ana}`).length === 4)
    expect(bodiesTo(`whatsapp:${ana}`).slice(2)).toEqual([
      '[vigie] Door forced — Terminal 2 / Gates: it is fixed. Thank you for your patience.',
      expect.stringMatching(/^\[vigie\] How satisfied are you/),
    ])
    expect(messagesTo(`whatsapp:${ana}`).every((r) => r.form.From === `whatsapp:${whatsappFrom}`)).toBe(true)

    // The records carry the channel, the masked WhatsApp address and the provider's id.
    const records = await until('the four sent', async () => {
      const items = (await notificationsOf(id)).filter((n) => n.recipient === 'ana-wa')
      return items.length === 4 && items.every((n) => n.status === 'sent') ? items : undefined
    })
    expect(records.map((n) => [n.template, n.channel, n.to])).toEqual(
      ['notice', 'eta', 'all-clear', 'survey'].map((t) => [t, 'whatsapp', 'whatsapp:+33•••••••01']),
    )

    // Twilio's WhatsApp receipt ("read") marks the notice delivered.
    const noticeRecord = records.find((n) => n.template === 'notice')
    const receipt = await phone.post('/webhooks/twilio/status', {
      ...phone.smsStatus({ sid: notice?.sid ?? '', to: `whatsapp:${ana}`, status: 'read' }),
      From: `whatsapp:${whatsappFrom}`,
      ChannelPrefix: 'whatsapp',
    })
    expect(receipt.status).toBe(204)
    expect(noticeRecord?.providerId).toBe(notice?.sid)
    await until('the notice delivered', async () =>
      (await notificationsOf(id)).some((n) => n.id === noticeRecord?.id && n.status === 'delivered'),
    )

    const answer = await phone.post('/webhooks/twilio/sms', fromWhatsapp(`whatsapp:${ana}`, '5'))
    expect(answer).toMatchObject({ status: 200, text: expect.stringContaining('Thank you') })
    const { timeline } = await world.api<{ timeline: { type: string; by: string; detail: string | null }[] }>(
      `/api/tickets/${id}`,
    )
    expect(timeline.filter((e) => e.type === 'ticket.survey_answered')).toEqual([
      expect.objectContaining({ by: 'customer', detail: 'csat:5' }),
    ])
    // The question is answered once: the same number by SMS has no survey pending.
    const again = await phone.post('/webhooks/twilio/sms', phone.sms({ from: ana, body: '4' }))
    expect(again.text).not.toContain('Thank you')
  })

  it('STOP from WhatsApp stops WhatsApp messages to that address only; START lets them through again (digested past three)', async () => {
    const stop = await phone.post('/webhooks/twilio/sms', fromWhatsapp(`whatsapp:${ana}`, 'STOP'))
    expect(stop.status).toBe(200)
    const before = messagesTo(`whatsapp:${ana}`).length

    await world.publish('door-2', { type: 'door', open: true })
    const id = await ticketOf('door-2')
    const suppressed = await until('the WhatsApp notice suppressed', async () =>
      (await notificationsOf(id)).find((n) => n.recipient === 'ana-wa' && n.status !== 'queued'),
    )
    expect(suppressed).toMatchObject({ channel: 'whatsapp', status: 'suppressed', error: 'opted out (STOP)' })
    // The same number by SMS is another address, not opted out.
    await until('the SMS notice', () => bodiesTo(ana).length === 1)
    expect(bodiesTo(ana)[0]).toMatch(/^\[vigie\] Door forced/)
    expect(messagesTo(`whatsapp:${ana}`)).toHaveLength(before)

    // START from WhatsApp lets messages through again. Ana had three this window: the ETA and the all-clear
    // fold into one digest for later (per channel and address, as for SMS); the survey is never folded.
    await phone.post('/webhooks/twilio/sms', fromWhatsapp(`whatsapp:${ana}`, 'START'))
    await world.api(`/api/tickets/${id}/ack`, { method: 'POST' })
    await world.api(`/api/tickets/${id}/en-route`, { method: 'POST' })
    await world.api(`/api/tickets/${id}/resolve`, { method: 'POST' })
    await until('the survey on WhatsApp', () => messagesTo(`whatsapp:${ana}`).length === before + 1)
    expect(bodiesTo(`whatsapp:${ana}`)[before]).toMatch(/^\[vigie\] How satisfied are you/)
    const folded = await until('the ETA and all-clear folded', async () => {
      const items = (await notificationsOf(id)).filter(
        (n) => n.recipient === 'ana-wa' && ['eta', 'all-clear'].includes(n.template),
      )
      return items.length === 2 && items.every((n) => n.status === 'suppressed') ? items : undefined
    })
    expect(folded.map((n) => n.error)).toEqual(['folded into a digest', 'folded into a digest'])
    const recent = (await world.api<{ items: NotificationView[] }>('/api/notifications?limit=100')).items
    expect(recent.filter((n) => n.template === 'digest')).toEqual([
      expect.objectContaining({ recipient: 'ana-wa', channel: 'whatsapp', status: 'queued' }),
    ])
  })
})
