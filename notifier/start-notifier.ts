import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Settings, SiteFile, Technician } from '../config/index.ts'
import type { Clock } from '../domain/index.ts'
import { ruleKeys, type TicketStore } from '../rules/index.ts'
import { createFailedWorkLog, createReplicaWait, streamKeys } from '../streams/index.ts'
import { createChannels } from './channels.ts'
import { createCustomerBook } from './customer-book.ts'
import { createCustomerNotices } from './customer-notices.ts'
import { createDelivery } from './delivery-queue.ts'
import { createDigests, defaultDigest } from './digests.ts'
import { createEventConsumer } from './event-consumer.ts'
import { notificationKeys } from './keys.ts'
import { createNotificationStore } from './notification-store.ts'
import { createSentLookups } from './sent-lookup.ts'
import { createLinkSigner } from './signed-links.ts'
import { createStaffNotices } from './staff-notices.ts'
import { createSurveyAnswers } from './survey-answers.ts'
import { createSurveyLinks } from './survey-links.ts'
import { createTwilioClient } from './twilio-client.ts'
import { webhookPausedRequests } from './webhook-paused-notice.ts'
import { startWebhooks, type WebhookSettings } from './webhook-role.ts'

type NotifierSettings = Pick<
  Settings,
  | 'redisPrefix'
  | 'publicUrl'
  | 'smtpUrl'
  | 'mailFrom'
  | 'twilioAccountSid'
  | 'twilioAuthToken'
  | 'twilioFrom'
  | 'twilioApiUrl'
  | 'twilioWhatsappFrom'
  | 'redisReplicasAck'
  | 'redisReplicasAckTimeout'
  | 'deliveryLock'
  | 'surveyLinkLifetime'
> &
  WebhookSettings

/** The notifier role: events in, messages out, each outcome on its ticket's timeline. */
export async function startNotifier({
  redis,
  settings,
  site,
  tickets,
  technicianOf,
  log,
  clock,
}: {
  redis: Redis
  settings: NotifierSettings
  site: SiteFile
  tickets: TicketStore
  technicianOf: (id: string) => Promise<Technician | null>
  log: Logger
  clock: Clock
}) {
  const prefix = settings.redisPrefix
  const { twilioAccountSid: accountSid, twilioAuthToken: authToken } = settings
  const twilio =
    accountSid && authToken
      ? createTwilioClient({ accountSid, authToken, apiUrl: settings.twilioApiUrl, clock })
      : undefined
  const channels = createChannels({
    twilio,
    from: settings.twilioFrom,
    whatsappFrom: settings.twilioWhatsappFrom,
    smtpUrl: settings.smtpUrl,
    mailFrom: settings.mailFrom,
  })
  const onWhatsapp = site.customers.filter((c) => c.contacts.some((contact) => 'whatsapp' in contact))
  if (onWhatsapp.length > 0 && !channels.whatsapp)
    log.warn(
      { customers: onWhatsapp.length },
      'WhatsApp contacts with no TWILIO_WHATSAPP_FROM: each fails over to the next contact',
    )
  const keys = notificationKeys(prefix)
  const store = createNotificationStore({ redis, keys })
  const links = await createLinkSigner({ redis, key: keys.linkSecret })
  const surveys = createSurveyAnswers({
    redis,
    prefix,
    tickets,
    notifications: store,
    linkLifetimeMs: settings.surveyLinkLifetime,
  })
  // The question a ticket's customers were asked: its site's (issue 18).
  const surveyKindOf = async (ticket: string) => {
    const siteId = (await tickets.get(ticket))?.site
    return site.sites.find((s) => s.id === siteId)?.survey ?? 'csat'
  }
  const delivery = createDelivery({
    redis,
    prefix,
    channels,
    store,
    log,
    clock,
    sentLookups: createSentLookups({
      twilio,
      from: settings.twilioFrom,
      whatsappFrom: settings.twilioWhatsappFrom,
    }),
    // The store writes through `redis`: WAIT on it counts those writes.
    replicated: createReplicaWait({
      redis,
      replicas: settings.redisReplicasAck,
      timeoutMs: settings.redisReplicasAckTimeout,
    }),
    lockMs: settings.deliveryLock,
    ...(twilio ? { statusCallbackUrl: `${settings.publicUrl}/webhooks/twilio/status` } : {}),
    digests: createDigests({ redis, prefix, settings: defaultDigest, clock }),
    optedOut: async (to) => (await redis.sismember(keys.optedOut, to)) === 1,
    onOutcome: async (notification) => {
      if (!notification.ticket) return
      // The survey's answer comes back as an SMS from this number: it is filed on this ticket.
      if (notification.template === 'survey' && notification.status === 'sent')
        await surveys.pend({
          to: notification.to,
          ticket: notification.ticket,
          customer: notification.recipient,
          kind: await surveyKindOf(notification.ticket),
        })
      const what = `${notification.channel} to ${notification.recipient} (${notification.template})`
      await tickets.note(
        notification.ticket,
        notification.status === 'sent' ? 'ticket.notified' : 'ticket.notification_failed',
        'notifier',
        clock.now(),
        notification.error ? `${what}: ${notification.error}` : what,
      )
    },
  })
  const customerBook = createCustomerBook({ redis, prefix, customers: site.customers })
  await customerBook.seed()
  const consumerRedis = redis.duplicate()
  const consumer = createEventConsumer({
    redis: consumerRedis,
    eventsKey: ruleKeys(prefix).events,
    notices: [
      createStaffNotices({
        world: site,
        technicianOf,
        offersOf: (technician) => tickets.offersOf(technician),
        links,
        publicUrl: settings.publicUrl,
      }),
      createCustomerNotices({
        world: site,
        customers: customerBook.subscribedTo,
        surveyLinks: createSurveyLinks({
          links,
          publicUrl: settings.publicUrl,
          lifetimeMs: settings.surveyLinkLifetime,
        }),
      }),
    ],
    enqueue: (request) => delivery.enqueue(request),
    otherRequests: (event, eventId) =>
      webhookPausedRequests({ world: site, publicUrl: settings.publicUrl, event, eventId }),
    failedWork: createFailedWorkLog({ redis, keys: streamKeys(prefix) }),
    logger: log,
    now: clock.now,
  })
  delivery.start()
  await consumer.start()
  const webhooks = await startWebhooks({
    redis,
    settings,
    webhooks: site.webhooks,
    eventsKey: ruleKeys(prefix).events,
    failedWork: createFailedWorkLog({ redis, keys: streamKeys(prefix) }),
    clock,
    log: log.child({ part: 'webhooks' }),
  })
  log.info({ channels: Object.keys(channels).filter((c) => c !== 'close') }, 'notifier started')
  let closed = false
  return {
    /** Consuming: started, not closed, its reading connection up (issue 17). */
    isReady: () => !closed && consumerRedis.status === 'ready' && webhooks.isReady(),
    close: async () => {
      closed = true
      await webhooks.close()
      await consumer.close()
      await delivery.close()
      channels.close()
    },
  }
}
