import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EngagedService, startEngagedService, type TicketView } from '../support/engaged-service.ts'
import type { TestService } from '../support/test-service.ts'
import type { TwilioPhone } from '../support/twilio-phone.ts'
import { waitFor } from '../support/wait-for.ts'

// Issue 15, "Webhook replay": Twilio signs the URL followed by every key and value with no separator, so
// a captured request re-sent with one field folded into another's value keeps its signature.
const siteFile = `
sites:
  - { id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: gates, name: Gates }] }
devices:
  - { id: door-1, kind: door, site: s1, zone: gates, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }
  - { id: door-2, kind: door, site: s1, zone: gates, secret: "secret-door-2", location: { lat: 49.0, lon: 2.57 } }
  - { id: aed-1, kind: aed, site: s1, zone: gates, secret: "secret-aed-1", location: { lat: 49.0, lon: 2.57 } }
technicians:
  - { id: tech-ann, name: Ann, phone: "+33600000031", language: en, skills: [security, first-aid], location: { lat: 49.001, lon: 2.57 } }
  - { id: tech-bob, name: Bob, phone: "+33600000032", language: en, skills: [first-aid], location: { lat: 49.004, lon: 2.57 } }
rules:
  - { id: door-forced, name: Door forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }
  - { id: aed-removed, name: AED removed, match: { kind: aed }, condition: { field: present, equals: false }, severity: critical, skill: first-aid, voice: true }
dispatch: { offerTimeout: 30m, maxOffers: 3, travelSpeedKmh: 5 }
`
const authToken = 'twilio-test-auth-token-0123456789'
const ann = '+33600000031'

let engaged: EngagedService
let world: TestService
let phone: TwilioPhone

beforeAll(async () => {
  engaged = await startEngagedService({ site: siteFile, authToken })
  ;({ world, phone } = engaged)
})
afterAll(() => engaged?.close())

const ticket = (id: string) => engaged.ticket(id)
const offeredTo = (technician: string, device: string) => engaged.offeredTo(technician, device)
const count = (t: TicketView, type: string) => t.timeline.filter((e) => e.type === type).length

/**
 * Moves `field` into the value of `into`, the key just before it in sorted order: the signed text
 * `…into<value>field<value>…` reads the same, so the captured signature still holds.
 */
function fold(form: Record<string, string>, into: string, ...fields: string[]): Record<string, string> {
  const folded: Record<string, string> = { ...form }
  for (const field of fields) {
    folded[into] = `${folded[into]}${field}${form[field]}`
    delete folded[field]
  }
  return folded
}

