import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSmtpServer } from '../support/smtp-server.ts'
import { engageEnv, startTestService, type TestService, testTwilioAccount } from '../support/test-service.ts'
import { type TwilioPhone, twilioPhone } from '../support/twilio-phone.ts'
import { startTwilioServer, type TwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

// Nearest first: Sophie (security, French), then Ann and Bob (first aid, English).
const siteFile = `
sites:
  - { id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: gates, name: Gates }] }
  - { id: s3, name: Terminal 3, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, voiceMessageUrl: "https://audio.example/aed-t3.mp3" }
devices:
  - { id: door-1, kind: door, site: s1, zone: gates, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 }, links: { camera: "https://cams.example/12" } }
  - { id: aed-1, kind: aed, site: s1, zone: gates, secret: "secret-aed-1", location: { lat: 49.0, lon: 2.57 } }
  - { id: aed-3, kind: aed, site: s3, secret: "secret-aed-3", location: { lat: 49.0, lon: 2.57 } }
  - { id: door-2, kind: door, site: s1, zone: gates, secret: "secret-door-2", location: { lat: 49.0, lon: 2.57 } }
technicians:
  - { id: tech-sophie, name: Sophie, phone: "+33600000011", language: fr, skills: [security], location: { lat: 49.001, lon: 2.57 } }
  - { id: tech-ann, name: Ann, phone: "+33600000012", language: en, skills: [first-aid], location: { lat: 49.002, lon: 2.57 } }
  - { id: tech-bob, name: Bob, phone: "+33600000013", language: en, skills: [first-aid], location: { lat: 49.004, lon: 2.57 } }
rules:
  - { id: door-forced, name: Door forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }
  - { id: aed-removed, name: AED removed, match: { kind: aed }, condition: { field: present, equals: false }, severity: critical, skill: first-aid, voice: true }
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [{ id: duty, name: Duty, phone: "+33600000999", language: fr }] }
`
const authToken = 'twilio-test-auth-token-0123456789'
let world: TestService
let twilioServer: TwilioServer
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let publicUrl = ''
let phone: TwilioPhone

type TicketView = {
  id: string
  status: string
  offer: { technician: string } | null
  timeline: { type: string }[]
}

beforeAll(async () => {
  twilioServer = await startTwilioServer()
  smtp = await startSmtpServer()
  world = await startTestService({
    site: siteFile,
    env: engageEnv({ twilioUrl: twilioServer.url, smtpUrl: smtp.url, authToken }),
  })
  publicUrl = world.publicUrl
  phone = twilioPhone({ publicUrl, authToken, ...testTwilioAccount })
})
afterAll(async () => {
  await world?.close()
  await twilioServer?.close()
  await smtp?.close()
})

const publish = (device: string, reading: Record<string, unknown>) => world.publish(device, reading)
const api = <T>(path: string) => world.api<T>(path)

const smsTo = (phone: string) =>
  waitFor(
    () => twilioServer.accepted().find((r) => r.path.endsWith('/Messages.json') && r.form.To === phone),
    {
      what: `an SMS to ${phone}`,
    },
  )

describe('staff hear about it on their phone, and answer from it', () => {
  it('texts the nearest security technician in French with a working link, and her reply 1 accepts', async () => {
    await publish('door-1', { type: 'door', open: true })
    const sms = await smsTo('+33600000011')
    expect(sms.form.Body).toMatch(/^\[vigie\] CRITIQUE Door forced — Terminal 2 \/ Gates \/ door-1\./)
    expect(sms.form.Body).toContain('Caméra : https://cams.example/12')
    expect(sms.form.Body).toContain('Répondez 1 pour accepter')
    expect(sms.form.StatusCallback).toBe(`${publicUrl}/webhooks/twilio/status`)

    const link = /(http:\/\/\S+\/t\/\S+)$/.exec(sms.form.Body ?? '')?.[1] ?? ''
    const page = await fetch(link)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('<h1>Door forced</h1>')
    expect(html).toContain('<a class="link-camera" href="https://cams.example/12"')
    expect((await fetch(`${link.slice(0, -3)}xyz`)).status).toBe(403)

    const forged = await phone.post(
      '/webhooks/twilio/sms',
      phone.sms({ from: '+33600000011', body: '1' }),
      'bad',
    )
    expect(forged.status).toBe(403)
    const reply = phone.sms({ from: '+33600000011', body: 'oui, j’arrive' })
    const accepted = await phone.post('/webhooks/twilio/sms', reply)
    expect(accepted.status).toBe(200)
    expect(accepted.text).toContain('is yours')
    // Twilio retries a webhook it thinks was lost: the same one changes nothing twice.
    expect((await phone.post('/webhooks/twilio/sms', reply)).status).toBe(200)
    const { items } = await api<{ items: TicketView[] }>('/api/tickets?device=door-1')
    const ticket = await api<TicketView>(`/api/tickets/${items[0]?.id}`)
    expect(ticket.status).toBe('acknowledged')
    expect(ticket.timeline.filter((e) => e.type === 'ticket.acknowledged')).toHaveLength(1)
    const notes = await waitFor(
      async () => {
        const { items: sent } = await api<{ items: { channel: string; status: string; to: string }[] }>(
          `/api/notifications?ticket=${ticket.id}`,
        )
        return sent.length ? sent : undefined
      },
      { what: 'the notification record' },
    )
    expect(notes).toEqual([expect.objectContaining({ channel: 'sms', status: 'sent', to: '+33•••••••11' })])
  })

  it('calls for a removed AED with TwiML in English, and a reply 2 moves the offer to the next technician', async () => {
    await publish('aed-1', { type: 'aed', present: false, cabinetOpen: true })
    const call = await waitFor(
      () =>
        twilioServer.accepted().find((r) => r.path.endsWith('/Calls.json') && r.form.To === '+33600000012'),
      { what: 'the call to Ann' },
    )
    const twiml = call.form.Twiml ?? ''
    expect(
      twiml.match(/<Say language="en-GB">CRITICAL AED removed — Terminal 2 \/ Gates \/ aed-1\./g),
    ).toHaveLength(2)
    expect(twiml).toContain('<Gather')
    expect(twiml).toContain('Press 1 to accept, 2 to decline.')
    await smsTo('+33600000012')

    const declined = await phone.post(
      '/webhooks/twilio/sms',
      phone.sms({ from: '+33600000012', body: 'NO sorry' }),
    )
    expect(declined.text).toContain('moves on')
    const sms = await smsTo('+33600000013')
    expect(sms.form.Body).toContain('Reply 1 to accept')

    // Bob answers the call instead: a keypress of 1 on the <Gather> accepts.
    const call2 = await waitFor(
      () =>
        twilioServer.accepted().find((r) => r.path.endsWith('/Calls.json') && r.form.To === '+33600000013'),
      { what: 'the call to Bob' },
    )
    const action = /action="([^"]+)"/.exec(call2.form.Twiml ?? '')?.[1]?.replaceAll('&amp;', '&') ?? ''
    expect(action.startsWith(`${publicUrl}/webhooks/twilio/voice?`)).toBe(true)
    const pressed = await phone.post(
      action.slice(publicUrl.length),
      phone.keypress({ to: '+33600000013', digits: '1' }),
    )
    expect(pressed.text).toContain('is yours')
    const { items } = await api<{ items: TicketView[] }>('/api/tickets?device=aed-1')
    expect(items[0]).toMatchObject({ status: 'acknowledged' })

    // Twilio's delivery receipt lands on the notification's record.
    const bobSms = await smsTo('+33600000013')
    const bobRecord = async () =>
      (
        await api<{ items: { recipient: string; channel: string; status: string }[] }>(
          `/api/notifications?ticket=${items[0]?.id}`,
        )
      ).items.find((n) => n.recipient === 'tech-bob' && n.channel === 'sms')
    await waitFor(async () => (await bobRecord())?.status === 'sent', { what: "Bob's SMS recorded as sent" })
    const receipt = await phone.post(
      '/webhooks/twilio/status',
      phone.smsStatus({ sid: bobSms.sid ?? '', to: '+33600000013', status: 'delivered' }),
    )
    expect(receipt.status).toBe(204)
    expect((await bobRecord())?.status).toBe('delivered')
  })

  it("plays a site's recorded message on the call, and tells the supervisor in French when nobody is left", async () => {
    await publish('aed-3', { type: 'aed', present: false, cabinetOpen: true })
    const call = await waitFor(
      () =>
        twilioServer
          .accepted()
          .find((r) => r.path.endsWith('/Calls.json') && (r.form.Twiml ?? '').includes('aed-t3.mp3')),
      { what: 'the call with the recorded message' },
    )
    expect(call.form.Twiml?.match(/<Play>https:\/\/audio\.example\/aed-t3\.mp3<\/Play>/g)).toHaveLength(2)
    expect(call.form.Twiml).not.toContain('AED removed')

    await publish('door-2', { type: 'door', open: true })
    await waitFor(() => twilioServer.accepted().filter((r) => r.form.To === '+33600000011').length >= 2, {
      what: 'the second offer to Sophie',
    })
    await phone.post('/webhooks/twilio/sms', phone.sms({ from: '+33600000011', body: 'NON' }))
    const escalation = await smsTo('+33600000999')
    expect(escalation.form.Body).toMatch(
      /^\[vigie\] ESCALADE CRITIQUE Door forced — Terminal 2 \/ Gates \/ door-2 : no technician/,
    )
  })
})
