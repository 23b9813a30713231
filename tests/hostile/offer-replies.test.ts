import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashSecret } from '../../ingest/index.ts'
import { type EngagedService, startEngagedService, type TicketView } from '../support/engaged-service.ts'
import type { TestService } from '../support/test-service.ts'
import type { TwilioPhone } from '../support/twilio-phone.ts'
import { waitFor } from '../support/wait-for.ts'

// Issue 15, "Replies that act on the wrong offer": a reply acts only for the technician who holds the offer
// now. Each test has technicians of its own skill, so one test's offers never meet another's.
const eastDoors = Array.from({ length: 150 }, (_, i) => `door-e${i + 1}`)
// Hashed at a sixteenth of production's cost: 150 doors cost the service milliseconds to seed and log in, not seconds.
const eastHashes = await Promise.all(
  eastDoors.map((id) => hashSecret(`secret-${id}`, { N: 1024, r: 8, p: 1 })),
)
const siteFile = `
sites:
  - id: s1
    name: Terminal 2
    timezone: Europe/Paris
    location: { lat: 49.0, lon: 2.57 }
    zones: [{ id: gates, name: Gates }, { id: west, name: West pier }, { id: east, name: East pier }]
devices:
  - { id: aed-1, kind: aed, site: s1, zone: gates, secret: "secret-aed-1", location: { lat: 49.0, lon: 2.57 } }
  - { id: aed-2, kind: aed, site: s1, zone: gates, secret: "secret-aed-2", location: { lat: 49.0, lon: 2.57 } }
  - { id: door-g1, kind: door, site: s1, zone: gates, secret: "secret-door-g1", location: { lat: 49.0, lon: 2.57 } }
  - { id: door-g2, kind: door, site: s1, zone: gates, secret: "secret-door-g2", location: { lat: 49.0, lon: 2.57 } }
  - { id: door-w1, kind: door, site: s1, zone: west, secret: "secret-door-w1", location: { lat: 49.0, lon: 2.57 } }
${eastDoors.map((id, i) => `  - { id: ${id}, kind: door, site: s1, zone: east, secretHash: "${eastHashes[i]}" }`).join('\n')}
technicians:
  - { id: tech-ann, name: Ann, phone: "+33600000021", language: en, skills: [first-aid], location: { lat: 49.001, lon: 2.57 } }
  - { id: tech-bob, name: Bob, phone: "+33600000022", language: en, skills: [first-aid], location: { lat: 49.004, lon: 2.57 } }
  - { id: tech-cy, name: Cy, phone: "+33600000023", language: en, skills: [keys], location: { lat: 49.001, lon: 2.57 } }
  - { id: tech-dan, name: Dan, phone: "+33600000024", language: en, skills: [locks], location: { lat: 49.001, lon: 2.57 } }
  - { id: tech-eve, name: Eve, phone: "+33600000025", language: en, skills: [security], location: { lat: 49.001, lon: 2.57 } }
rules:
  - { id: aed-removed, name: AED removed, match: { kind: aed }, condition: { field: present, equals: false }, severity: critical, skill: first-aid, voice: true }
  - { id: door-forced, name: Door forced, match: { kind: door, zone: gates }, condition: { unauthorised: true }, severity: critical, skill: security }
  - { id: west-door, name: West door forced, match: { kind: door, zone: west }, condition: { unauthorised: true }, severity: major, skill: keys }
  - { id: east-door, name: East door forced, match: { kind: door, zone: east }, condition: { unauthorised: true }, severity: minor, skill: locks }
dispatch: { offerTimeout: 30m, maxOffers: 3, travelSpeedKmh: 5 }
`
const authToken = 'twilio-test-auth-token-0123456789'
const phones = { ann: '+33600000021', cy: '+33600000023', eve: '+33600000025' }

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

/** What the Twilio-compatible server was asked to send to this number about this device. */
const sent = (kind: 'Messages' | 'Calls', to: string, device: string) =>
  waitFor(
    () =>
      engaged.twilio
        .accepted()
        .find(
          (r) =>
            r.path.endsWith(`/${kind}.json`) &&
            r.form.To === to &&
            (r.form.Body ?? r.form.Twiml ?? '').includes(device),
        ),
    { what: `the ${kind} to ${to} about ${device}` },
  )

/** The <Gather> action of a call: where Twilio posts the key pressed, path and query. */
async function gatherPath(to: string, device: string): Promise<string> {
  const call = await sent('Calls', to, device)
  const action = /action="([^"]+)"/.exec(call.form.Twiml ?? '')?.[1]?.replaceAll('&amp;', '&') ?? ''
  expect(action.startsWith(`${world.publicUrl}/webhooks/twilio/voice?`)).toBe(true)
  return action.slice(world.publicUrl.length)
}

/** The console (an admin key) declines for whoever holds the offer: it moves to the next technician. */
async function moveOfferOn(id: string, to: string): Promise<TicketView> {
  await world.api(`/api/tickets/${id}/decline`, { method: 'POST' })
  return waitFor(async () => {
    const t = await ticket(id)
    return t.offer?.technician === to ? t : undefined
  })
}

const count = (t: TicketView, type: string) => t.timeline.filter((e) => e.type === type).length

