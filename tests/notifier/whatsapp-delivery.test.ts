import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../domain/index.ts'
import {
  createChannels,
  createDelivery,
  createNotificationStore,
  createSentLookups,
  createTwilioClient,
  type Delivery,
  type NotificationRequest,
  type NotificationStore,
  notificationKeys,
} from '../../notifier/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { startTwilioServer, type TwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

// The delivery queue's WhatsApp channel (issue 18): the once-only machinery of SMS, and no sender set.
const accountSid = `AC${'0123456789abcdef'.repeat(2)}`
const from = '+33100000000'
const whatsappFrom = '+33100000099'
const text = '[vigie] Door forced — Terminal 2 / Gates. We have detected it.'
let redis: Redis
let prefix: string
let twilioServer: TwilioServer
let store: NotificationStore
let twilio: ReturnType<typeof createTwilioClient>
const running: { close: () => unknown }[] = []

beforeEach(async () => {
  twilioServer = await startTwilioServer()
  twilio = createTwilioClient({
    clock: systemClock,
    accountSid,
    authToken: 'test-auth-token-0123456789',
    apiUrl: twilioServer.url,
  })
  ;({ redis, prefix } = await openTestRedis())
  store = createNotificationStore({ redis, keys: notificationKeys(prefix) })
})
afterEach(async () => {
  for (const part of running.splice(0)) await part.close()
  await twilioServer.close()
  await redis.quit()
})

/** A delivery queue sending through the Twilio stand-in, with or without a WhatsApp sender. */
function startDelivery({ withWhatsapp }: { withWhatsapp: boolean }): Delivery {
  const sender = withWhatsapp ? whatsappFrom : undefined
  const channels = createChannels({ twilio, from, whatsappFrom: sender, mailFrom: 'vigie <v@test.example>' })
  const delivery = createDelivery({
    clock: systemClock,
    redis,
    prefix,
    channels,
    store,
    log: createLogger({ level: 'silent' }),
    retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
    sentLookups: createSentLookups({ twilio, from, whatsappFrom: sender }),
    optedOut: async (to) => (await redis.sismember(notificationKeys(prefix).optedOut, to)) === 1,
  })
  delivery.start()
  running.push(channels, delivery)
  return delivery
}

const notice = (key: string, contacts: NotificationRequest['contacts']): NotificationRequest => ({
  key,
  ticket: null,
  event: '1-0',
  audience: 'customer',
  recipient: 'ana',
  template: 'notice',
  contacts,
  content: { sms: { text }, whatsapp: { text } },
})
const settled = (id: string) =>
  waitFor(
    async () => {
      const record = await store.get(id)
      return record && record.status !== 'queued' ? record : undefined
    },
    { what: `${id} settled` },
  )

describe('WhatsApp deliveries', () => {
  it('asks Twilio for a WhatsApp send cut off mid-way and records the one it took, sending nothing again', async () => {
    const delivery = startDelivery({ withWhatsapp: true })
    const to = 'whatsapp:+33600000211'
    const startedAt = Date.now()
    // What the killed node's send did: Twilio took it, the answer was never read.
    const first = await twilio.messages.create({ to, from: `whatsapp:${whatsappFrom}`, body: text })
    await store.open(
      {
        id: 'cut|whatsapp',
        ticket: null,
        event: '1-0',
        audience: 'customer',
        recipient: 'ana',
        channel: 'whatsapp',
        to,
        template: 'notice',
        status: 'queued',
        attempts: 1,
        sentAt: null,
        sendStartedAt: new Date(startedAt).toISOString(),
        providerId: null,
        error: null,
      },
      startedAt,
    )
    await delivery.enqueue(notice('cut', [{ channel: 'whatsapp', to }]))
    const record = await settled('cut|whatsapp')
    expect(record).toMatchObject({ status: 'sent', providerId: first.sid, sendStartedAt: null })
    expect(twilioServer.lookups()).toHaveLength(1)
    expect(twilioServer.lookups()[0]?.query).toMatchObject({ To: to, From: `whatsapp:${whatsappFrom}` })
    expect(twilioServer.accepted()).toHaveLength(1)
  })

  it('suppresses a WhatsApp address that replied STOP and still texts the same number', async () => {
    const delivery = startDelivery({ withWhatsapp: true })
    await redis.sadd(notificationKeys(prefix).optedOut, 'whatsapp:+33600000212')
    await delivery.enqueue(notice('stopped', [{ channel: 'whatsapp', to: 'whatsapp:+33600000212' }]))
    await delivery.enqueue(notice('texted', [{ channel: 'sms', to: '+33600000212' }]))
    expect(await settled('stopped|whatsapp')).toMatchObject({
      status: 'suppressed',
      error: 'opted out (STOP)',
    })
    expect(await settled('texted|sms')).toMatchObject({ status: 'sent' })
    expect(twilioServer.accepted().map((r) => [r.form.To, r.form.From])).toEqual([['+33600000212', from]])
  })

  it('without TWILIO_WHATSAPP_FROM fails the WhatsApp contact, saying why, and goes on to the next contact', async () => {
    const delivery = startDelivery({ withWhatsapp: false })
    await delivery.enqueue(
      notice('unset', [
        { channel: 'whatsapp', to: 'whatsapp:+33600000213' },
        { channel: 'sms', to: '+33600000213' },
      ]),
    )
    expect(await settled('unset|whatsapp')).toMatchObject({
      status: 'failed',
      error: 'whatsapp is not configured',
    })
    expect(await settled('unset|sms')).toMatchObject({ status: 'sent', to: '+33600000213' })
    expect(twilioServer.accepted().map((r) => r.form.To)).toEqual(['+33600000213'])
  })
})
