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
  type Notification,
  type NotificationRequest,
  type NotificationStore,
  notificationKeys,
} from '../../notifier/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { startSmtpServer } from '../support/smtp-server.ts'
import { startTwilioServer, type TwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

// A send cut off mid-way (its node SIGKILLed, issue 17): the next run asks the provider before sending.
const accountSid = `AC${'0123456789abcdef'.repeat(2)}`
const from = '+33100000000'
const text = 'Door forced at gate 1. Reply 1 to accept.'
let redis: Redis
let twilioServer: TwilioServer
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let store: NotificationStore
let delivery: Delivery
let twilio: ReturnType<typeof createTwilioClient>
let channels: ReturnType<typeof createChannels>

beforeEach(async () => {
  twilioServer = await startTwilioServer()
  smtp = await startSmtpServer()
  twilio = createTwilioClient({
    clock: systemClock,
    accountSid,
    authToken: 'test-auth-token-0123456789',
    apiUrl: twilioServer.url,
  })
  channels = createChannels({ twilio, from, smtpUrl: smtp.url, mailFrom: 'vigie <vigie@test.example>' })
  const opened = await openTestRedis()
  redis = opened.redis
  store = createNotificationStore({ redis, keys: notificationKeys(opened.prefix) })
  delivery = createDelivery({
    clock: systemClock,
    redis,
    prefix: opened.prefix,
    channels,
    store,
    log: createLogger({ level: 'silent' }),
    retry: { attempts: 4, baseDelayMs: 50, maxDelayMs: 200 },
    sentLookups: createSentLookups({ twilio, from }),
  })
  delivery.start()
})
afterEach(async () => {
  await delivery.close()
  channels.close()
  await twilioServer.close()
  await smtp.close()
  await redis.quit()
})

const request = (key: string, contact: NotificationRequest['contacts'][number]): NotificationRequest => ({
  key,
  ticket: null,
  event: '1-0',
  audience: 'staff',
  recipient: 'tech-1',
  template: 'offer',
  contacts: [contact],
  content: { sms: { text }, email: { text, subject: 'Door forced' } },
})

/** The record as a node SIGKILLed after noting its send left it: begun, no outcome. */
async function cutOff(key: string, contact: NotificationRequest['contacts'][number], startedAt: number) {
  const record: Notification = {
    id: `${key}|${contact.channel}`,
    ticket: null,
    event: '1-0',
    audience: 'staff',
    recipient: 'tech-1',
    channel: contact.channel,
    to: contact.to,
    template: 'offer',
    status: 'queued',
    attempts: 1,
    sentAt: null,
    sendStartedAt: new Date(startedAt).toISOString(),
    providerId: null,
    error: null,
  }
  await store.open(record, startedAt)
  return record.id
}

const sent = (id: string) =>
  waitFor(
    async () => {
      const record = await store.get(id)
      return record?.status === 'sent' ? record : undefined
    },
    { what: `${id} sent` },
  )

describe('a send cut off mid-way', () => {
  it('is sent once when the provider has no such message', async () => {
    const to = '+33600000011'
    // An older message with the same text to the same number: before the noted start, so not this one.
    await twilio.messages.create({ to, from, body: text })
    const id = await cutOff('absent', { channel: 'sms', to }, Date.now() + 10_000)
    await delivery.enqueue(request('absent', { channel: 'sms', to }))
    const record = await sent(id)
    const creates = twilioServer.accepted().length - 1
    console.log(
      `reconcile, provider without the message: ${twilioServer.lookups().length} lookup, ${creates} create`,
    )
    expect(twilioServer.lookups()).toHaveLength(1)
    expect(twilioServer.lookups()[0]?.query).toMatchObject({
      To: to,
      From: from,
      'DateSent>': expect.any(String),
    })
    expect(creates).toBe(1)
    expect(record).toMatchObject({
      attempts: 2,
      sendStartedAt: null,
      providerId: twilioServer.accepted()[1]?.sid,
    })
  })

  it('is recorded sent with the sid the provider has, and not sent again', async () => {
    const to = '+33600000012'
    const startedAt = Date.now()
    // What the killed node's send did: the provider took it, the answer was never read.
    const first = await twilio.messages.create({ to, from, body: text })
    const id = await cutOff('present', { channel: 'sms', to }, startedAt)
    await delivery.enqueue(request('present', { channel: 'sms', to }))
    const record = await sent(id)
    console.log(
      `reconcile, provider with the message: ${twilioServer.lookups().length} lookup, ` +
        `${twilioServer.accepted().length} create in all`,
    )
    expect(twilioServer.accepted()).toHaveLength(1)
    expect(record).toMatchObject({ providerId: first.sid, attempts: 1, sendStartedAt: null, error: null })
  })

  it('retries the lookup when the provider cannot answer it, and sends nothing meanwhile', async () => {
    const to = '+33600000013'
    const id = await cutOff('lookup-down', { channel: 'sms', to }, Date.now())
    twilioServer.failNext({ status: 503 })
    await delivery.enqueue(request('lookup-down', { channel: 'sms', to }))
    const record = await sent(id)
    const [refused, answered, create] = twilioServer.requests
    expect([refused?.method, refused?.status, answered?.method, answered?.status]).toEqual([
      'GET',
      503,
      'GET',
      200,
    ])
    expect(create?.method).toBe('POST')
    expect(twilioServer.accepted()).toHaveLength(1)
    expect(record.providerId).toBe(create?.sid)
  })

  it('sends an email again: its provider cannot be asked (at least once)', async () => {
    const contact = { channel: 'email' as const, to: 'tech@example.com' }
    const id = await cutOff('mail', contact, Date.now())
    await delivery.enqueue(request('mail', contact))
    await sent(id)
    expect(smtp.mails.map((m) => m.to)).toEqual([['tech@example.com']])
    expect(twilioServer.lookups()).toHaveLength(0)
  })

  it('notes the start of every send before the provider answers', async () => {
    const to = '+33600000014'
    twilioServer.holdAnswers()
    await delivery.enqueue(request('noted', { channel: 'sms', to }))
    await waitFor(() => twilioServer.accepted().length === 1, { what: 'the create received' })
    expect(await store.get('noted|sms')).toMatchObject({
      status: 'queued',
      attempts: 1,
      sendStartedAt: expect.any(String),
    })
    twilioServer.releaseAnswers()
    expect(await sent('noted|sms')).toMatchObject({ sendStartedAt: null, attempts: 1 })
    expect(twilioServer.lookups()).toHaveLength(0)
  })
})