describe('a reply acts only on the offer its technician holds now', () => {
  it('a late key press on an old call does not accept a ticket now offered to someone else', async () => {
    await world.publish('aed-1', { type: 'aed', present: false, cabinetOpen: true })
    const offered = await offeredTo('tech-ann', 'aed-1')
    const gather = await gatherPath(phones.ann, 'aed-1')
    await moveOfferOn(offered.id, 'tech-bob')

    // Ann presses 1 on the call she got for it, after the ticket went to Bob.
    const late = await phone.post(gather, phone.keypress({ to: phones.ann, digits: '1' }))
    const after = await ticket(offered.id)
    expect(after).toMatchObject({
      status: 'assigned',
      assignee: 'tech-bob',
      offer: { technician: 'tech-bob' },
    })
    expect(count(after, 'ticket.acknowledged')).toBe(0)
    expect(late.status).toBe(200)
    expect(late.text).toContain('no longer offered to you')
  })

  it('a stale 2, pressed on an old call or texted, leaves the offer another technician holds now', async () => {
    await world.publish('aed-2', { type: 'aed', present: false, cabinetOpen: true })
    const offered = await offeredTo('tech-ann', 'aed-2')
    const gather = await gatherPath(phones.ann, 'aed-2')
    const moved = await moveOfferOn(offered.id, 'tech-bob')

    const pressed = await phone.post(gather, phone.keypress({ to: phones.ann, digits: '2' }))
    const texted = await phone.post('/webhooks/twilio/sms', phone.sms({ from: phones.ann, body: '2' }))

    const after = await ticket(offered.id)
    expect(count(after, 'ticket.declined')).toBe(1)
    expect(count(after, 'ticket.escalated')).toBe(0)
    expect(after).toMatchObject({ status: 'assigned', offer: { technician: 'tech-bob' } })
    expect(after.offer).toEqual(moved.offer)
    expect(pressed.status).toBe(200)
    expect(pressed.text).toContain('no longer offered to you')
    expect(texted.status).toBe(200)
    expect(texted.text).toContain('No offer waits for you')
  })

  it('a texted 1 accepts the offer even with 150 newer assigned tickets in front of it', async () => {
    await world.publish('door-w1', { type: 'door', open: true })
    const offered = await offeredTo('tech-cy', 'door-w1')
    for (let i = 0; i < eastDoors.length; i += 10)
      await Promise.all(
        eastDoors.slice(i, i + 10).map((id) => world.publish(id, { type: 'door', open: true })),
      )
    await waitFor(
      async () => {
        const { items } = await world.api<{ items: TicketView[] }>(
          '/api/tickets?status=assigned&rule=east-door&limit=1000',
        )
        return items.length === eastDoors.length && items.every((t) => t.createdAt > offered.createdAt)
      },
      { what: '150 newer tickets offered to Dan', timeoutMs: 30_000 },
    )

    const reply = await phone.post('/webhooks/twilio/sms', phone.sms({ from: phones.cy, body: '1' }))
    expect(reply.text).toContain(`ticket ${offered.id.slice(0, 8)} is yours`)
    expect(await ticket(offered.id)).toMatchObject({
      status: 'acknowledged',
      assignee: 'tech-cy',
      offer: null,
    })
  })

  it('with two open offers the second SMS carries a code, a bare 1 asks which, and "1 <code>" accepts that one', async () => {
    await world.publish('door-g1', { type: 'door', open: true })
    const first = await offeredTo('tech-eve', 'door-g1')
    const firstSms = await sent('Messages', phones.eve, 'door-g1')
    expect(firstSms.form.Body).toContain('Reply 1 to accept, 2 to decline.')

    await world.publish('door-g2', { type: 'door', open: true })
    const second = await offeredTo('tech-eve', 'door-g2')
    const secondSms = await sent('Messages', phones.eve, 'door-g2')
    const code = second.offer?.code ?? ''
    expect(code).toMatch(/^[0-9A-Z]{3}$/)
    expect(code).not.toBe(first.offer?.code)
    expect(secondSms.form.Body).toContain(`Reply 1 ${code} to accept, 2 ${code} to decline.`)

    const bare = await phone.post('/webhooks/twilio/sms', phone.sms({ from: phones.eve, body: '1' }))
    expect(bare.text).toContain('2 open offers')
    expect(bare.text).toContain(`1 ${first.offer?.code} (Door forced`)
    expect(bare.text).toContain(`1 ${code} (Door forced`)
    expect((await ticket(first.id)).status).toBe('assigned')
    expect((await ticket(second.id)).status).toBe('assigned')

    const unknown = first.offer?.code === '0Z0' ? '1Z1' : '0Z0'
    const wrong = await phone.post(
      '/webhooks/twilio/sms',
      phone.sms({ from: phones.eve, body: `oui ${unknown}` }),
    )
    expect(wrong.text).toContain(`No open offer of yours has the code ${unknown}`)

    const chosen = await phone.post(
      '/webhooks/twilio/sms',
      phone.sms({ from: phones.eve, body: `1 ${code}` }),
    )
    expect(chosen.text).toContain(`ticket ${second.id.slice(0, 8)} is yours`)
    expect(await ticket(second.id)).toMatchObject({ status: 'acknowledged', assignee: 'tech-eve' })
    expect(await ticket(first.id)).toMatchObject({ status: 'assigned', offer: { technician: 'tech-eve' } })

    // One offer left: a bare 1 needs no code.
    const last = await phone.post('/webhooks/twilio/sms', phone.sms({ from: phones.eve, body: '1' }))
    expect(last.text).toContain(`ticket ${first.id.slice(0, 8)} is yours`)
  })
})
