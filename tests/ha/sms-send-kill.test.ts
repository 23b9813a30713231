import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { systemClock } from '../../domain/index.ts'
import {
  createDelivery,
  createNotificationStore,
  type NotificationRequest,
  notificationKeys,
  notificationSchema,
} from '../../notifier/index.ts'
import { createLogger, openClient, startRedisSentinelSet } from '../../service/index.ts'
import { type ServiceProcess, spawnService } from '../support/service-process.ts'
import { startTwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

const silent = createLogger({ level: 'silent' })
const accountSid = `AC${'0123456789abcdef'.repeat(2)}`
const to = '+33600000077'

describe('a vigie node SIGKILLed during an SMS send (issue 17)', () => {
  it('leaves the message sent once: another node asks Twilio, finds it, and records its sid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigie-ha-sms-'))
    const set = await startRedisSentinelSet({
      dir,
      log: silent,
      replicas: 1,
      sentinels: 1,
      appendOnly: false,
    })
    const twilio = await startTwilioServer()
    const prefix = `ha:${randomUUID()}:`
    const node = (): ServiceProcess =>
      spawnService({
        args: ['--import', 'tsx', 'service/main.ts', 'start'],
        env: {
          VIGIE_ROLES: 'notifier',
          REDIS_SENTINELS: set.sentinels,
          REDIS_SENTINEL_NAME: set.name,
          REDIS_PREFIX: prefix,
          VIGIE_REDIS_REPLICAS_ACK: '1',
          // The stalled job is another worker's within seconds, not 30 s; under load a lock of 1-2 s lapses
          // in a live node too (its renewal late), whose own worker then settles the send the same way.
          VIGIE_DELIVERY_LOCK: '5s',
          TWILIO_ACCOUNT_SID: accountSid,
          TWILIO_AUTH_TOKEN: 'ha-test-auth-token-0123456789',
          TWILIO_FROM: '+33100000000',
          TWILIO_API_URL: twilio.url,
        },
      })
    const first = node()
    let second: ServiceProcess | undefined
    const redis = await openClient({ sentinels: sentinelsOf(set.sentinels), name: set.name }, 5000)
    const replica = new Redis(set.servers[1]?.url ?? '', { lazyConnect: true })
    const keys = notificationKeys(prefix)
    const store = createNotificationStore({ redis, keys })
    // Only the queue's enqueue: the nodes' workers send.
    const asker = createDelivery({ redis, prefix, channels: {}, store, log: silent, clock: systemClock })
    try {
      await first.waitForLine(/"msg":"notifier started"/, 60_000)
      twilio.holdAnswers()
      const request: NotificationRequest = {
        key: 'ha:offer:1',
        ticket: null,
        event: '1-0',
        audience: 'staff',
        recipient: 'tech-1',
        template: 'offer',
        contacts: [{ channel: 'sms', to }],
        content: { sms: { text: 'Door forced at gate 1. Reply 1 to accept.' } },
      }
      const id = 'ha:offer:1|sms'
      await asker.enqueue(request)
      await waitFor(() => twilio.accepted().length === 1, { timeoutMs: 30_000, what: 'the SMS accepted' })
      const firstSid = twilio.accepted()[0]?.sid
      // Acknowledged means replicated: the start was on the replica before Twilio was called.
      await replica.connect()
      const onReplica = notificationSchema.parse(
        JSON.parse((await replica.get(keys.notification(id))) ?? '{}'),
      )
      expect(onReplica).toMatchObject({ status: 'queued', attempts: 1, sendStartedAt: expect.any(String) })

      // A second node, up while the first still waits for Twilio's answer.
      second = node()
      await second.waitForLine(/"msg":"notifier started"/, 60_000)
      const killedAt = Date.now()
      expect(await first.stop('SIGKILL')).toBe('SIGKILL')
      // Answered at once from now on: a second send, were there one, would be recorded and counted.
      twilio.releaseAnswers()
      const record = await waitFor(
        async () => {
          const found = await store.get(id)
          return found?.status === 'sent' ? found : undefined
        },
        { timeoutMs: 30_000, what: 'the SMS recorded sent' },
      )
      const takenOverMs = Date.now() - killedAt
      const creates = twilio.accepted().length
      const lookups = twilio.lookups().length
      console.log(
        `sms send killed: ${creates} message(s) accepted by Twilio for ${to}, ${lookups} lookup(s), ` +
          `record ${record.status} with the first sid ${record.providerId === firstSid} ` +
          `after ${takenOverMs} ms`,
      )
      expect(creates).toBe(1)
      expect(lookups).toBeGreaterThanOrEqual(1)
      expect(twilio.lookups()[0]?.query).toMatchObject({ To: to, From: '+33100000000' })
      expect(record).toMatchObject({ providerId: firstSid, attempts: 1, sendStartedAt: null })
      // Its log line may reach this process after the record does; on a loaded machine the first node's own
      // worker may have settled it before the kill, its lock having lapsed under it.
      const asked = /"found":true.*"msg":"a send was cut off: the provider asked"/
      const by = await waitFor(
        () => (asked.test(second?.output() ?? '') ? 'second' : asked.test(first.output()) ? 'first' : false),
        { timeoutMs: 10_000, what: 'the lookup logged' },
      )
      console.log(`sms send killed: the ${by} node asked Twilio`)
      expect(await second.stop('SIGTERM')).toBe(0)
    } finally {
      await first.stop('SIGKILL')
      await second?.stop('SIGKILL')
      await asker.close()
      replica.disconnect()
      await redis.quit()
      await twilio.close()
      await set.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)
})

function sentinelsOf(list: string): { host: string; port: number }[] {
  return list.split(',').map((part) => {
    const [host = '', port = ''] = part.split(':')
    return { host, port: Number(port) }
  })
}
