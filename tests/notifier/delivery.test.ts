import { once } from 'node:events'
import { type AddressInfo, createServer } from 'node:net'
import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../domain/index.ts'
import {
  backoffDelay,
  createChannels,
  createDelivery,
  createDigests,
  createNotificationStore,
  createTwilioClient,
  type Delivery,
  type DigestSettings,
  defaultRetry,
  type NotificationRequest,
  type NotificationStore,
  notificationKeys,
  type RetrySettings,
} from '../../notifier/index.ts'
import { createLogger } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { startSmtpServer } from '../support/smtp-server.ts'
import { startTwilioServer, type TwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

const accountSid = `AC${'0123456789abcdef'.repeat(2)}`
// Spaced as in production, only shorter at the top: 67 s of attempts at the least.
const minuteRetry: RetrySettings = { attempts: 12, baseDelayMs: 2000, maxDelayMs: 15_000 }
// Under load a stall of a second or two must not end the scaled schedule early: twentyfold leaves ~2 s.
const timeScale = 20
let redis: Redis
let twilioServer: TwilioServer
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let store: NotificationStore
let delivery: Delivery
let channels: ReturnType<typeof createChannels>

/** A started delivery on a fresh prefix of its own, with its store, over the test's channels. */
async function openDelivery({ retry, digests }: { retry: RetrySettings; digests?: DigestSettings }) {
  const opened = await openTestRedis()
  const ownStore = createNotificationStore({ redis: opened.redis, keys: notificationKeys(opened.prefix) })
  const started = createDelivery({
    clock: systemClock,
    redis: opened.redis,
    prefix: opened.prefix,
    channels,
    store: ownStore,
    log: createLogger({ level: 'silent' }),
    retry,
    ...(digests
      ? {
          digests: createDigests({
            clock: systemClock,
            redis: opened.redis,
            prefix: opened.prefix,
            settings: digests,
          }),
        }
      : {}),
  })
  started.start()
  return { delivery: started, store: ownStore, redis: opened.redis }
}

beforeEach(async () => {
  twilioServer = await startTwilioServer()
  smtp = await startSmtpServer()
  channels = createChannels({
    twilio: createTwilioClient({
      clock: systemClock,
      accountSid,
      authToken: 'test-auth-token-0123456789',
      apiUrl: twilioServer.url,
    }),
    from: '+33100000000',
    smtpUrl: smtp.url,
    mailFrom: 'vigie <vigie@test.example>',
  })
  ;({ delivery, store, redis } = await openDelivery({
    retry: { attempts: 8, baseDelayMs: 50, maxDelayMs: 400 },
  }))
})
afterEach(async () => {
  await delivery.close()
  channels.close()
  await twilioServer.close()
  await smtp.close()
  await redis.quit()
})

const request = (key: string, contacts: NotificationRequest['contacts']): NotificationRequest => ({
  key,
  ticket: 'ticket-1',
  event: '1-0',
  audience: 'staff',
  recipient: 'tech-1',
  template: 'offer',
  contacts,
  content: {
    sms: { text: 'Door forced at gate 1. Reply 1 to accept.' },
    email: { text: 'Door forced at gate 1.', subject: 'Door forced', html: '<p>Door forced at gate 1.</p>' },
  },
})

const sent = (id: string) =>
  waitFor(
    async () => {
      const record = await store.get(id)
      return record?.status === 'sent' ? record : undefined
    },
    { what: `${id} sent` },
  )

describe('delivery', () => {
  it('sends one SMS, not two, when Twilio answers 500 then 201', async () => {
    twilioServer.failNext({ status: 500 })
    await delivery.enqueue(request('t1:500', [{ channel: 'sms', to: '+33600000001' }]))
    const record = await sent('t1:500|sms')
    expect(record).toMatchObject({ attempts: 2, providerId: expect.stringMatching(/^SM/) })
    expect(twilioServer.requests.map((r) => r.status)).toEqual([500, 201])
    expect(twilioServer.accepted()).toHaveLength(1)
    expect(twilioServer.accepted()[0]?.form).toMatchObject({
      To: '+33600000001',
      Body: expect.stringContaining('Door forced'),
    })
    expect(twilioServer.accepted()[0]?.path).toBe(`/2010-04-01/Accounts/${accountSid}/Messages.json`)
  })

  it("waits for Twilio's Retry-After when it answers 429", async () => {
    twilioServer.failNext({ status: 429, headers: { 'retry-after': '1' } })
    await delivery.enqueue(request('t1:429', [{ channel: 'sms', to: '+33600000001' }]))
    await sent('t1:429|sms')
    const [refused, accepted] = twilioServer.requests
    expect([refused?.status, accepted?.status]).toEqual([429, 201])
    // The backoff alone would have retried within 50-100 ms.
    expect((accepted?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(1000)
  })

  it('delivers every mail once when the SMTP server is down for a while, then up', async () => {
    await smtp.stop()
    const keys = ['m1', 'm2', 'm3']
    for (const key of keys)
      await delivery.enqueue(request(key, [{ channel: 'email', to: `${key}@example.com` }]))
    // Each has failed at least twice against the closed port before the server comes back.
    await waitFor(
      async () => {
        const records = await Promise.all(keys.map((key) => store.get(`${key}|email`)))
        return records.every((r) => (r?.attempts ?? 0) >= 2)
      },
      { what: 'two failed attempts each' },
    )
    await smtp.start()
    await Promise.all(keys.map((key) => sent(`${key}|email`)))
    expect(smtp.mails.map((m) => m.to[0]).sort()).toEqual([
      'm1@example.com',
      'm2@example.com',
      'm3@example.com',
    ])
  })

  it('sends nothing twice when the same notification is asked for again, even after its job is gone', async () => {
    const ask = request('t1:dup', [{ channel: 'sms', to: '+33600000001' }])
    await delivery.enqueue(ask)
    await sent('t1:dup|sms')
    await delivery.queue.obliterate({ force: true })
    await delivery.enqueue(ask)
    await waitFor(async () => (await delivery.queue.getJobCounts('completed')).completed === 1, {
      what: 'the second job done',
    })
    expect(twilioServer.accepted()).toHaveLength(1)
  })

  it("moves to the recipient's next contact when a channel refuses", async () => {
    twilioServer.failNext({ status: 400, body: { code: 21_211, message: "The 'To' number is not valid" } })
    await delivery.enqueue(
      request('t1:fallback', [
        { channel: 'sms', to: '+33600000001' },
        { channel: 'email', to: 'tech@example.com' },
      ]),
    )
    await sent('t1:fallback|email')
    expect(await store.get('t1:fallback|sms')).toMatchObject({ status: 'failed', attempts: 1 })
    expect(smtp.mails.map((m) => m.to)).toEqual([['tech@example.com']])
    expect((await store.ofTicket('ticket-1')).map((n) => [n.channel, n.status])).toEqual([
      ['sms', 'failed'],
      ['email', 'sent'],
    ])
  })

  it('spaces the attempts of a schedule over the outage it is meant to ride out, at the lowest jitter', () => {
    // Each retry's shortest wait is half its ceiling: what the schedule lasts when every draw is the lowest.
    const shortest = (retry: RetrySettings) =>
      Array.from({ length: retry.attempts - 1 }, (_, i) => backoffDelay(i + 1, retry, () => 0)).reduce(
        (sum, ms) => sum + ms,
        0,
      )
    expect(shortest(minuteRetry)).toBe(67_000)
    // delivery-queue.ts promises production's schedule rides out two minutes at least.
    expect(shortest(defaultRetry)).toBeGreaterThanOrEqual(120_000)
    expect(backoffDelay(3, minuteRetry, () => 1)).toBe(8000)
  })

  it('delivers every mail once when the SMTP server is down for a whole minute, then up (time scaled by 1/20)', async () => {
    // The minute schedule and the minute outage, both shortened twentyfold: the same attempts, in seconds.
    const scaled = (ms: number) => ms / timeScale
    const {
      delivery: patient,
      store: patientStore,
      redis: patientRedis,
    } = await openDelivery({
      retry: {
        attempts: minuteRetry.attempts,
        baseDelayMs: scaled(minuteRetry.baseDelayMs),
        maxDelayMs: scaled(minuteRetry.maxDelayMs),
      },
    })
    try {
      await smtp.stop()
      const downAt = Date.now()
      const keys = ['late-1', 'late-2', 'late-3']
      for (const key of keys)
        await patient.enqueue(request(key, [{ channel: 'email', to: `${key}@example.com` }]))
      await waitFor(
        async () => {
          const records = await Promise.all(keys.map((key) => patientStore.get(`${key}|email`)))
          return Date.now() - downAt >= scaled(60_000) && records.every((r) => (r?.attempts ?? 0) >= 3)
        },
        { what: 'a minute of failed attempts' },
      )
      await smtp.start()
      await waitFor(
        async () => {
          const records = await Promise.all(keys.map((key) => patientStore.get(`${key}|email`)))
          return records.every((r) => r?.status === 'sent')
        },
        { what: 'every mail sent' },
      )
      expect(smtp.mails.map((m) => m.to[0]).sort()).toEqual([
        'late-1@example.com',
        'late-2@example.com',
        'late-3@example.com',
      ])
    } finally {
      await patient.close()
      await patientRedis.quit()
    }
  })

  it('stops within its grace while a send waits on an SMTP server that never greets', async () => {
    // Accepts and stays silent: nodemailer would wait 30 s for the greeting.
    const mute = createServer(() => {})
    mute.listen(0, '127.0.0.1')
    await once(mute, 'listening')
    const opened = await openTestRedis()
    const muteStore = createNotificationStore({ redis: opened.redis, keys: notificationKeys(opened.prefix) })
    const muteChannels = createChannels({
      smtpUrl: `smtp://127.0.0.1:${(mute.address() as AddressInfo).port}`,
      mailFrom: 'vigie <vigie@test.example>',
    })
    const stuck = createDelivery({
      clock: systemClock,
      redis: opened.redis,
      prefix: opened.prefix,
      channels: muteChannels,
      store: muteStore,
      log: createLogger({ level: 'silent' }),
      closeGraceMs: 300,
    })
    try {
      stuck.start()
      await stuck.enqueue(request('mute', [{ channel: 'email', to: 'mute@example.com' }]))
      await waitFor(async () => (await stuck.queue.getJobCounts('active')).active === 1, {
        what: 'the send under way',
      })
      const started = Date.now()
      await stuck.close()
      expect(Date.now() - started).toBeGreaterThanOrEqual(295)
      expect(Date.now() - started).toBeLessThan(2300)
      // Not recorded as sent: the next start's stalled-job check runs it again.
      expect(await muteStore.get('mute|email')).toMatchObject({ status: 'queued' })
    } finally {
      muteChannels.close()
      mute.close()
      await opened.redis.quit()
    }
  })

  it('folds a burst to one recipient into one digest, past the first messages', async () => {
    const { delivery: folding, redis: foldingRedis } = await openDelivery({
      retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 400 },
      digests: { limit: 2, windowMs: 1500 },
    })
    try {
      for (let i = 1; i <= 5; i++) {
        const update = request(`burst-${i}`, [{ channel: 'sms', to: '+33600000055' }])
        await folding.enqueue({ ...update, template: 'eta', content: { sms: { text: `update ${i}` } } })
      }
      const bodies = () =>
        twilioServer
          .accepted()
          .filter((r) => r.form.To === '+33600000055')
          .map((r) => r.form.Body)
      await waitFor(() => bodies().length === 3, { what: 'two messages and a digest' })
      expect(bodies().slice(0, 2).sort()).toEqual(['update 1', 'update 2'])
      expect(bodies()[2]?.split('\n').sort()).toEqual(['update 3', 'update 4', 'update 5'])
      // An offer is never folded: it asks for an answer.
      await folding.enqueue(request('burst-offer', [{ channel: 'sms', to: '+33600000055' }]))
      await waitFor(() => bodies().length === 4, { what: 'the offer on its own' })
    } finally {
      await folding.close()
      await foldingRedis.quit()
    }
  })
})
