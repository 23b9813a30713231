import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notificationKeys } from '../../notifier/index.ts'
import { type EngagedService, startEngagedService } from '../support/engaged-service.ts'
import { openTestRedis } from '../support/redis.ts'
import type { TestService } from '../support/test-service.ts'
import type { TwilioPhone } from '../support/twilio-phone.ts'

// Issue 18: the SMS webhook takes WhatsApp messages too, keyed by their From ("whatsapp:+33…"). A From
// that claims WhatsApp and is not "whatsapp:" and an E.164 number is refused, signed or not, and keys nothing.
const siteFile = `
sites: [{ id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices: [{ id: door-1, kind: door, site: s1, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }]
technicians: [{ id: tech-ann, name: Ann, phone: "+33600000041", language: en, skills: [security], location: { lat: 49.001, lon: 2.57 } }]
rules: [{ id: door-forced, name: Door forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }]
dispatch: { offerTimeout: 30m, maxOffers: 3, travelSpeedKmh: 5 }
`
const authToken = 'twilio-test-auth-token-0123456789'

let engaged: EngagedService
let world: TestService
let phone: TwilioPhone
let redis: Redis

beforeAll(async () => {
  engaged = await startEngagedService({ site: siteFile, authToken })
  ;({ world, phone } = engaged)
  ;({ redis } = await openTestRedis())
})
afterAll(async () => {
  await redis?.quit()
  await engaged?.close()
})

const hostileSenders = [
  'whatsapp:',
  'whatsapp:garbage',
  'whatsapp:+33 600000221',
  'whatsapp:+0600000221',
  'whatsapp:+33600000221999999',
  'whatsapp:whatsapp:+33600000221',
  'whatsapp:+33600000221\n',
  'whatsapp:+33600000221;STOP',
  'WhatsApp:+33600000221',
  'whatsapp:<script>alert(1)</script>',
  `whatsapp:+${'3'.repeat(200)}`,
]

describe('WhatsApp senders at the SMS webhook', () => {
  it.each(hostileSenders)(
    'refuses the From %j with a 400 naming the field, and opts nothing out',
    async (from) => {
      const answer = await phone.post('/webhooks/twilio/sms', phone.sms({ from, body: 'STOP' }))
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.text)).toEqual({
        error: {
          code: 'VALIDATION_FAILED',
          message: expect.stringMatching(
            /^Not a Twilio SMS: From: .*(whatsapp: followed by|<=64 characters)/,
          ),
        },
      })
      expect(await redis.scard(notificationKeys(world.prefix).optedOut)).toBe(0)
    },
  )

  it('refuses an unsigned STOP from a WhatsApp address', async () => {
    const form = phone.sms({ from: 'whatsapp:+33600000221', body: 'STOP' })
    const answer = await phone.post('/webhooks/twilio/sms', form, 'not-a-signature')
    expect(answer.status).toBe(403)
    expect(await redis.scard(notificationKeys(world.prefix).optedOut)).toBe(0)
  })

  it('keys a well-formed WhatsApp STOP by its whole address, and lets a technician answer an offer from WhatsApp', async () => {
    const stop = await phone.post(
      '/webhooks/twilio/sms',
      phone.sms({ from: 'whatsapp:+33600000221', body: 'STOP' }),
    )
    expect(stop.status).toBe(200)
    expect(await redis.smembers(notificationKeys(world.prefix).optedOut)).toEqual(['whatsapp:+33600000221'])

    await world.publish('door-1', { type: 'door', open: true })
    const offered = await engaged.offeredTo('tech-ann', 'door-1')
    const reply = await phone.post(
      '/webhooks/twilio/sms',
      phone.sms({ from: 'whatsapp:+33600000041', body: '1' }),
    )
    expect(reply).toMatchObject({ status: 200, text: expect.stringContaining('is yours') })
    expect((await engaged.ticket(offered.id)).status).toBe('acknowledged')
  })
})
