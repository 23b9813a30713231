import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../config/index.ts'
import {
  createDispatcher,
  createTechnicianRoster,
  createTicketStore,
  type Incident,
  ruleKeys,
  type Ticket,
  type TicketStore,
} from '../../rules/index.ts'
import { openClient } from '../../service/index.ts'
import { testRedisUrl } from '../support/redis.ts'
import { writeTempFile } from '../support/temp-files.ts'
import { startTestService, type TestService, testTwilioAccount } from '../support/test-service.ts'
import { type TwilioPhone, twilioPhone } from '../support/twilio-phone.ts'

// Issue 16, "A reply accepts its offer whatever the number of open tickets": the SMS webhook finds the
// sender's offers through indexes, never through the newest 100 tickets (the old cap).
const site = `
sites: [{ id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices: [{ id: door-1, kind: door, site: s1, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }]
technicians:
  - { id: tech-ann, name: Ann, phone: "+33600000031", skills: [security], location: { lat: 49.001, lon: 2.57 } }
  - { id: tech-bob, name: Bob, phone: "+33600000032", skills: [hvac], location: { lat: 49.001, lon: 2.57 } }
  - { id: tech-cy, name: Cy, phone: "+33600000033", skills: [hvac], location: { lat: 49.001, lon: 2.57 } }
  - { id: tech-dan, name: Dan, phone: "+33600000034", skills: [locks], location: { lat: 49.001, lon: 2.57 } }
rules:
  - { id: door-forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }
  - { id: lock-jammed, match: { kind: door }, condition: { field: open, equals: true }, severity: major, skill: locks }
dispatch: { offerTimeout: 30m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`
const authToken = 'twilio-test-auth-token-many-0123'
const bulk = 320

let world: TestService
let phone: TwilioPhone
let redis: Redis
let tickets: TicketStore
let dispatcher: ReturnType<typeof createDispatcher>

beforeAll(async () => {
  // The API alone: no notifier texting 320 offers, no workers; the test writes tickets and offers itself.
  world = await startTestService({
    site,
    env: {
      VIGIE_ROLES: 'api',
      TWILIO_ACCOUNT_SID: testTwilioAccount.accountSid,
      TWILIO_AUTH_TOKEN: authToken,
      TWILIO_FROM: testTwilioAccount.number,
    },
  })
  phone = twilioPhone({ publicUrl: world.publicUrl, authToken, ...testTwilioAccount })
  redis = await openClient(testRedisUrl(), 5000)
  const keys = ruleKeys(world.prefix)
  const { site: siteFile } = loadConfig({ env: { VIGIE_CONFIG: writeTempFile('site.yaml', site) } })
  tickets = createTicketStore({ redis, keys, sla: siteFile.sla })
  const roster = createTechnicianRoster({ redis, keys, technicians: siteFile.technicians })
  dispatcher = createDispatcher({ redis, keys, tickets, roster, world: siteFile, placeOf: async () => null })
})
afterAll(async () => {
  await world?.close()
  await redis?.quit()
})

const incident = (key: string, rule: string, at: number): Incident => ({
  id: `incident-${key}`,
  correlationKey: key,
  rule,
  severity: 'major',
  site: 's1',
  zone: null,
  device: 'door-1',
  status: 'active',
  openedAt: new Date(at).toISOString(),
  updatedAt: new Date(at).toISOString(),
  clearedAt: null,
  count: 1,
  lastValue: true,
})

/** A ticket moved as dispatch and a reply would move it: offered to, or acknowledged by, a technician. */
const heldBy = (technician: string, acknowledged: boolean, at: number) => (t: Ticket) => ({
  ...t,
  status: acknowledged ? ('acknowledged' as const) : ('assigned' as const),
  assignee: technician,
  offer: acknowledged ? null : { technician, expiresAt: new Date(at + 1_800_000).toISOString() },
  timeline: [
    ...t.timeline,
    { at: new Date(at).toISOString(), type: 'ticket.offered' as const, by: 'dispatch', detail: technician },
    ...(acknowledged
      ? [
          {
            at: new Date(at).toISOString(),
            type: 'ticket.acknowledged' as const,
            by: technician,
            detail: null,
          },
        ]
      : []),
  ],
})

const sms = (from: string, body: string) => phone.post('/webhooks/twilio/sms', phone.sms({ from, body }))

describe('an SMS reply among many open tickets', () => {
  it(`accepts its offer with ${bulk} newer tickets held by others and by the same technician`, async () => {
    const start = Date.now() - 3_600_000
    const { ticket: target } = await tickets.openFor(incident('target', 'door-forced', start), start)

    // Newer than the offered ticket, so a read of "the newest N" would never reach it.
    const holders = [
      ['tech-bob', false],
      ['tech-bob', true],
      ['tech-ann', true],
      ['tech-cy', false],
    ] as const
    for (let i = 0; i < bulk; i += 40)
      await Promise.all(
        Array.from({ length: Math.min(40, bulk - i) }, async (_, j) => {
          const at = start + 60_000 + (i + j) * 1000
          const { ticket } = await tickets.openFor(incident(`bulk-${i + j}`, 'door-forced', at), at)
          const [technician, acknowledged] = holders[(i + j) % holders.length] ?? holders[0]
          await tickets.update(ticket.id, heldBy(technician, acknowledged, at + 500))
        }),
      )
    const counts = await tickets.counts()
    expect(counts).toMatchObject({ 'status:assigned': bulk / 2, 'status:acknowledged': bulk / 2 })

    const offered = await dispatcher.dispatch(target.id, Date.now())
    expect(offered?.offer?.technician).toBe('tech-ann')
    expect((await tickets.offersOf('tech-ann')).map((t) => t.id)).toEqual([target.id])

    const reply = await sms('+33600000031', '1')
    expect(reply.status).toBe(200)
    expect(reply.text).toContain(`ticket ${target.id.slice(0, 8)} is yours`)
    expect(await tickets.get(target.id)).toMatchObject({
      status: 'acknowledged',
      assignee: 'tech-ann',
      offer: null,
    })
    // Nothing else moved: Bob's and Cy's offers still wait.
    expect(await tickets.counts()).toMatchObject({
      'status:assigned': bulk / 2,
      'status:acknowledged': bulk / 2 + 1,
    })
    expect(await tickets.offersOf('tech-bob')).toHaveLength(bulk / 4)
  })

  it('answers a technician whose phone changed at the new number, and not at the old one', async () => {
    const moved = { id: 'tech-dan', name: 'Dan', phone: '+33600000044', skills: ['locks'] }
    await world.api('/api/technicians/tech-dan', { method: 'PUT', body: moved })
    const at = Date.now()
    const { ticket } = await tickets.openFor(incident('jammed', 'lock-jammed', at), at)
    expect((await dispatcher.dispatch(ticket.id, at))?.offer?.technician).toBe('tech-dan')

    const fromOld = await sms('+33600000034', '1')
    expect(fromOld.text).toContain('No offer waits for you')
    expect(await tickets.get(ticket.id)).toMatchObject({
      status: 'assigned',
      offer: { technician: 'tech-dan' },
    })

    const fromNew = await sms('+33600000044', '1')
    expect(fromNew.text).toContain(`ticket ${ticket.id.slice(0, 8)} is yours`)
    expect(await tickets.get(ticket.id)).toMatchObject({ status: 'acknowledged', assignee: 'tech-dan' })
  })
})
