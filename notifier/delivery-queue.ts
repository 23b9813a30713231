import { createHash } from 'node:crypto'
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { type Clock, escapeHtml, isVigieError } from '../domain/index.ts'
import type { ReplicaWait } from '../streams/index.ts'
import type { Channel, ChannelName, Content } from './channels.ts'
import type { TransientDetails } from './delivery-error.ts'
import type { Digests } from './digests.ts'
import { notificationKeys } from './keys.ts'
import {
  type DeliveryJob,
  deliveryJobSchema,
  type Notification,
  type NotificationRequest,
} from './notification-schema.ts'
import type { NotificationStore } from './notification-store.ts'
import type { SentLookup } from './sent-lookup.ts'

export type RetrySettings = { attempts: number; baseDelayMs: number; maxDelayMs: number }

// Eight attempts ride out an outage of two minutes at least (1 + 2 + 4 + … + 64 s with the jitter's lowest draws).
export const defaultRetry: RetrySettings = { attempts: 8, baseDelayMs: 2000, maxDelayMs: 5 * 60_000 }

/** Exponential, with jitter so that a provider coming back is not hit by every retry at once. */
export function backoffDelay(
  attemptsMade: number,
  { baseDelayMs, maxDelayMs }: RetrySettings,
  random = Math.random,
) {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attemptsMade - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

const queueName = 'deliveries'

// Messages that ask for an answer go out on their own, whatever the rate.
const actionable = new Set(['offer', 'offer-call', 'survey', 'digest'])

/** One digest per recipient, channel and window: its key makes a second request for it a no-op. */
function digestRequest(
  request: NotificationRequest,
  target: NotificationRequest['contacts'][number],
  digestAt: number,
): NotificationRequest {
  return {
    key: `digest:${request.recipient}:${digestAt - (digestAt % 1000)}`,
    ticket: null,
    event: request.event,
    audience: request.audience,
    recipient: request.recipient,
    template: 'digest',
    contacts: [target],
    content: {},
    notBefore: digestAt,
  }
}

/**
 * The delivery queue (BullMQ): each job sends one notification on one channel. The record in the
 * notification store, keyed by (ticket, event, recipient, channel), is checked before every send, so no
 * retry, restart or duplicate event sends a message twice; BullMQ's jobId alone does not dedupe once a
 * job is removed (DESIGN.md § Known defects). After the last attempt, the recipient's next contact.
 * A send is noted as begun (and replicated) before the provider is called: a job that finds one begun
 * with no outcome (its node died mid-send) asks the provider before sending again (issue 17).
 */
export function createDelivery({
  redis,
  prefix,
  channels,
  store,
  log,
  retry = defaultRetry,
  statusCallbackUrl,
  onOutcome,
  concurrency = 8,
  optedOut = async () => false,
  digests,
  closeGraceMs = 2000,
  clock,
  sentLookups = {},
  replicated = async () => {},
  lockMs = 30_000,
}: {
  /** The connection BullMQ's are made from (duplicates: same server, same Sentinel, same name). */
  redis: Redis
  prefix: string
  channels: Partial<Record<ChannelName, Channel>>
  store: NotificationStore
  log: Logger
  retry?: RetrySettings
  /** Where Twilio posts delivery status (PUBLIC_URL + /webhooks/twilio/status). */
  statusCallbackUrl?: string
  /** Sent, or failed for good: the caller notes it on the ticket's timeline. */
  onOutcome?: (notification: Notification, request: NotificationRequest) => Promise<void>
  concurrency?: number
  /** A number that replied STOP gets no SMS or call until it replies START. */
  optedOut?: (to: string) => Promise<boolean>
  /** Folds bursts to one recipient into one digest; actionable messages (offers, surveys) are never folded. */
  digests?: Digests
  /** How long a stop waits for sends under way; past it they are left to BullMQ's stalled-job check. */
  closeGraceMs?: number
  /** Queue and send times; BullMQ's own delays and retries run on Redis's clock. */
  clock: Clock
  /** Per channel, how to ask its provider whether a send cut off went out. */
  sentLookups?: Partial<Record<ChannelName, SentLookup>>
  /** Waits until the store's writes (made through `redis`) are on enough replicas. */
  replicated?: ReplicaWait
  /** How long a job's lock holds without renewal: a dead node's sends are taken over within about twice it. */
  lockMs?: number
}) {
  // BullMQ blocks on its connections and wants them to retry forever.
  const connection = redis.duplicate({ maxRetriesPerRequest: null })
  const workerConnection = redis.duplicate({ maxRetriesPerRequest: null })
  const bullPrefix = notificationKeys(prefix).bull
  const queue = new Queue<DeliveryJob>(queueName, { connection, prefix: bullPrefix })
  const idOf = (request: NotificationRequest, contact: number) =>
    `${request.key}|${request.contacts[contact]?.channel ?? 'none'}`

  const recordFor = (request: NotificationRequest, contact: number): Notification => ({
    id: idOf(request, contact),
    ticket: request.ticket,
    event: request.event,
    audience: request.audience,
    recipient: request.recipient,
    channel: request.contacts[contact]?.channel ?? 'sms',
    to: request.contacts[contact]?.to ?? '',
    template: request.template,
    status: 'queued',
    attempts: 0,
    sentAt: null,
    sendStartedAt: null,
    providerId: null,
    error: null,
  })

  async function enqueue(request: NotificationRequest, contact = 0): Promise<void> {
    const id = idOf(request, contact)
    // Visible as queued at once, held ones (quiet hours) included.
    const now = clock.now()
    await store.open(recordFor(request, contact), now)
    await queue.add(
      'deliver',
      { request, contact },
      {
        // A hash: BullMQ ids may not hold the ':' of ours.
        jobId: createHash('sha256').update(id).digest('hex').slice(0, 40),
        attempts: retry.attempts,
        backoff: { type: 'vigie' },
        ...(request.notBefore && request.notBefore > now ? { delay: request.notBefore - now } : {}),
        removeOnComplete: 1000,
        removeOnFail: 5000,
      },
    )
  }

  async function giveUp(record: Notification, request: NotificationRequest, contact: number) {
    await store.save(record)
    log.warn({ notification: record.id, channel: record.channel, error: record.error }, 'notification failed')
    await onOutcome?.(record, request)
    if (contact + 1 < request.contacts.length) await enqueue(request, contact + 1)
  }

  async function sent(record: Notification, request: NotificationRequest, providerId: string) {
    const done: Notification = {
      ...record,
      status: 'sent',
      providerId,
      sentAt: new Date(clock.now()).toISOString(),
      sendStartedAt: null,
      error: null,
    }
    await store.save(done)
    await onOutcome?.(done, request)
    // After the timeline's note too: both were written on this connection, one WAIT covers them.
    await replicated()
  }

  /** A failed attempt or lookup: kept for a retry when transient, else the recipient's next contact. */
  async function failed(
    job: Job<DeliveryJob>,
    record: Notification,
    request: NotificationRequest,
    contact: number,
    error: unknown,
  ): Promise<never> {
    const transient =
      isVigieError(error) && (error.code === 'DELIVERY_TRANSIENT' || error.code === 'REDIS_NOT_REPLICATED')
    const message = error instanceof Error ? error.message : String(error)
    if (!transient || job.attemptsMade + 1 >= retry.attempts) {
      await giveUp({ ...record, status: 'failed', sendStartedAt: null, error: message }, request, contact)
      throw new UnrecoverableError(message)
    }
    // The provider may have taken it without answering (or could not be asked): the retry asks first.
    const unknown = (error.details as TransientDetails | undefined)?.outcomeUnknown === true
    await store.save({ ...record, ...(unknown ? {} : { sendStartedAt: null }), error: message })
    throw error
  }

  /** A send begun and never finished: the provider's id when it went out, null when it did not. */
  async function reconcile(record: Notification, content: Content | null): Promise<string | null> {
    const lookup = sentLookups[record.channel]
    const noted = log.child({ notification: record.id, channel: record.channel })
    if (!lookup || !record.sendStartedAt) {
      noted.warn('a send was cut off and its provider cannot be asked: sending again')
      return null
    }
    const providerId = await lookup(record.to, content?.text ?? null, Date.parse(record.sendStartedAt))
    noted.info({ found: providerId !== null }, 'a send was cut off: the provider asked')
    return providerId
  }

  async function deliver(job: Job<DeliveryJob>): Promise<void> {
    // The job's data comes back from Redis: parsed, not trusted.
    const { request, contact } = deliveryJobSchema.parse(job.data)
    const target = request.contacts[contact]
    if (!target) throw new UnrecoverableError(`no contact ${contact}`)
    let record = await store.open(recordFor(request, contact), clock.now())
    if (record.status !== 'queued') return // sent, delivered, failed or suppressed already: never twice
    let content = request.content[target.channel] ?? { text: request.template }
    if (record.sendStartedAt !== null) {
      let found: string | null
      try {
        // A digest's texts were taken by the send cut off: any message to the number then is it.
        found = await reconcile(record, request.template === 'digest' ? null : content)
      } catch (error) {
        return failed(job, record, request, contact, error)
      }
      if (found !== null) return sent(record, request, found)
    }
    if (target.channel !== 'email' && (await optedOut(target.to))) {
      await giveUp({ ...record, status: 'suppressed', error: 'opted out (STOP)' }, request, contact)
      return
    }
    const send = channels[target.channel]
    if (!send) {
      await giveUp(
        { ...record, status: 'failed', error: `${target.channel} is not configured` },
        request,
        contact,
      )
      throw new UnrecoverableError(`${target.channel} is not configured`)
    }
    if (digests && request.template === 'digest') {
      const texts = await digests.take(target.channel, target.to)
      if (texts.length === 0 && record.attempts === 0)
        return void (await store.save({ ...record, status: 'suppressed' }))
      if (texts.length > 0)
        content = {
          text: texts.join('\n'),
          subject: `${texts.length} updates`,
          html: texts.map((t) => `<p>${escapeHtml(t)}</p>`).join(''),
        }
    } else if (digests && record.attempts === 0 && !actionable.has(request.template)) {
      const admitted = await digests.admit(target.channel, target.to, content.text)
      if (admitted !== 'send') {
        await store.save({ ...record, status: 'suppressed', error: 'folded into a digest' })
        await enqueue(digestRequest(request, target, admitted.digestAt))
        return
      }
    }
    record = {
      ...record,
      attempts: record.attempts + 1,
      sendStartedAt: new Date(clock.now()).toISOString(),
    }
    // Noted and replicated before the provider is called: whoever runs this job next knows it began.
    await store.save(record)
    let providerId: string
    try {
      await replicated()
      providerId = await send(
        target.to,
        content,
        statusCallbackUrl ? { statusCallback: statusCallbackUrl } : {},
      )
    } catch (error) {
      return failed(job, record, request, contact, error)
    }
    await sent(record, request, providerId)
  }

  let worker: Worker<DeliveryJob> | undefined
  return {
    enqueue,
    queue,
    start: () => {
      worker = new Worker<DeliveryJob>(queueName, deliver, {
        connection: workerConnection,
        prefix: bullPrefix,
        concurrency,
        // A node that died holds its sends this long; every worker looks for such jobs as often.
        lockDuration: lockMs,
        stalledInterval: lockMs,
        settings: {
          // A provider's Retry-After wins; otherwise exponential with jitter.
          backoffStrategy: (attemptsMade, _type, err) => {
            const details = isVigieError(err)
              ? (err.details as { retryAfterMs?: number } | undefined)
              : undefined
            return details?.retryAfterMs ?? backoffDelay(attemptsMade, retry)
          },
        },
      })
      worker.on('failed', (job, err) => {
        log.info({ job: job?.id, attempts: job?.attemptsMade, err }, 'delivery attempt failed')
      })
      worker.on('error', (err) => log.error({ err }, 'delivery worker error'))
    },
    close: async () => {
      // A provider that does not answer (Twilio gives up after 15 s, SMTP after minutes) must not hold the
      // service's stop: the job's lock then lapses and the next start runs it again.
      const closing = worker
        ?.close()
        .catch((err: unknown) => log.warn({ err }, 'delivery worker close failed'))
      let timer: NodeJS.Timeout | undefined
      const graceOver = new Promise<'grace over'>((resolve) => {
        timer = setTimeout(() => resolve('grace over'), closeGraceMs)
      })
      if ((await Promise.race([closing, graceOver])) === 'grace over')
        log.warn({ closeGraceMs }, 'deliveries still under way at the stop: left for the next start')
      clearTimeout(timer)
      await queue.close()
      connection.disconnect()
      workerConnection.disconnect()
    },
  }
}

export type Delivery = ReturnType<typeof createDelivery>

/** The delivery queue's job counts, for /metrics in a process that does not deliver (the API). */
export function createDeliveryQueueCounts({ redis, prefix }: { redis: Redis; prefix: string }) {
  const connection = redis.duplicate({ maxRetriesPerRequest: null })
  const queue = new Queue(queueName, { connection, prefix: notificationKeys(prefix).bull })
  return {
    counts: async (): Promise<Record<string, number>> =>
      queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'completed'),
    close: async () => {
      await queue.close()
      connection.disconnect()
    },
  }
}