describe('a captured Twilio webhook replayed changes nothing', () => {
  it('refuses an SMS reply re-sent with fields folded into MessageSid, which would accept a newer offer', async () => {
    await world.publish('door-1', { type: 'door', open: true })
    const first = await offeredTo('tech-ann', 'door-1')
    const captured = phone.sms({ from: ann, body: '1' })
    const signature = phone.sign('/webhooks/twilio/sms', captured)
    expect((await phone.post('/webhooks/twilio/sms', captured, signature)).text).toContain('is yours')
    expect((await ticket(first.id)).status).toBe('acknowledged')

    await world.publish('door-2', { type: 'door', open: true })
    const second = await offeredTo('tech-ann', 'door-2')
    // Sorted, MessageSid is followed by NumMedia then NumSegments: "MessageSidSM…NumMedia0NumSegments1".
    const folds = [
      fold(captured, 'MessageSid', 'NumMedia'),
      fold(captured, 'MessageSid', 'NumMedia', 'NumSegments'),
    ]
    const answers = []
    for (const replay of folds) {
      expect(phone.sign('/webhooks/twilio/sms', replay)).toBe(signature)
      answers.push(await phone.post('/webhooks/twilio/sms', replay, signature))
    }
    const exact = await phone.post('/webhooks/twilio/sms', captured, signature)

    const after = await ticket(second.id)
    expect(count(after, 'ticket.acknowledged')).toBe(0)
    expect(after).toMatchObject({ status: 'assigned', offer: { technician: 'tech-ann' } })
    for (const folded of answers) {
      expect(folded.status).toBe(400)
      expect(folded.text).toContain('MessageSid')
    }
    expect(exact.status).toBe(200)
    expect(exact.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>')
  })

  it('refuses a key press re-sent with CallStatus folded into CallSid, which would withdraw the next offer', async () => {
    await world.publish('aed-1', { type: 'aed', present: false, cabinetOpen: true })
    const offered = await offeredTo('tech-ann', 'aed-1')
    const call = await waitFor(
      () =>
        engaged.twilio
          .accepted()
          .find(
            (r) => r.path.endsWith('/Calls.json') && r.form.To === ann && r.form.Twiml?.includes('aed-1'),
          ),
      { what: 'the call to Ann' },
    )
    const action = /action="([^"]+)"/.exec(call.form.Twiml ?? '')?.[1]?.replaceAll('&amp;', '&') ?? ''
    const gather = action.slice(world.publicUrl.length)
    const captured = phone.keypress({ to: ann, digits: '2' })
    const signature = phone.sign(gather, captured)
    expect((await phone.post(gather, captured, signature)).text).toContain('moves on')
    const moved = await offeredTo('tech-bob', 'aed-1')

    // Sorted, CallSid is followed by CallStatus: "CallSidCA…CallStatusin-progress".
    const replay = fold(captured, 'CallSid', 'CallStatus')
    expect(phone.sign(gather, replay)).toBe(signature)
    const answer = await phone.post(gather, replay, signature)
    // The last value cut in two, its tail made a key of its own: "msgGather E" + "nd" + "".
    const { msg: _msg, ...rest } = captured
    const cut = { ...rest, msg: 'Gather E', nd: '' }
    expect(phone.sign(gather, cut)).toBe(signature)
    const split = await phone.post(gather, cut, signature)
    // The same request on the URL spelled another way, which the signature check also accepts.
    const respelled = await phone.post(gather.replace('tech-ann', 'tech%2Dann'), captured, signature)

    const after = await ticket(offered.id)
    expect(count(after, 'ticket.declined')).toBe(1)
    expect(after).toMatchObject({ status: 'assigned', offer: { technician: 'tech-bob' } })
    expect(after.offer).toEqual(moved.offer)
    expect(answer.status).toBe(400)
    expect(answer.text).toContain('CallSid: CA followed by 32 lowercase hex digits')
    expect(split.status).toBe(400)
    expect(split.text).toContain('nd: not a Twilio field name')
    expect(respelled.status).toBe(200)
    expect(respelled.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>')
  })

  it('answers a signed form without the ids and fields Twilio sends with 400 and why', async () => {
    const form = { From: ann, Body: '1', MessageSid: 'SMreply1' }
    const answer = await phone.post('/webhooks/twilio/sms', form)
    expect(answer.status).toBe(400)
    expect(JSON.parse(answer.text)).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message:
          'Not a Twilio SMS: AccountSid: missing; MessageSid: SM or MM followed by 32 lowercase hex digits',
      },
    })
    const repeated = await fetch(`${world.publicUrl}/webhooks/twilio/sms`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': phone.sign('/webhooks/twilio/sms', phone.sms({ from: ann, body: '1' })),
      },
      body: `${new URLSearchParams(phone.sms({ from: ann, body: '1' }))}&Body=2`,
    })
    expect(repeated.status).toBe(400)
  })

  it('records a delivery receipt once, however often and however fast it is replayed', async () => {
    const { items } = await world.api<{ items: TicketView[] }>('/api/tickets?device=door-1')
    const sms = await waitFor(
      () => engaged.twilio.accepted().find((r) => r.path.endsWith('/Messages.json') && r.form.To === ann),
      { what: "Ann's offer SMS" },
    )
    const record = async () =>
      (
        await world.api<{ items: { channel: string; recipient: string; status: string }[] }>(
          `/api/notifications?ticket=${items[0]?.id}`,
        )
      ).items.find((n) => n.channel === 'sms' && n.recipient === 'tech-ann')
    await waitFor(async () => (await record())?.status === 'sent', { what: 'the SMS recorded as sent' })
    const delivered = async () => {
      const text = await (await fetch(`${world.publicUrl}/metrics`)).text()
      return Number(/vigie_notification_outcomes_total\{status="delivered"\} (\d+)/.exec(text)?.[1] ?? 0)
    }
    const before = await delivered()

    const receipt = phone.smsStatus({ sid: sms.sid ?? '', to: ann, status: 'delivered' })
    const signature = phone.sign('/webhooks/twilio/status', receipt)
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => phone.post('/webhooks/twilio/status', receipt, signature)),
    )
    expect(burst.map((r) => r.status)).toEqual(Array(10).fill(204))
    expect((await phone.post('/webhooks/twilio/status', receipt, signature)).status).toBe(204)
    expect((await record())?.status).toBe('delivered')
    expect((await delivered()) - before).toBe(1)
  })
})
